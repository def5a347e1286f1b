import { defaultThreshold } from './threshold.js';

/**
 * How likely the sparse graph (graph.ts `harary`) fails one of its guarantees, for a given number
 * of colluding participants C and dropouts D, as log2 of union bounds over the n institutions.
 * Exact hypergeometric tails in BigInt (no floating-point sums of tiny terms).
 *
 * Model (Bell et al., "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS 2020,
 * section 3-4): the ring order, hence every institution's k neighbours, is a uniformly random
 * arrangement that does not depend on who colludes or drops out; then an institution u's k
 * neighbours are a uniformly random k-subset of the other n - 1, and the number of colluders
 * among them is hypergeometric: X ~ HG(n - 1, C, k). With m = k + 1 shareholders and threshold
 * t' of m (shared/secagg/README.md, "Threat model"):
 *
 * - `protection`: u can be unmasked when at least 2t' - m of its neighbours collude (with the
 *   coordinator, telling two survivor stories each signed by t' of u's shareholders), or at
 *   least t' (without it): n · P[X >= 2t' - m];
 * - `recovery`: the round fails closed when more than m - t' of some node's neighbours drop out:
 *   n · P[Y >= m - t' + 1], Y ~ HG(n - 1, D, k);
 * - `isolation`: all k neighbours of u colluding or dropped (Bell et al.'s "neighbourhood
 *   entirely corrupt"; implied by `protection` for t' <= m, given for completeness):
 *   n · P[Z >= k], Z ~ HG(n - 1, C + D, k);
 * - `disconnect`: the graph of the other institutions splits (Bell et al.'s honest subgraph; then
 *   the sum of one part could be learnt): in H(k, n) that needs two runs of k/2 consecutive ring
 *   positions all colluding or dropped; bounded by one run: n · (C + D)_(k/2) / (n)_(k/2).
 */
export interface SparseBounds {
  degree: number;
  /** t' of m = degree + 1 shareholders. */
  threshold: number;
  protection: number;
  recovery: number;
  isolation: number;
  disconnect: number;
}

/** log2 of a positive BigInt (about 15 significant digits). */
function log2Big(x: bigint): number {
  if (x <= 0n) return Number.NEGATIVE_INFINITY;
  const bits = x.toString(2).length;
  const shift = Math.max(0, bits - 60);
  return Math.log2(Number(x >> BigInt(shift))) + shift;
}

function binomials(N: number): (a: number, b: number) => bigint {
  const fact: bigint[] = [1n];
  for (let i = 1; i <= N; i++) fact.push((fact[i - 1] as bigint) * BigInt(i));
  return (a, b) => (b < 0 || b > a ? 0n : (fact[a] as bigint) / ((fact[b] as bigint) * (fact[a - b] as bigint)));
}

/**
 * log2 of the union bounds of {@link SparseBounds} (capped at 0, i.e. probability 1).
 *
 * @param n participants; `degree` even, 2 <= degree < n
 * @param threshold t' out of degree + 1 (default: the key holder's default, `defaultThreshold(degree + 1, 3)`)
 * @param colluders participants (besides the coordinator and the key holder) that work together
 * @param dropouts participants that drop out after sharing keys
 */
export function sparseBounds(
  n: number,
  degree: number,
  colluders: number,
  dropouts: number,
  threshold: number = defaultThreshold(degree + 1, 3),
): SparseBounds {
  const N = n - 1;
  const k = degree;
  const m = k + 1;
  const binom = binomials(N);
  const den = binom(N, k);
  /** log2 of n · P[HG(N, K, k) >= x]. */
  const tail = (K: number, x: number) => {
    let num = 0n;
    for (let i = Math.max(x, 0); i <= Math.min(K, k); i++) num += binom(K, i) * binom(N - K, k - i);
    return Math.min(0, Math.log2(n) + log2Big(num) - log2Big(den));
  };
  const R = Math.min(colluders + dropouts, N);
  let run = 0;
  for (let i = 0; i < k / 2; i++) run += Math.log2(Math.max(R - i, 0)) - Math.log2(n - i);
  return {
    degree,
    threshold,
    protection: tail(colluders, Math.min(2 * threshold - m, threshold)),
    recovery: tail(dropouts, m - threshold + 1),
    isolation: tail(R, k),
    disconnect: Math.min(0, Math.log2(n) + run),
  };
}

/**
 * The smallest even degree whose {@link sparseBounds} are all at most 2^-`sigma`, with the key
 * holder's default threshold, for `corrupt` and `dropout` as fractions of n (rounded up).
 * The key holder's default graph above 100 participants (keyholder/endorse.ts `defaultMaskGraph`).
 *
 * @returns an even degree below n, at most 254 (Shamir in GF(2^8)); 254 or n - 1 (rounded down
 *   to even) when none smaller meets the bound (small n: then the caller should use the complete graph)
 */
export function sparseDegree(n: number, corrupt = 0.05, dropout = 0.05, sigma = 40): number {
  const C = Math.ceil(corrupt * n);
  const D = Math.ceil(dropout * n);
  const top = Math.min(254, n - 1 - ((n - 1) % 2));
  for (let k = 4; k <= top; k += 2) {
    const b = sparseBounds(n, k, C, D);
    if (Math.max(b.protection, b.recovery, b.isolation, b.disconnect) <= -sigma) return k;
  }
  return top;
}
