import { SbError } from '../errors/sb-error.js';

/**
 * Largest number of Shamir shares one secret can be split into: `shamir-secret-sharing` works
 * in GF(2^8), so x-coordinates are 1..255. With the complete graph every node shares among all
 * n participants (itself included), so a complete-graph round has at most 255 participants;
 * larger rounds use the sparse graph ({@link MaskGraph} `harary`).
 */
export const MAX_SHARES = 255;

/**
 * The default Shamir threshold t of a masked round of `n` participants:
 * `max(ceil(2n/3), minInstitutions)` (issue 10). 2t > n is what makes the consistency check
 * work: two survivor sets that each got t signatures share at least 2t - n signers, so a
 * coordinator telling two stories needs 2t - n of them to sign both (Bonawitz et al., CCS 2017,
 * section 4, and appendix on the active-adversary threshold).
 *
 * @param n number of participants in the manifest (integer >= 2)
 * @param minInstitutions the round's `min_institutions` (integer >= 1)
 * @returns t, with 2 <= t <= n and 2t > n
 * @throws SbError `SB_ERR_SECAGG_PARAMS` when n < 2, or when minInstitutions > n (such a round
 *   could never be released, so it is not masked either)
 */
export function defaultThreshold(n: number, minInstitutions: number): number {
  if (!Number.isInteger(n) || n < 2) {
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `a masked round needs at least 2 participants, not ${n}; add participants to the round.`,
      { participants: n },
    );
  }
  if (!Number.isInteger(minInstitutions) || minInstitutions < 1 || minInstitutions > n) {
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `min_institutions ${minInstitutions} must be a whole number from 1 to the ${n} participants; with fewer participants the round could never be released.`,
      { participants: n, min_institutions: minInstitutions },
    );
  }
  return Math.max(2, Math.ceil((2 * n) / 3), minInstitutions);
}

/**
 * Check a threshold against the number of nodes that share among each other (`shareholders`:
 * n for the complete graph, degree + 1 for the sparse one): 2 <= t <= shareholders <= 255 and
 * 2t > shareholders.
 *
 * @throws SbError `SB_ERR_SECAGG_PARAMS` naming the rule broken
 */
export function checkThreshold(threshold: number, shareholders: number): void {
  const ok =
    Number.isInteger(threshold) &&
    Number.isInteger(shareholders) &&
    threshold >= 2 &&
    threshold <= shareholders &&
    shareholders <= MAX_SHARES &&
    2 * threshold > shareholders;
  if (!ok) {
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `masking threshold ${threshold} with ${shareholders} shareholders is not allowed: it must ` +
        `be at least 2, more than half of the shareholders and at most all of them, and at most ${MAX_SHARES} ` +
        'nodes can share one secret (use the sparse graph for larger rounds). Fix the round manifest.',
      { threshold, shareholders },
    );
  }
}
