import { z } from 'zod';
import { Ed25519SignatureB64, InstitutionId, RoundId, Sha256Hex } from './common.js';

/**
 * Messages of the secure-aggregation core (shared/secagg; Bonawitz et al., CCS 2017, rounds 0, 1
 * and 4 and the consistency check). The coordinator relays them; it cannot read the boxes.
 * Every byte string is standard padded base64.
 */

const b64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'standard base64')
    .refine(
      (s) => Buffer.from(s, 'base64').length === bytes && Buffer.from(s, 'base64').toString('base64') === s,
      `base64 of exactly ${bytes} bytes`,
    );
const b64Any = z
  .string()
  .max(2_000_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'standard base64')
  .refine((s) => Buffer.from(s, 'base64').toString('base64') === s, 'canonical base64');

/** X25519 public key (32 bytes), base64. */
export const X25519PublicKeyB64 = b64(32);
/** nacl.box nonce (24 bytes), base64. */
export const BoxNonceB64 = b64(24);

/**
 * Advertise keys (round 0): a node's two X25519 public keys for one round, and a commitment to
 * its self-mask seed, signed with its Ed25519 identity (purpose `secagg-keys`).
 */
export const AdvertisedKeysSchema = z
  .object({
    type: z.literal('sectorbench.secagg-keys'),
    version: z.literal(1),
    round_id: RoundId,
    institution_id: InstitutionId,
    /** X25519 key the node's Shamir shares are encrypted to (nacl.box), "c" in Bonawitz et al. */
    box_public_key: X25519PublicKeyB64,
    /** X25519 key of the pairwise-mask key agreement (nacl.scalarMult), "s" in Bonawitz et al. */
    mask_public_key: X25519PublicKeyB64,
    /** SHA-256 commitment to the self-mask seed (domain-separated; lets the key holder check a reconstruction). */
    self_seed_commitment: Sha256Hex,
    signature: Ed25519SignatureB64,
  })
  .strict();
export type AdvertisedKeys = z.infer<typeof AdvertisedKeysSchema>;

/** Share keys (round 1): one peer's two Shamir shares, in a nacl.box from sender to recipient. */
export const EncryptedSharesSchema = z
  .object({
    type: z.literal('sectorbench.secagg-shares'),
    version: z.literal(1),
    round_id: RoundId,
    from: InstitutionId,
    to: InstitutionId,
    nonce: BoxNonceB64,
    box: b64Any,
  })
  .strict();
export type EncryptedShares = z.infer<typeof EncryptedSharesSchema>;

/**
 * Consistency check, version 1 (still accepted, no longer made): a survivor's signature (purpose
 * `secagg-survivors`) over the round, the set it masked with (`shared`: every node whose shares it
 * holds, itself included) and the survivor set (`survivors`: those whose masked input the
 * coordinator says it has), both sorted. Each signature carries both lists, so relaying every
 * survivor's signature to every node is O(n^2) bytes per node.
 */
export const SurvivorSetSignatureV1Schema = z
  .object({
    type: z.literal('sectorbench.secagg-survivors'),
    version: z.literal(1),
    round_id: RoundId,
    institution_id: InstitutionId,
    shared: z.array(InstitutionId).min(1).max(100000),
    survivors: z.array(InstitutionId).min(1).max(100000),
    signature: Ed25519SignatureB64,
  })
  .strict();

/**
 * Consistency check, version 2 (what `signSurvivorSet` makes): the same signature over the round
 * and `sets_digest`, the SHA-256 (hex) of the canonical JSON of `{shared, survivors}` (both
 * sorted; shared/secagg `setsDigest`) instead of the two lists. The sets themselves reach every
 * node once, as the members of the share and masked-input relays; each signature is then a
 * constant size (about 300 bytes) and checking one costs the same whatever n is.
 */
export const SurvivorSetSignatureV2Schema = z
  .object({
    type: z.literal('sectorbench.secagg-survivors'),
    version: z.literal(2),
    round_id: RoundId,
    institution_id: InstitutionId,
    sets_digest: Sha256Hex,
    signature: Ed25519SignatureB64,
  })
  .strict();

/** A survivor-set signature of either version (the checker accepts both, each over the same sets). */
export const SurvivorSetSignatureSchema = z.discriminatedUnion('version', [
  SurvivorSetSignatureV1Schema,
  SurvivorSetSignatureV2Schema,
]);
export type SurvivorSetSignature = z.infer<typeof SurvivorSetSignatureSchema>;

/** Unmasking (round 4): a survivor's reveal, in a nacl.box from its box key to the key holder's reveal key. */
export const EncryptedRevealSchema = z
  .object({
    type: z.literal('sectorbench.secagg-reveal'),
    version: z.literal(1),
    round_id: RoundId,
    from: InstitutionId,
    /** SHA-256 of the canonical JSON of `{shared, survivors}` the reveal was made for. */
    sets_digest: Sha256Hex,
    nonce: BoxNonceB64,
    box: b64Any,
  })
  .strict();
export type EncryptedReveal = z.infer<typeof EncryptedRevealSchema>;

/**
 * What a node persists about its reveals in one round, so neither a restart nor a repeated
 * request makes it reveal both shares of one peer: the peers whose self-seed share it revealed
 * and those whose mask-key share it revealed (each sorted; disjoint).
 */
export const RevealRecordSchema = z
  .object({
    round_id: RoundId,
    self_seed: z.array(InstitutionId),
    mask_key: z.array(InstitutionId),
  })
  .strict();
export type RevealRecord = z.infer<typeof RevealRecordSchema>;
