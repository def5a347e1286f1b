import { z } from 'zod';
import { HE_PARAMS_V1, IsoDateTime, Sha256Hex } from './common.js';

const B64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'standard base64');
/** Base64 of exactly `n` bytes. */
const b64Bytes = (n: number) =>
  B64.refine((s) => Buffer.from(s, 'base64').length === n, `base64 of exactly ${n} bytes`);
const Fingerprint = z.string().regex(/^(\d{5} ){5}\d{5}$/);

/** A custodian's name: what the ceremony and every refusal call them. */
export const CustodianName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'letters, digits, space, ., _ and -, at most 64');

/**
 * One custodian as the sealed key file lists them: name, share index (the x coordinate
 * Shamir's `split` gave the share), how the share is protected (`x25519`: a box to the
 * custodian's own X25519 key; `passphrase`: scrypt + AES-256-GCM) and the SHA-256 commitment
 * to the plain share, so a share that decrypts but is not the one dealt is refused by name.
 */
export const CustodianEntrySchema = z
  .object({
    name: CustodianName,
    index: z.number().int().min(1).max(255),
    protection: z.enum(['x25519', 'passphrase']),
    /** The custodian's X25519 public key (base64), for `x25519`. */
    x25519_public_key: b64Bytes(32).optional(),
    /** SHA-256 (hex) of the domain-separated plain share. */
    share_commitment: Sha256Hex,
    /** Fingerprint of the custodian's share file, read out at the ceremony. */
    share_fingerprint: Fingerprint,
  })
  .strict()
  .refine((c) => (c.protection === 'x25519') === (c.x25519_public_key !== undefined), {
    message: 'x25519_public_key is given exactly for x25519 custodians',
  });

/**
 * The key holder's sealed BFV secret key (`<home>/bfv-secret.sealed`): AES-256-GCM under a
 * random 32-byte sealing key that exists only as k-of-n Shamir shares held by the custodians.
 * The GCM additional data is the canonical JSON of every field but `iv`, `ciphertext` and
 * `tag`, so the custodian list, k and the key digest cannot be changed unnoticed.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "Layers of protection" (key custody)
 */
export const SealedKeyFileSchema = z
  .object({
    type: z.literal('sectorbench.sealed-bfv-secret-key'),
    version: z.literal(1),
    /** Random 16-byte id (hex) of this sealing: every share names it. */
    seal_id: z.string().regex(/^[0-9a-f]{32}$/),
    he_params: HE_PARAMS_V1,
    he_public_key_digest: Sha256Hex,
    k: z.number().int().min(2).max(255),
    n: z.number().int().min(2).max(255),
    custodians: z.array(CustodianEntrySchema).min(2).max(255),
    sealed_at: IsoDateTime,
    cipher: z.literal('aes-256-gcm'),
    iv: b64Bytes(12),
    ciphertext: B64,
    tag: b64Bytes(16),
  })
  .strict()
  .refine((s) => s.k <= s.n && s.custodians.length === s.n, 'k <= n and n custodians')
  .refine((s) => new Set(s.custodians.map((c) => c.name)).size === s.n, 'custodian names are unique')
  .refine((s) => new Set(s.custodians.map((c) => c.index)).size === s.n, 'share indices are unique');

/** scrypt parameters of a passphrase-protected share (RFC 7914). */
export const ScryptParamsSchema = z
  .object({
    N: z
      .number()
      .int()
      .min(2 ** 14)
      .max(2 ** 20),
    r: z.number().int().min(8).max(32),
    p: z.number().int().min(1).max(16),
    salt: b64Bytes(16),
  })
  .strict();

/**
 * One custodian's share file: what the custodian keeps (never the key holder). The share is
 * either a NaCl box (X25519 + XSalsa20-Poly1305, tweetnacl) from an ephemeral key to the
 * custodian's X25519 key, or AES-256-GCM under a key derived from the custodian's passphrase
 * with scrypt. The additional data / box content binds seal id, custodian and index.
 */
export const CustodyShareFileSchema = z
  .object({
    type: z.literal('sectorbench.custody-share'),
    version: z.literal(1),
    seal_id: z.string().regex(/^[0-9a-f]{32}$/),
    he_public_key_digest: Sha256Hex,
    custodian: CustodianName,
    index: z.number().int().min(1).max(255),
    k: z.number().int().min(2).max(255),
    n: z.number().int().min(2).max(255),
    share_commitment: Sha256Hex,
    protection: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('x25519'),
          recipient_public_key: b64Bytes(32),
          ephemeral_public_key: b64Bytes(32),
          nonce: b64Bytes(24),
          box: B64,
        })
        .strict(),
      z
        .object({
          kind: z.literal('passphrase'),
          scrypt: ScryptParamsSchema,
          iv: b64Bytes(12),
          ciphertext: B64,
          tag: b64Bytes(16),
        })
        .strict(),
    ]),
  })
  .strict();

/** A custodian's own X25519 key pair file (`sectorbench keyholder custodian-key`); the `.pub` lacks `secret_key`. */
export const CustodianKeyFileSchema = z
  .object({
    type: z.literal('sectorbench-x25519-custodian-key'),
    name: CustodianName,
    public_key: b64Bytes(32),
    secret_key: b64Bytes(32).optional(),
    fingerprint: Fingerprint,
  })
  .strict();

export type SealedKeyFile = z.infer<typeof SealedKeyFileSchema>;
export type CustodianEntry = z.infer<typeof CustodianEntrySchema>;
export type CustodyShareFile = z.infer<typeof CustodyShareFileSchema>;
export type CustodianKeyFile = z.infer<typeof CustodianKeyFileSchema>;
