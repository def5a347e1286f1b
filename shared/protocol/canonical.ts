import canonicalize from 'canonicalize';
import { SbError } from '../errors/sb-error.js';

/**
 * Canonical bytes of a JSON value: RFC 8785 (JSON Canonicalization Scheme), UTF-8. Used for
 * every signed sectorbench message (envelopes, manifests, receipts, releases): a signature
 * is over `signingInput(type, canonicalBytes(message without its signature))`.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  const s = (canonicalize as unknown as (v: unknown) => string | undefined)(value);
  if (typeof s !== 'string')
    throw new SbError(
      'SB_ERR_CANONICAL',
      'this value has no canonical JSON form (undefined or a function); fix the message builder.',
    );
  return new TextEncoder().encode(s);
}
