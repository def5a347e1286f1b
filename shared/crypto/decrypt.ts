import { SbError } from '../errors/sb-error.js';
import { validateCiphertext } from './ciphertext-validate.js';
import { sealWorker, type SealWorkerHost } from './seal-worker-host.js';

/** A contribution to check for {@link findCulprits}. */
export interface ContributionCiphertexts {
  institutionId: string;
  ciphertexts: readonly Uint8Array[];
}

/** A ciphertext whose noise budget is exhausted: it was not encrypted under the round key (or was forged). */
export interface Culprit {
  institutionId: string;
  ciphertextIndex: number;
  noiseBudget: number;
}

function validateAll(cts: readonly Uint8Array[], label: string): void {
  cts.forEach((c, i) => {
    validateCiphertext(c, { label: `${label}, ciphertext ${i}` });
  });
}

/**
 * Key holder: decrypt the summed ciphertexts to slot values (mod t), `SLOTS_PER_CIPHERTEXT`
 * per ciphertext in order. Runs in the SEAL worker. Refuses (`SB_ERR_NOISE_BUDGET`) when any
 * ciphertext has no noise budget left, in which case nothing is decoded: some contribution was
 * not encrypted under the round key, find it with {@link findCulprits}.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round" step 4
 */
export async function decryptSum(
  secretKey: Uint8Array,
  sum: readonly Uint8Array[],
  host: SealWorkerHost = sealWorker(),
): Promise<BigUint64Array> {
  validateAll(sum, 'sum');
  const r = await host.call<{ budgets: number[]; slots: BigUint64Array | null }>({
    op: 'decrypt',
    secretKey,
    ciphertexts: [...sum],
  });
  if (!r.slots) {
    const bad = r.budgets.flatMap((b, i) => (b > 0 ? [] : [i]));
    throw new SbError(
      'SB_ERR_NOISE_BUDGET',
      `the sum's ciphertext(s) ${bad.join(', ')} have no noise budget left, so they cannot be decrypted: ` +
        "a contribution was encrypted under another key or forged. Run findCulprits over the round's " +
        'contributions, exclude them and sum again.',
      { ciphertexts: bad, budgets: r.budgets },
    );
  }
  return r.slots;
}

/**
 * Noise budgets (bits) of ciphertexts. Measuring the budget does not decode the plaintext, so
 * the key holder can check one institution's ciphertexts without reading its values.
 */
export async function noiseBudgets(
  secretKey: Uint8Array,
  ciphertexts: readonly Uint8Array[],
  host: SealWorkerHost = sealWorker(),
): Promise<number[]> {
  validateAll(ciphertexts, 'ciphertexts');
  return host.call<number[]>({ op: 'budgets', secretKey, ciphertexts: [...ciphertexts] });
}

/**
 * Key holder: the contributions whose ciphertexts have a noise budget of 0 (encrypted under
 * another public key, or random bytes that pass the format checks). Values are not decoded.
 */
export async function findCulprits(
  secretKey: Uint8Array,
  contributions: readonly ContributionCiphertexts[],
  host: SealWorkerHost = sealWorker(),
): Promise<Culprit[]> {
  const out: Culprit[] = [];
  for (const c of contributions) {
    const budgets = await noiseBudgets(secretKey, c.ciphertexts, host);
    budgets.forEach((b, i) => {
      if (b <= 0) out.push({ institutionId: c.institutionId, ciphertextIndex: i, noiseBudget: b });
    });
  }
  return out;
}

/** SEAL's own sum (`Evaluator.add`) in the worker; used to cross-check {@link CiphertextSum}. */
export async function sealSum(
  contributions: readonly (readonly Uint8Array[])[],
  host: SealWorkerHost = sealWorker(),
): Promise<Uint8Array[]> {
  contributions.forEach((c, i) => {
    validateAll(c, `contribution ${i}`);
  });
  return host.call<Uint8Array[]>({ op: 'seal-sum', contributions: contributions.map((c) => [...c]) });
}
