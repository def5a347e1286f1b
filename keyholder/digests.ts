import { createHash } from 'node:crypto';
import type { Release } from '../schemas/release.js';
import type { BundleIndex } from '../shared/protocol/bundle.js';
import { canonicalBytes } from '../shared/protocol/canonical.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** SHA-256 of a signed release's canonical JSON (RFC 8785), signature included: what a re-release names as `previous_release_digest`. */
export function releaseDigest(r: Release): string {
  return sha(canonicalBytes(r));
}

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
