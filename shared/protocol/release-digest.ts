import { createHash } from 'node:crypto';
import type { Release } from '../../schemas/release.js';
import { canonicalBytes } from './canonical.js';

/**
 * SHA-256 (hex) of a signed release's RFC 8785 canonical JSON, signature included: what a
 * re-release names as `previous_release_digest`. Computed the same way by the key holder (when it
 * signs a re-release) and the coordinator (when it checks the chain of versions).
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 5
 */
export function releaseDigest(release: Release): string {
  return createHash('sha256').update(canonicalBytes(release)).digest('hex');
}
