import { endianness } from 'node:os';
import { SbError } from '../errors/sb-error.js';
import {
  CIPHERTEXT_BYTES,
  CIPHERTEXT_COEFFS,
  CIPHERTEXT_DATA_OFFSET,
  DATA_COEFF_MODULI,
  DATA_PARMS_ID_HEX,
  KEY_COEFF_MODULI,
  KEY_PARMS_ID_HEX,
  SLOTS_PER_CIPHERTEXT,
} from './he-params.js';

if (endianness() !== 'LE') throw new Error('sectorbench crypto needs a little-endian host');

/**
 * Shape of one serialized SEAL object (SEAL 4.1 `Ciphertext::save`, uncompressed): a 16-byte
 * SEAL header, parms_id, is_ntt_form, polynomial count, N, modulus count, scale, correction
 * factor, then a 16-byte header, a u64 count and the u64 coefficients (polynomial-major, then
 * modulus, then coefficient).
 */
export interface SealObjectShape {
  polys: number;
  moduli: readonly bigint[];
  parmsIdHex: string;
  ntt: boolean;
}

/** Named byte ranges of the fixed 113-byte prefix, to say which field was wrong. */
export const HEADER_FIELDS: readonly { name: string; start: number; end: number }[] = [
  { name: 'magic', start: 0, end: 2 },
  { name: 'header_size', start: 2, end: 3 },
  { name: 'version_major', start: 3, end: 4 },
  { name: 'version_minor', start: 4, end: 5 },
  { name: 'compr_mode', start: 5, end: 6 },
  { name: 'reserved', start: 6, end: 8 },
  { name: 'total_size', start: 8, end: 16 },
  { name: 'parms_id', start: 16, end: 48 },
  { name: 'is_ntt_form', start: 48, end: 49 },
  { name: 'poly_count', start: 49, end: 57 },
  { name: 'poly_modulus_degree', start: 57, end: 65 },
  { name: 'coeff_modulus_size', start: 65, end: 73 },
  { name: 'scale', start: 73, end: 81 },
  { name: 'correction_factor', start: 81, end: 89 },
  { name: 'data_magic', start: 89, end: 91 },
  { name: 'data_header', start: 91, end: 96 },
  { name: 'data_size', start: 96, end: 105 },
  { name: 'coeff_count', start: 105, end: 113 },
];

function sealHeader(size: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16LE(0xa15e, 0);
  h.writeUInt8(16, 2);
  h.writeUInt8(4, 3); // SEAL 4
  h.writeUInt8(1, 4); // .1
  h.writeUInt8(0, 5); // compr_mode_type::none
  h.writeBigUInt64LE(BigInt(size), 8);
  return h;
}

/** Exact byte length of a serialized object of this shape. */
export function shapeBytes(s: SealObjectShape): number {
  return CIPHERTEXT_DATA_OFFSET + s.polys * s.moduli.length * SLOTS_PER_CIPHERTEXT * 8;
}

/** The only valid 113-byte prefix for this shape. */
export function shapePrefix(s: SealObjectShape): Uint8Array {
  const coeffs = s.polys * s.moduli.length * SLOTS_PER_CIPHERTEXT;
  const total = shapeBytes(s);
  const b = Buffer.alloc(CIPHERTEXT_DATA_OFFSET);
  sealHeader(total).copy(b, 0);
  Buffer.from(s.parmsIdHex, 'hex').copy(b, 16);
  b.writeUInt8(s.ntt ? 1 : 0, 48);
  b.writeBigUInt64LE(BigInt(s.polys), 49);
  b.writeBigUInt64LE(BigInt(SLOTS_PER_CIPHERTEXT), 57);
  b.writeBigUInt64LE(BigInt(s.moduli.length), 65);
  b.writeDoubleLE(1.0, 73);
  b.writeBigUInt64LE(1n, 81);
  sealHeader(16 + 8 + coeffs * 8).copy(b, 89);
  b.writeBigUInt64LE(BigInt(coeffs), 105);
  return new Uint8Array(b);
}

/** Shape of a fresh BFV ciphertext (and of any sum of them) under {@link HE_PARAMS}. */
export const CIPHERTEXT_SHAPE: SealObjectShape = Object.freeze({
  polys: 2,
  moduli: DATA_COEFF_MODULI,
  parmsIdHex: DATA_PARMS_ID_HEX,
  ntt: false,
});

/** Shape of a BFV public key under {@link HE_PARAMS} (key level, NTT form). */
export const PUBLIC_KEY_SHAPE: SealObjectShape = Object.freeze({
  polys: 2,
  moduli: KEY_COEFF_MODULI,
  parmsIdHex: KEY_PARMS_ID_HEX,
  ntt: true,
});

const CT_PREFIX = shapePrefix(CIPHERTEXT_SHAPE);
if (
  shapeBytes(CIPHERTEXT_SHAPE) !== CIPHERTEXT_BYTES ||
  CIPHERTEXT_SHAPE.polys * 2 * SLOTS_PER_CIPHERTEXT !== CIPHERTEXT_COEFFS
) {
  throw new Error('ciphertext shape constants disagree');
}

/** What to call the object in error messages. */
export interface ValidateOptions {
  /** e.g. `ciphertext 3 of institution 25LX` */
  label?: string;
}

/**
 * Check untrusted bytes against a shape without SEAL: exact length, the exact fixed prefix
 * (header, parameters, sizes, no compression), every coefficient below its modulus q_j, and
 * not transparent (no polynomial after the first is zero modulo a q_j).
 * Returns the coefficients as little-endian u32 pairs (lo, hi) in a fresh aligned array, or in
 * `out` when given. Throws `SB_ERR_CT_LENGTH`, `SB_ERR_CT_HEADER`, `SB_ERR_CT_COEFF` or
 * `SB_ERR_CT_TRANSPARENT`.
 *
 * This is what makes loading hostile bytes into SEAL safe (issue 3: truncated input aborts the
 * WASM module, compressed payloads grow its heap, repeated load errors corrupt it).
 */
