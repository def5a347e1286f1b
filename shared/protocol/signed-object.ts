import { signDetached, verifyDetached } from '../crypto/identity.js';
import { canonicalBytes } from './canonical.js';

/**
 * Sign a JSON message: the detached Ed25519 signature over the RFC 8785 canonical JSON of every
 * field except the signature field itself, domain-separated by `purpose`. One scheme for every
 * signed document (manifest, endorsement, receipt, release).
 */
export function signObject<T extends object, K extends string>(
  purpose: string,
  unsigned: T,
  field: K,
  secretKey: Uint8Array,
): T & Record<K, string> {
  const sig = signDetached(purpose, canonicalBytes(unsigned), secretKey);
  return { ...unsigned, [field]: Buffer.from(sig).toString('base64') } as T & Record<K, string>;
}

/** Verify a document signed by {@link signObject}; false on any mismatch. */
export function verifyObject(purpose: string, signed: object, field: string, publicKey: Uint8Array): boolean {
  const sig: unknown = Reflect.get(signed, field);
  if (typeof sig !== 'string') return false;
  const rest = Object.fromEntries(Object.entries(signed).filter(([k]) => k !== field));
  return verifyDetached(purpose, canonicalBytes(rest), new Uint8Array(Buffer.from(sig, 'base64')), publicKey);
}
