import { z } from 'zod';
import { Ed25519PublicKeyB64, Ed25519SignatureB64, InstitutionId, IsoDateTime, RoundId, Sha256Hex } from './common.js';

/**
 * A privacy officer's approval of exactly one contribution (issue 6; node/audit/README.md):
 * the round, the institution and the digest of the vector that will be encrypted
 * (`vector_digest`, see node/audit/vector-digest.ts), plus the number of bytes the preview
 * announced, and `late` when it approves a late (unmasked) contribution. `signature` is the approver's Ed25519 signature (purpose `approval`) over the
 * RFC 8785 JSON of all other fields.
 */
export const ApprovalSchema = z
  .object({
    type: z.literal('sectorbench.approval'),
    version: z.literal(1),
    round_id: RoundId,
    institution_id: InstitutionId,
    vector_digest: Sha256Hex,
    wire_bytes: z.number().int().positive(),
    approved_at: IsoDateTime,
    approver_name: z.string().min(1).max(200),
    approver_public_key: Ed25519PublicKeyB64,
    /**
     * Present when the officer approved sending this vector as a late contribution to a
     * released round, which goes unmasked (issue 16; DECISIONS 84): signed like every other
     * field, so an approval given under the masked protection never covers a late submission.
     */
    late: z.literal(true).optional(),
    signature: Ed25519SignatureB64,
  })
  .strict();

export type Approval = z.infer<typeof ApprovalSchema>;
