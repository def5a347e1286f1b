import { AuditHeadAttestationSchema, type AuditHeadAttestation } from '../../schemas/audit-head.js';
import { PURPOSE } from './round-documents.js';
import { signObject, verifyObject } from './signed-object.js';

export type { AuditHeadAttestation };

/** Coordinator: sign an audit-head attestation (purpose `audit-head-attestation`, field `coordinator_signature`). */
export function signAuditHeadAttestation(
  a: Omit<AuditHeadAttestation, 'coordinator_signature'>,
  secretKey: Uint8Array,
): AuditHeadAttestation {
  return AuditHeadAttestationSchema.parse(signObject(PURPOSE.auditHead, { ...a }, 'coordinator_signature', secretKey));
}

/** Verify an attestation's schema and the coordinator's signature; false on any mismatch. */
export function verifyAuditHeadAttestation(a: unknown, coordinatorKey: Uint8Array): a is AuditHeadAttestation {
  const parsed = AuditHeadAttestationSchema.safeParse(a);
  if (!parsed.success) return false;
  return verifyObject(PURPOSE.auditHead, parsed.data, 'coordinator_signature', coordinatorKey);
}
