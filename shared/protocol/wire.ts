import { validateCiphertext } from '../crypto/ciphertext-validate.js';
import { CIPHERTEXT_BYTES } from '../crypto/he-params.js';
import { SbError } from '../errors/sb-error.js';
import { ciphertextDigest, encodeEnvelope, parseEnvelope, type ContributionEnvelope } from './envelope.js';

/** Magic of the contribution wire format v1: ASCII `SBC1`. */
export const WIRE_MAGIC = new Uint8Array([0x53, 0x42, 0x43, 0x31]);
/** Largest envelope accepted on the wire. */
export const MAX_ENVELOPE_BYTES = 256 * 1024;
/** Largest number of ciphertexts accepted in one contribution. */
export const MAX_CIPHERTEXTS = 1024;

/** A contribution: the signed envelope and its ciphertexts in layout order. */
export interface Contribution {
  envelope: ContributionEnvelope;
  ciphertexts: Uint8Array[];
}

/**
 * Encode a contribution in wire format v1 (big-endian lengths):
 * `"SBC1" | u32 L | L bytes envelope (RFC 8785 JSON, UTF-8) | u32 n | n x 131,185-byte ciphertexts`.
 * Overhead over the raw ciphertexts: 12 bytes plus the envelope.
 */
export function encodeContribution(c: Contribution): Uint8Array {
  const env = encodeEnvelope(c.envelope);
  const n = c.ciphertexts.length;
  if (n !== c.envelope.ciphertext_digests.length)
    throw new SbError(
      'SB_ERR_CT_DIGEST',
      'the envelope signs another number of ciphertexts than given; rebuild the envelope.',
    );
  const out = new Uint8Array(12 + env.length + n * CIPHERTEXT_BYTES);
  const dv = new DataView(out.buffer);
  out.set(WIRE_MAGIC, 0);
  dv.setUint32(4, env.length);
  out.set(env, 8);
  dv.setUint32(8 + env.length, n);
  let o = 12 + env.length;
  for (const ct of c.ciphertexts) {
    if (ct.byteLength !== CIPHERTEXT_BYTES)
      throw new SbError(
        'SB_ERR_CT_LENGTH',
        `a ciphertext is ${ct.byteLength} bytes, not ${CIPHERTEXT_BYTES}; encrypt uncompressed.`,
      );
    out.set(ct, o);
    o += CIPHERTEXT_BYTES;
  }
  return out;
}

function bad(msg: string, details: Record<string, unknown> = {}): SbError {
  return new SbError('SB_ERR_WIRE', `${msg}; the sender must resubmit the contribution.`, details);
}

/**
 * Parse wire format v1, with every length bounded before use and no trailing bytes allowed.
 * Checks the envelope schema, that each ciphertext matches its signed digest and (unless
 * `validate: false`) the ciphertext format. Does NOT check the signature: call
 * `verifyEnvelope` with the participant's enrolled key.
 */
export function parseContribution(
  bytes: Uint8Array,
  options: { validate?: boolean; maxCiphertexts?: number } = {},
): Contribution {
  const max = options.maxCiphertexts ?? MAX_CIPHERTEXTS;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 12)
    throw bad('the contribution is shorter than the 12-byte minimum');
  for (let i = 0; i < 4; i++) if (bytes[i] !== WIRE_MAGIC[i]) throw bad('the contribution does not start with SBC1');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const L = dv.getUint32(4);
  if (L < 2 || L > MAX_ENVELOPE_BYTES || 12 + L > bytes.byteLength)
    throw bad(`the envelope length ${L} is out of bounds`, { envelopeLength: L });
  const envelope = parseEnvelope(bytes.subarray(8, 8 + L));
  const n = dv.getUint32(8 + L);
  if (n < 1 || n > max) throw bad(`${n} ciphertexts announced, allowed 1..${max}`);
  if (n !== envelope.ciphertext_digests.length)
    throw bad(`${n} ciphertexts announced, the envelope signs ${envelope.ciphertext_digests.length}`);
  const expected = 12 + L + n * CIPHERTEXT_BYTES;
  if (bytes.byteLength !== expected)
    throw bad(`the contribution is ${bytes.byteLength} bytes, expected exactly ${expected}`, {
      expected,
      actual: bytes.byteLength,
    });
  const ciphertexts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const start = 12 + L + i * CIPHERTEXT_BYTES;
    const ct = bytes.slice(start, start + CIPHERTEXT_BYTES);
    if (ciphertextDigest(ct) !== envelope.ciphertext_digests[i]) {
      throw new SbError(
        'SB_ERR_CT_DIGEST',
        `ciphertext ${i} does not match the digest the institution signed (altered in transit); the sender must resubmit.`,
        { index: i },
      );
    }
    if (options.validate !== false) validateCiphertext(ct, { label: `ciphertext ${i} of ${envelope.institution_id}` });
    ciphertexts.push(ct);
  }
  return { envelope, ciphertexts };
}
