import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Ed25519 signing and verification through node:crypto (OpenSSL), on tweetnacl's key layout:
 * a 32-byte public key and a 64-byte secret key (32-byte seed, then the public key).
 * Same keys, same signatures as tweetnacl (both are RFC 8032 Ed25519, which is deterministic);
 * `tests/crypto/ed25519.test.ts` checks RFC 8032 section 7.1 vectors 1-3 on both.
 * Why: tweetnacl's pure-JS verification costs 6-30 ms per signature on our machines and
 * OpenSSL's about 0.1 ms; the key holder verifies every envelope and every secure-aggregation
 * message of a round. Key agreement and boxes (X25519) stay with tweetnacl.
 */

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 section 4), followed by the 32 raw bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** DER prefix of an Ed25519 PKCS #8 PrivateKeyInfo (RFC 8410 section 7), followed by the 32-byte seed. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 64;
export const ED25519_SIGNATURE_BYTES = 64;

/**
 * Parsed public keys, by key bytes (hex). A round has at most a few thousand distinct signers
 * (institutions, coordinator, key holder); the cap only guards against unbounded growth in a
 * long-running server that sees many keys, by starting over.
 */
const publicKeys = new Map<string, KeyObject | null>();
const PUBLIC_KEY_CACHE_MAX = 10_000;

/**
 * Parsed private keys, by the caller's secret-key array (an identity object lives for the whole
 * process). The bytes are kept beside the KeyObject and compared on every use, so an array that
 * was overwritten in place is parsed again instead of signing with a stale key.
 */
const privateKeys = new WeakMap<Uint8Array, { bytes: Buffer; key: KeyObject }>();

function publicKeyObject(publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex');
  const hit = publicKeys.get(id);
  if (hit !== undefined) return hit;
  let key: KeyObject | null;
  try {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    // Not a point encoding OpenSSL accepts: no signature verifies under it.
    key = null;
  }
  if (publicKeys.size >= PUBLIC_KEY_CACHE_MAX) publicKeys.clear();
  publicKeys.set(id, key);
  return key;
}

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  const hit = privateKeys.get(secretKey);
  if (hit?.bytes.equals(secretKey)) return hit.key;
  const seed = secretKey.subarray(0, 32);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  privateKeys.set(secretKey, { bytes: Buffer.from(secretKey), key });
  return key;
}

/**
 * Detached Ed25519 signature (64 bytes) of `message` (RFC 8032 section 5.1.6).
 * @param secretKey tweetnacl layout, 64 bytes: seed then public key. Only the seed is used
 *   (the public key is derived from it, as RFC 8032 does); callers check that the pair is
 *   consistent when they read it from disk (`readIdentityFile`).
 * @throws RangeError when `secretKey` is not 64 bytes.
 */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.byteLength !== ED25519_SECRET_KEY_BYTES) throw new RangeError('an Ed25519 secret key is 64 bytes');
  return new Uint8Array(sign(null, message, privateKeyObject(secretKey)));
}

/**
 * Verify a detached Ed25519 signature (RFC 8032 section 5.1.7). Never throws: false on any
 * mismatch or malformed input (wrong lengths, a public key that is not a valid point).
 * OpenSSL also refuses a non-canonical S (S >= L), which tweetnacl would accept; our signers
 * never produce one.
 */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.byteLength !== ED25519_SIGNATURE_BYTES || publicKey.byteLength !== ED25519_PUBLIC_KEY_BYTES)
    return false;
  const key = publicKeyObject(publicKey);
  if (!key) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
