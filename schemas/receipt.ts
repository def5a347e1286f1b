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
    coordinator_signature: Ed25519SignatureB64,
  })
  .strict();

export type Receipt = z.infer<typeof ReceiptSchema>;
