import { createHash } from 'node:crypto';
import type { BundleIndex } from '../shared/protocol/bundle.js';
import { canonicalBytes } from '../shared/protocol/canonical.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** SHA-256 of a bundle index's canonical JSON; the index holds the digest of every file of the bundle. */
export function bundleDigest(index: BundleIndex): string {
  return sha(canonicalBytes(index));
}

/** SHA-256 over the summed ciphertexts' bytes, concatenated in order. */
export function sumDigest(sum: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const ct of sum) h.update(ct);
  return h.digest('hex');
}
