import { SbError } from '../errors/sb-error.js';
import { CIPHERTEXT_SHAPE, ciphertextFromWords, shapePrefix, validateCiphertext } from './ciphertext-validate.js';
import {
  CIPHERTEXT_BYTES,
  CIPHERTEXT_COEFFS,
  CIPHERTEXT_DATA_OFFSET,
  DATA_COEFF_MODULI,
  SLOTS_PER_CIPHERTEXT,
} from './he-params.js';

const TWO32 = 4294967296;
const Q = DATA_COEFF_MODULI.map(Number);
const CT_PREFIX = shapePrefix(CIPHERTEXT_SHAPE);
// Layout: polynomial-major, then modulus: segment s uses modulus Q[s % 2].
if (Q.length !== 2) throw new Error('sum.ts assumes two data-level moduli');

/** Contributions a sum can take before a float64 accumulator could lose exactness (2^53 / 2^38). */
export const MAX_SUM_CONTRIBUTIONS = 32768;

/**
 * Streaming homomorphic sum of contributions: one accumulator per ciphertext index.
 *
 * Adding BFV ciphertexts is coefficient-wise addition modulo each q_j of the RNS
 * representation; that is exactly what SEAL's `Evaluator.add` computes, done here in JS on the
 * validated coefficients, so the coordinator never loads untrusted bytes into SEAL.
 * Coefficients are below q_j < 2^38, so float64 accumulators hold exact integer sums of up to
 * {@link MAX_SUM_CONTRIBUTIONS} contributions; the reduction modulo q_j happens once, in
 * {@link CiphertextSum.result}. `tests/crypto/he.test.ts` checks byte equality with SEAL.
 *
 * Each ciphertext goes through the checks of `validateCiphertext` (exact length, fixed
 * header, every coefficient below q_j, not transparent) in the same pass that adds it; if any check fails, the
 * part already added is subtracted again (exact), so a rejected contribution leaves the sum
 * untouched.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round" step 3
 */
export class CiphertextSum {
  readonly ciphertextCount: number;
  #acc: Float64Array[];
  #words = new Uint32Array(CIPHERTEXT_COEFFS * 2);
  #added = 0;

  constructor(ciphertextCount: number) {
    if (!Number.isInteger(ciphertextCount) || ciphertextCount < 1)
      throw new RangeError('ciphertextCount must be a positive integer');
    this.ciphertextCount = ciphertextCount;
    this.#acc = Array.from({ length: ciphertextCount }, () => new Float64Array(CIPHERTEXT_COEFFS));
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
        `${label} has ${ciphertexts.length} ciphertexts; this round's slot layout needs ${this.ciphertextCount}. ` +
          "Ask the sender to re-encrypt with the round's codebook.",
        { expected: this.ciphertextCount, actual: ciphertexts.length },
      );
    }
    if (this.#added >= MAX_SUM_CONTRIBUTIONS)
      throw new SbError(
        'SB_ERR_SUM_FULL',
        `a sum takes at most ${MAX_SUM_CONTRIBUTIONS} contributions; split the round.`,
      );
    const words = this.#words;
    const bytes8 = new Uint8Array(words.buffer);
    for (let c = 0; c < this.ciphertextCount; c++) {
      const ct = ciphertexts[c] as Uint8Array;
      const acc = this.#acc[c] as Float64Array;
      // Exact length and fixed header: cheap, checked first.
      try {
        checkPrefix(ct, `${label}, ciphertext ${c}`);
      } catch (e) {
        this.#rollback(ciphertexts, c, CIPHERTEXT_COEFFS);
        throw e;
      }
      bytes8.set(ct.subarray(CIPHERTEXT_DATA_OFFSET));
      let bad = addChecked(acc, words);
      // A transparent ciphertext (c1 zero modulo a q_j) is refused like an out-of-range one.
      if (bad < 0 && hasZeroC1(words)) bad = CIPHERTEXT_COEFFS;
      if (bad >= 0) {
        subtract(acc, words, bad);
        this.#rollback(ciphertexts, c, CIPHERTEXT_COEFFS);
        // Let the validator produce the precise error.
        validateCiphertext(ct, { label: `${label}, ciphertext ${c}` });
        throw new Error('unreachable: coefficient check disagreed with validateCiphertext');
      }
    }
    this.#added++;
  }

  /** Subtract ciphertexts [0, upTo) of a contribution again (only after they were fully added). */
  #rollback(ciphertexts: readonly Uint8Array[], upTo: number, n: number): void {
    const words = this.#words;
    const bytes8 = new Uint8Array(words.buffer);
    for (let c = 0; c < upTo; c++) {
      bytes8.set((ciphertexts[c] as Uint8Array).subarray(CIPHERTEXT_DATA_OFFSET));
      subtract(this.#acc[c] as Float64Array, words, n);
    }
  }

  /** The summed ciphertexts (reduced modulo each q_j), serialized like SEAL does (uncompressed). */
  result(): Uint8Array[] {
    if (this.#added === 0)
      throw new SbError('SB_ERR_SUM_EMPTY', 'no contribution was added; a sum needs at least one.');
    return this.#acc.map((acc) => ciphertextFromWords(accToWords(acc)));
  }
}

