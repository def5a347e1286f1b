import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { PlainText } from 'node-seal/implementation/plain-text.js';
import type { PublicKey } from 'node-seal/implementation/public-key.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import { SbError } from '../errors/sb-error.js';
import { PUBLIC_KEY_SHAPE, validateSealObject } from './ciphertext-validate.js';
import { getHe } from './he-context.js';
import { PLAIN_MODULUS, SLOTS_PER_CIPHERTEXT } from './he-params.js';
import { withSeededRandom } from './seeded-random.js';

/** Options of {@link encryptSlots}. */
export interface EncryptOptions {
  /**
   * 32-byte seed: the encryption randomness of ciphertext i comes from a stream derived from
   * (seed, i), so the same seed, key and values give byte-identical ciphertexts (audit log).
   * Without it, randomness comes from the OS.
   */
  seed?: Uint8Array;
}

/** Number of ciphertexts needed for `length` slots. */
export function ciphertextsFor(length: number): number {
  return Math.max(1, Math.ceil(length / SLOTS_PER_CIPHERTEXT));
}

/**
 * Encrypt a flat slot vector (values in [0, t)) under a BFV public key: slots are packed
 * 4,096 per ciphertext in order, the last one padded with zeros. Returns uncompressed
 * ciphertexts. The public key is validated like any untrusted SEAL object first. Values >= t
 * are refused (`SB_ERR_PLAIN_RANGE`): SEAL would silently corrupt the whole plaintext.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round" step 2
 */
export async function encryptSlots(
  publicKey: Uint8Array,
  slots: BigUint64Array,
  options: EncryptOptions = {},
): Promise<Uint8Array[]> {
  for (let i = 0; i < slots.length; i++) {
    if ((slots[i] as bigint) >= PLAIN_MODULUS) {
      throw new SbError(
        'SB_ERR_PLAIN_RANGE',
        `slot ${i} holds ${slots[i]}, not below the plain modulus ${PLAIN_MODULUS}; flatten the vector with the round's range checks first.`,
        { slot: i },
      );
    }
  }
  validateSealObject(publicKey, PUBLIC_KEY_SHAPE, { label: 'the round public key' });
  const he = await getHe();
  const { seal, context, encoder } = he;
  let pk: PublicKey | undefined;
  let encryptor: Encryptor | undefined;
  const out: Uint8Array[] = [];
  try {
    pk = seal.PublicKey();
    pk.loadArray(context, publicKey);
    encryptor = seal.Encryptor(context, pk);
    const n = ciphertextsFor(slots.length);
    const chunk = new BigUint64Array(SLOTS_PER_CIPHERTEXT);
    for (let c = 0; c < n; c++) {
      chunk.fill(0n);
      chunk.set(slots.subarray(c * SLOTS_PER_CIPHERTEXT, (c + 1) * SLOTS_PER_CIPHERTEXT));
      let pt: PlainText | undefined;
      let ct: CipherText | undefined;
      try {
        pt = encoder.encode(chunk) as PlainText;
        const enc = encryptor;
        const p = pt;
        ct = options.seed
          ? withSeededRandom(options.seed, `sectorbench/bfv-encrypt/${c}`, () => enc.encrypt(p) as CipherText)
          : (enc.encrypt(p) as CipherText);
        out.push(ct.saveArray(seal.ComprModeType.none));
      } finally {
        ct?.delete();
        pt?.delete();
      }
    }
  } finally {
    encryptor?.delete();
    pk?.delete();
  }
  return out;
}
