import { createHash } from 'node:crypto';
import { METRIC_SPEC } from '../metrics/slots.js';
import { SLOT_LAYOUT_VERSION } from './layout.js';

/**
 * Digest of the vector a privacy officer approves (issue 6): lower-case hex SHA-256 of the
 * RFC 8785 JSON of
 * `{codebook_digest, metric_spec, slot_layout, slots_sha256, studiejaar}`, where
 * `slots_sha256` is the SHA-256 of the flattened slots (layout v1, shared/protocol/layout.ts)
 * as unsigned 64-bit big-endian integers, exactly the values that are encrypted. Any change to
 * one value, the codebook, the spec version or the studiejaar changes the digest.
 */
export function vectorDigest(input: { codebookDigest: string; studiejaar: string; slots: BigUint64Array }): string {
  const buf = Buffer.alloc(input.slots.length * 8);
  input.slots.forEach((v, i) => {
    buf.writeBigUInt64BE(v, i * 8);
  });
  const slotsSha256 = createHash('sha256').update(buf).digest('hex');
  const doc = JSON.stringify({
    codebook_digest: input.codebookDigest,
    metric_spec: METRIC_SPEC,
    slot_layout: SLOT_LAYOUT_VERSION,
    slots_sha256: slotsSha256,
    studiejaar: input.studiejaar,
  }); // keys already in RFC 8785 order, all strings: this is the canonical form
  return createHash('sha256').update(doc).digest('hex');
}
