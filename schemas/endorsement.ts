import { z } from 'zod';
import { Ed25519PublicKeyB64, Ed25519SignatureB64, HE_PARAMS_V1, IsoDateTime, RoundId, Sha256Hex } from './common.js';
import { ParticipantListSchema, ThresholdsSchema } from './manifest.js';
import { MaskingEndorsementSchema } from './secagg.js';

/**
 * The key holder's endorsement of a round (`sectorbench keyholder endorse`): the round key and
 * the thresholds it will enforce. The coordinator copies `ed25519_public_key` and `signature`
 * into the manifest's `key_holder_endorsement`; the signature covers the canonical JSON of
 * `{round_id, he_params, he_public_key_digest, max_participants, thresholds}` plus
 * `masking` when the round is masked (purpose
 * `key-holder-endorsement`).
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round", step 1
 */
export const EndorsementFileSchema = z
  .object({
    type: z.literal('sectorbench.key-holder-endorsement'),
    version: z.literal(1),
    round_id: RoundId,
    he_params: HE_PARAMS_V1,
    he_public_key_digest: Sha256Hex,
    max_participants: z.number().int().min(1).max(100000),
    thresholds: ThresholdsSchema,
    /** The participants the key holder enrolled itself and vouches for (issue 11); the manifest's list must be exactly this. */
    participants: ParticipantListSchema,
    /** Secure aggregation (issue 10): threshold t, mask graph and reveal key; absent for an unmasked round. */
    masking: MaskingEndorsementSchema.optional(),
    endorsed_at: IsoDateTime,
    ed25519_public_key: Ed25519PublicKeyB64,
    signature: Ed25519SignatureB64,
  })
  .strict();
export type EndorsementFile = z.infer<typeof EndorsementFileSchema>;