export function validateSealObject(
  bytes: Uint8Array,
  shape: SealObjectShape,
  options: ValidateOptions = {},
  out?: Uint32Array,
): Uint32Array {
  const what = options.label ?? 'ciphertext';
  const expected = shapeBytes(shape);
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== expected) {
    throw new SbError(
      'SB_ERR_CT_LENGTH',
      `${what} is ${bytes?.byteLength ?? 'not a byte array'} bytes, not the ${expected} of an uncompressed ` +
        'ciphertext of these parameters; ask the sender to resubmit it.',
      { expected, actual: bytes?.byteLength ?? null },
    );
  }
  const prefix = shape === CIPHERTEXT_SHAPE ? CT_PREFIX : shapePrefix(shape);
  for (let i = 0; i < CIPHERTEXT_DATA_OFFSET; i++) {
    if (bytes[i] !== prefix[i]) {
      const field = HEADER_FIELDS.find((f) => i >= f.start && i < f.end)?.name ?? 'header';
      throw new SbError(
        'SB_ERR_CT_HEADER',
        `${what} has a wrong ${field} field (byte ${i}); it was not made with sectorbench's BFV parameters ` +
          "(or it is compressed or damaged). Ask the sender to re-encrypt with the round's key.",
        { field, offset: i },
      );
    }
  }
  const n = (expected - CIPHERTEXT_DATA_OFFSET) / 8;
  const words = out && out.length === n * 2 ? out : new Uint32Array(n * 2);
  new Uint8Array(words.buffer, words.byteOffset, n * 8).set(bytes.subarray(CIPHERTEXT_DATA_OFFSET));
  const k = shape.moduli.length;
  for (let p = 0; p < shape.polys; p++) {
    for (let j = 0; j < k; j++) {
      const q = Number(shape.moduli[j]);
      const qHi = Math.floor(q / 4294967296);
      const base = (p * k + j) * SLOTS_PER_CIPHERTEXT;
      for (let i = 0; i < SLOTS_PER_CIPHERTEXT; i++) {
        const w = (base + i) * 2;
        const hi = words[w + 1] as number;
        if (hi > qHi || hi * 4294967296 + (words[w] as number) >= q) {
          throw new SbError(
            'SB_ERR_CT_COEFF',
            `${what} has coefficient ${base + i} (polynomial ${p}, modulus ${j}) outside [0, q); it is damaged or forged. Ask the sender to resubmit it.`,
            { poly: p, modulus: j, index: i },
          );
        }
      }
    }
  }
  refuseTransparent(words, shape, what);
  return words;
}

/**
 * Refuse a *transparent* object: one whose polynomials after the first are zero. SEAL calls a
 * ciphertext transparent when c1 (and any later polynomial) is zero (`Ciphertext::is_transparent`,
 * which `Evaluator` refuses as a result): then c0 = Δ·m + e decrypts without the secret key, so
 * the "encrypted" contribution is readable by anyone, including the coordinator. An all-zero
 * ciphertext is the simplest case. We refuse it already when c1 is zero modulo one q_j of the
 * RNS representation, because that residue alone gives away Δ·m + e modulo q_j. A fresh
 * encryption's c1 = u·p1 + e2 is zero modulo a q_j with probability about q_j^-N (never).
 * For a public key (p0, p1 = a) the same test refuses a = 0, under which encryptions are
 * transparent up to a small error. Throws `SB_ERR_CT_TRANSPARENT`.
 *
 * @see https://github.com/microsoft/SEAL/blob/main/native/src/seal/ciphertext.h (is_transparent)
 */
function refuseTransparent(words: Uint32Array, shape: SealObjectShape, what: string): void {
  const k = shape.moduli.length;
  for (let p = 1; p < shape.polys; p++) {
    for (let j = 0; j < k; j++) {
      const start = (p * k + j) * SLOTS_PER_CIPHERTEXT * 2;
      let nonzero = false;
      for (let w = start; w < start + SLOTS_PER_CIPHERTEXT * 2; w++) {
        if (words[w] !== 0) {
          nonzero = true;
          break;
        }
      }
      if (!nonzero) {
        throw new SbError(
          'SB_ERR_CT_TRANSPARENT',
          `${what} is transparent: its polynomial ${p} is zero modulo q_${j}, so it can be read without ` +
            "the key holder's secret key (it was not encrypted, or it was forged). It is refused; ask the " +
            "sender to encrypt with the round's public key (sectorbench node submit).",
          { poly: p, modulus: j },
        );
      }
    }
  }
}

/** {@link validateSealObject} for a ciphertext of the round. */
export function validateCiphertext(bytes: Uint8Array, options: ValidateOptions = {}, out?: Uint32Array): Uint32Array {
  return validateSealObject(bytes, CIPHERTEXT_SHAPE, options, out);
}

/** Serialize coefficient words (lo, hi u32 pairs) as a ciphertext with the fixed prefix. */
export function ciphertextFromWords(words: Uint32Array): Uint8Array {
  if (words.length !== CIPHERTEXT_COEFFS * 2) throw new Error('wrong coefficient count');
  const b = new Uint8Array(CIPHERTEXT_BYTES);
  b.set(CT_PREFIX, 0);
  b.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), CIPHERTEXT_DATA_OFFSET);
  return b;
}
