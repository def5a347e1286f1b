import { SbError } from '../errors/sb-error.js';
import { ciphertextFromWords, validateCiphertext } from './ciphertext-validate.js';
import { CIPHERTEXT_COEFFS, DATA_COEFF_MODULI, SLOTS_PER_CIPHERTEXT } from './he-params.js';

const TWO32 = 4294967296;
const Q = DATA_COEFF_MODULI.map(Number);

/**
 * Streaming homomorphic sum of contributions: one accumulator per ciphertext index.
 *
 * Adding BFV ciphertexts is coefficient-wise addition modulo each q_j of the RNS
 * representation; that is exactly what SEAL's `Evaluator.add` computes, done here in JS on the
 * validated coefficients (exact in float64 since q_j < 2^38), so the coordinator never loads
 * untrusted bytes into SEAL. `tests/crypto/sum.test.ts` checks byte equality with SEAL.
 *
 * A contribution is validated completely before any of it is added, so a rejected
 * contribution leaves the sum untouched.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round" step 3
 */
export class CiphertextSum {
  readonly ciphertextCount: number;
  #acc: Float64Array[];
  #scratch: Uint32Array[];
  #added = 0;

  constructor(ciphertextCount: number) {
    if (!Number.isInteger(ciphertextCount) || ciphertextCount < 1) throw new RangeError('ciphertextCount must be a positive integer');
    this.ciphertextCount = ciphertextCount;
    this.#acc = Array.from({ length: ciphertextCount }, () => new Float64Array(CIPHERTEXT_COEFFS));
    this.#scratch = Array.from({ length: ciphertextCount }, () => new Uint32Array(CIPHERTEXT_COEFFS * 2));
  }

  /** Number of contributions added so far. */
  get contributions(): number {
    return this.#added;
  }

  /**
   * Validate and add one contribution (its ciphertexts in layout order). Throws
   * `SB_ERR_CT_COUNT` or a validation error (`SB_ERR_CT_*`) and then adds nothing.
   */
  add(ciphertexts: readonly Uint8Array[], label = 'contribution'): void {
    if (ciphertexts.length !== this.ciphertextCount) {
      throw new SbError(
        'SB_ERR_CT_COUNT',
        `${label} has ${ciphertexts.length} ciphertexts; this round's slot layout needs ${this.ciphertextCount}. Ask the sender to re-encrypt with the round's codebook.`,
        { expected: this.ciphertextCount, actual: ciphertexts.length },
      );
    }
    ciphertexts.forEach((ct, c) => validateCiphertext(ct, { label: `${label}, ciphertext ${c}` }, this.#scratch[c]));
    for (let c = 0; c < this.ciphertextCount; c++) addWords(this.#acc[c] as Float64Array, this.#scratch[c] as Uint32Array);
    this.#added++;
  }

  /** The summed ciphertexts, serialized like SEAL does (uncompressed). */
  result(): Uint8Array[] {
    if (this.#added === 0) throw new SbError('SB_ERR_SUM_EMPTY', 'no contribution was added; a sum needs at least one.');
    return this.#acc.map((acc) => ciphertextFromWords(accToWords(acc)));
  }
}

function addWords(acc: Float64Array, words: Uint32Array): void {
  for (let p = 0; p < 2; p++) {
    for (let j = 0; j < Q.length; j++) {
      const q = Q[j] as number;
      const base = (p * Q.length + j) * SLOTS_PER_CIPHERTEXT;
      const end = base + SLOTS_PER_CIPHERTEXT;
      for (let i = base; i < end; i++) {
        let v = (acc[i] as number) + (words[2 * i + 1] as number) * TWO32 + (words[2 * i] as number);
        if (v >= q) v -= q;
        acc[i] = v;
      }
    }
  }
}

function accToWords(acc: Float64Array): Uint32Array {
  const w = new Uint32Array(acc.length * 2);
  for (let i = 0; i < acc.length; i++) {
    const v = acc[i] as number;
    const hi = Math.floor(v / TWO32);
    w[2 * i] = v - hi * TWO32;
    w[2 * i + 1] = hi;
  }
  return w;
}

/** Sum many contributions (any iterable, consumed one at a time). */
export function sumContributions(contributions: Iterable<readonly Uint8Array[]>, ciphertextCount: number): Uint8Array[] {
  const s = new CiphertextSum(ciphertextCount);
  let n = 0;
  for (const c of contributions) s.add(c, `contribution ${n++}`);
  return s.result();
}
