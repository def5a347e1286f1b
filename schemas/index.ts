import type { z } from 'zod';
import { AirgapRequestFileSchema, AirgapResponseFileSchema } from './airgap.js';
import { ApprovalSchema } from './approval.js';
import { AuditHeadAttestationSchema } from './audit-head.js';
import { CoordinatorConfigSchema, KeyHolderConfigSchema, NodeConfigSchema } from './config.js';
import { CustodianKeyFileSchema, CustodyShareFileSchema, SealedKeyFileSchema } from './custody.js';
import { ContributionEnvelopeSchema } from './envelope.js';
import { RoundManifestSchema } from './manifest.js';
import { ReceiptSchema } from './receipt.js';
import { ReleaseSchema } from './release.js';
import {
  PhaseAckSchema,
  PhaseMessageSchema,
  PhaseRelaySchema,
  SecAggBundleSchema,
  SecAggStatusSchema,
} from './secagg.js';

export * from './airgap.js';
export * from './approval.js';
export * from './audit-head.js';
export * from './common.js';
export * from './config.js';
export * from './custody.js';
export * from './envelope.js';
export * from './manifest.js';
export * from './receipt.js';
export * from './release.js';
export * from './secagg.js';

/** Every protocol message, manifest, receipt, release and config file, by JSON Schema file name. */
export const SCHEMAS: Readonly<Record<string, z.ZodType>> = Object.freeze({
  'round-manifest': RoundManifestSchema,
  'contribution-envelope': ContributionEnvelopeSchema,
  receipt: ReceiptSchema,
  'audit-head-attestation': AuditHeadAttestationSchema,
  approval: ApprovalSchema,
  release: ReleaseSchema,
  'node-config': NodeConfigSchema,
  'coordinator-config': CoordinatorConfigSchema,
  'key-holder-config': KeyHolderConfigSchema,
  'sealed-bfv-secret-key': SealedKeyFileSchema,
  'custody-share': CustodyShareFileSchema,
  'custodian-key': CustodianKeyFileSchema,
  'secagg-message': PhaseMessageSchema,
  'secagg-ack': PhaseAckSchema,
  'secagg-relay': PhaseRelaySchema,
  'secagg-status': SecAggStatusSchema,
  'secagg-bundle': SecAggBundleSchema,
  'airgap-requests': AirgapRequestFileSchema,
  'airgap-responses': AirgapResponseFileSchema,
});
