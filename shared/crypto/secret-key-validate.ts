import { SbError } from '../errors/sb-error.js';
import { KEY_COEFF_MODULI, KEY_PARMS_ID_HEX, SECRET_KEY_BYTES, SLOTS_PER_CIPHERTEXT } from './he-params.js';

const SK_OFFSET = 88;

function prefix(): Uint8Array {
  const coeffs = KEY_COEFF_MODULI.length * SLOTS_PER_CIPHERTEXT;
  const b = Buffer.alloc(SK_OFFSET);
  b.writeUInt16LE(0xa15e, 0);
  b.writeUInt8(16, 2);
  b.writeUInt8(4, 3);
  b.writeUInt8(1, 4);
  b.writeBigUInt64LE(BigInt(SECRET_KEY_BYTES), 8);
  Buffer.from(KEY_PARMS_ID_HEX, 'hex').copy(b, 16);
  b.writeBigUInt64LE(BigInt(coeffs), 48);
  b.writeDoubleLE(1.0, 56);
  b.writeUInt16LE(0xa15e, 64);
  b.writeUInt8(16, 66);
  b.writeUInt8(4, 67);
  b.writeUInt8(1, 68);
  b.writeBigUInt64LE(BigInt(16 + 8 + coeffs * 8), 72);
  b.writeBigUInt64LE(BigInt(coeffs), 80);
  return new Uint8Array(b);
}
const PREFIX = prefix();

/**
 * Check a BFV secret key's bytes before SEAL loads them: exact length, the fixed prefix and
 * every coefficient below its modulus. Throws `SB_ERR_KEY_FILE`.
 */
export function validateSecretKey(bytes: Uint8Array): void {
  const bad = (why: string) =>
    new SbError(
      'SB_ERR_KEY_FILE',
      `the BFV secret key is not valid for these parameters (${why}); restore it from the custodians' backup.`,
    );
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== SECRET_KEY_BYTES) throw bad('length');
  for (let i = 0; i < SK_OFFSET; i++) if (bytes[i] !== PREFIX[i]) throw bad(`header byte ${i}`);
  const n = (SECRET_KEY_BYTES - SK_OFFSET) / 8;
  const w = new Uint32Array(n * 2);
  new Uint8Array(w.buffer).set(bytes.subarray(SK_OFFSET));
  for (let j = 0; j < KEY_COEFF_MODULI.length; j++) {
    const q = Number(KEY_COEFF_MODULI[j]);
    for (let i = j * SLOTS_PER_CIPHERTEXT; i < (j + 1) * SLOTS_PER_CIPHERTEXT; i++) {
      const hi = w[2 * i + 1] as number;
      if (hi > 64 || hi * 4294967296 + (w[2 * i] as number) >= q) throw bad(`coefficient ${i}`);
    }
  }
}
