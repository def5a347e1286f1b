import { z } from 'zod';
import { Ed25519SignatureB64, InstitutionId, IsoDateTime } from './common.js';

const Head = z.string().regex(/^[0-9a-f]{2,256}$/);

/**
 * The coordinator's signed statement of the newest audit-log head it saw from an institution
 * (`GET /v1/institutions/me/audit-head`, issue 6). `head` is the newest `sb-audit-head` of any
 * signed request *before* this one (null when none was seen); `history` lists every distinct
 * head seen before this request (first sighting, oldest first), so a truncation stays visible
 * after later requests; `request_head` is the head this request carried. `coordinator_signature` covers the other fields (purpose
 * `audit-head-attestation`).
 */
export const AuditHeadAttestationSchema = z
  .object({
    type: z.literal('sectorbench.audit-head-attestation'),
    version: z.literal(1),
    institution_id: InstitutionId,
    head: Head.nullable(),
    seen_at: IsoDateTime.nullable(),
    /** Request target (path and query) of the request that carried `head`. */
    path: z.string().nullable(),
    history: z.array(z.object({ head: Head, seen_at: IsoDateTime, path: z.string() }).strict()),
    request_head: Head.nullable(),
    attested_at: IsoDateTime,
    coordinator_signature: Ed25519SignatureB64,
  })
  .strict();

export type AuditHeadAttestation = z.infer<typeof AuditHeadAttestationSchema>;
