import { z } from 'zod';
import { Ed25519SignatureB64, InstitutionId, IsoDateTime, RoundId, Sha256Hex } from './common.js';

/**
 * The coordinator's signed receipt for a contribution (ARCHITECTURE.md "The round", step 2).
 * `envelope_digest` is SHA-256 of the envelope's canonical bytes (signature included);
 * `coordinator_signature` covers the other fields (purpose `receipt`).
 */
export const ReceiptSchema = z
  .object({
    type: z.literal('sectorbench.receipt'),
    version: z.literal(1),
    round_id: RoundId,
    institution_id: InstitutionId,
    envelope_digest: Sha256Hex,
    wire_bytes: z.number().int().positive(),
    received_at: IsoDateTime,
    sequence: z.number().int().nonnegative(),
    /** The node's audit-log chain head sent with the request (`sb-audit-head`), when present. */
    audit_head: z
      .string()
      .regex(/^[0-9a-f]{2,256}$/)
      .optional(),
    coordinator_signature: Ed25519SignatureB64,
  })
  .strict();

export type Receipt = z.infer<typeof ReceiptSchema>;
