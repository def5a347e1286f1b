import { z } from 'zod';
import {
  Ed25519SignatureB64,
  HE_PARAMS_V1,
  InstitutionId,
  IsoDateTime,
  METRIC_SPEC_V1,
  NonceB64,
  RoundId,
  Sha256Hex,
  SLOT_LAYOUT_V1,
} from './common.js';

/**
 * Signed envelope of one institution's contribution to one round. The signature (Ed25519, by
 * the institution) covers the RFC 8785 canonical JSON of all other fields, prefixed with
 * `sectorbench/v1/contribution-envelope\n`. The ciphertexts travel next to it in the binary
 * wire format and are bound by their SHA-256 digests, in layout order.
 */
export const ContributionEnvelopeSchema = z
  .object({
    type: z.literal('sectorbench.contribution-envelope'),
    version: z.literal(1),
    round_id: RoundId,
    institution_id: InstitutionId,
    metric_spec: METRIC_SPEC_V1,
    codebook_digest: Sha256Hex,
    slot_layout: SLOT_LAYOUT_V1,
    he_params: HE_PARAMS_V1,
    he_public_key_digest: Sha256Hex,
    ciphertext_digests: z.array(Sha256Hex).min(1).max(1024),
    created_at: IsoDateTime,
    nonce: NonceB64,
    signature: Ed25519SignatureB64,
  })
  .strict();

export type ContributionEnvelope = z.infer<typeof ContributionEnvelopeSchema>;
export type UnsignedContributionEnvelope = Omit<ContributionEnvelope, 'signature'>;