function checkPrefix(ct: Uint8Array, label: string): void {
  if (!(ct instanceof Uint8Array) || ct.byteLength !== CIPHERTEXT_BYTES) {
    validateCiphertext(ct, { label });
    throw new Error('unreachable');
  }
  for (let i = 0; i < CIPHERTEXT_DATA_OFFSET; i++) {
    if (ct[i] !== CT_PREFIX[i]) {
      validateCiphertext(ct, { label });
      throw new Error('unreachable');
    }
  }
}

/**
 * acc[i] += coefficient i, checking each coefficient against its modulus. Returns -1, or the
 * index of the first out-of-range coefficient (coefficients before it were added).
 * hi * 2^32 + lo is exact below 2^53 and rounds to a value >= 2^53 > q otherwise, so one
 * comparison suffices.
 */
function addChecked(acc: Float64Array, words: Uint32Array): number {
  for (let seg = 0; seg < 4; seg++) {
    const q = Q[seg & 1] as number;
    const end = (seg + 1) * SLOTS_PER_CIPHERTEXT;
    for (let i = seg * SLOTS_PER_CIPHERTEXT; i < end; i++) {
      const v = (words[2 * i + 1] as number) * TWO32 + (words[2 * i] as number);
      if (v >= q) return i;
      acc[i] = (acc[i] as number) + v;
    }
  }
  return -1;
}

/** Whether polynomial 1 (segments 2 and 3: c1 modulo q_0 and q_1) is zero in some segment. */
function hasZeroC1(words: Uint32Array): boolean {
  for (let seg = 2; seg < 4; seg++) {
    let nonzero = false;
    for (let w = seg * SLOTS_PER_CIPHERTEXT * 2; w < (seg + 1) * SLOTS_PER_CIPHERTEXT * 2; w++) {
      if (words[w] !== 0) {
        nonzero = true;
        break;
      }
    }
    if (!nonzero) return true;
  }
  return false;
}

function subtract(acc: Float64Array, words: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++)
    acc[i] = (acc[i] as number) - ((words[2 * i + 1] as number) * TWO32 + (words[2 * i] as number));
}

function accToWords(acc: Float64Array): Uint32Array {
  const w = new Uint32Array(acc.length * 2);
  for (let seg = 0; seg < 4; seg++) {
    const q = Q[seg & 1] as number;
    for (let i = seg * SLOTS_PER_CIPHERTEXT; i < (seg + 1) * SLOTS_PER_CIPHERTEXT; i++) {
      const v = (acc[i] as number) % q;
      const hi = Math.floor(v / TWO32);
      w[2 * i] = v - hi * TWO32;
      w[2 * i + 1] = hi;
    }
  }
  return w;
}

/** Sum many contributions (any iterable, consumed one at a time). */
export function sumContributions(
  contributions: Iterable<readonly Uint8Array[]>,
  ciphertextCount: number,
): Uint8Array[] {
  const s = new CiphertextSum(ciphertextCount);
  let n = 0;
  for (const c of contributions) s.add(c, `contribution ${n++}`);
  return s.result();
}
