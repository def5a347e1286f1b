/**
 * Would the sparse graph of Bell et al. (CCS 2020) keep the complete graph's protection at a
 * given n? `node --import tsx bench/secagg/sparse-bound.ts [n [colluders dropouts]]` (default 63,
 * and the complete graph's tolerances). No crypto: exact
 * hypergeometric tails (BigInt binomials), printed per even degree k.
 *
 * The complete graph with the default threshold t = max(ceil(2n/3), 3) gives, for every
 * institution and with certainty: no coalition of the key holder, the coordinator and up to
 * 2t - n - 1 other participants (C) can unmask it, and the round survives up to n - t dropouts
 * (D). In the Harary graph over a ring in a pseudo-random order (shared/secagg/graph.ts) an
 * institution u's k neighbours are a uniformly random k-subset of the other n - 1 (the order is
 * fixed by the round id, independent of who colludes or drops), so, with m = k + 1 shareholders
 * and threshold t' out of m:
 *   - protection fails for u when at least 2t' - m of its k neighbours collude (two survivor
 *     stories each signed by t' of u's shareholders; shared/secagg/README.md), or at least t'
 *     without the coordinator;
 *   - recovery fails for u when more than m - t' of its neighbours drop out.
 * Union bound over the n institutions, best t' per k. Bell et al. ask both failure
 * probabilities to be at most 2^-sigma and 2^-eta (sigma = 40, eta = 30 in their tables).
 */
const n = Number(process.argv[2] ?? 63);
const t = Math.max(Math.ceil((2 * n) / 3), 3);
/** Colluding participants and dropouts to tolerate: the complete graph's, unless given. */
const C = process.argv[3] ? Number(process.argv[3]) : 2 * t - n - 1;
const D = process.argv[4] ? Number(process.argv[4]) : n - t;
const N = n - 1;

const fact: bigint[] = [1n];
for (let i = 1; i <= N; i++) fact.push((fact[i - 1] as bigint) * BigInt(i));
const binom = (a: number, b: number): bigint =>
  b < 0 || b > a ? 0n : (fact[a] as bigint) / ((fact[b] as bigint) * (fact[a - b] as bigint));
/** P[X >= x] for X ~ Hypergeometric(N, K marked, k drawn). */
function tailGe(K: number, k: number, x: number): number {
  let num = 0n;
  for (let i = Math.max(x, 0); i <= Math.min(K, k); i++) num += binom(K, i) * binom(N - K, k - i);
  // Scale to keep precision: the ratio of two BigInts as a double.
  const den = binom(N, k);
  return Number((num * 10n ** 30n) / den) / 1e30;
}
const log2 = (p: number) => (p === 0 ? '-inf' : Math.log2(p).toFixed(1));

console.log(
  `n = ${n}: the complete graph, t = ${t}, is protected against the key holder + coordinator + ${2 * t - n - 1} participants (2t - n - 1) and recovers from ${n - t} dropouts (n - t); asked of the sparse graph here: ${C} colluding participants, ${D} dropouts`,
);
console.log(
  "k   | best t' with P[recovery fails] <= 2^-30 | then log2 P[protection fails] | best t' for protection alone | then log2 P[recovery fails]",
);
for (let k = 2; k <= N; k += 2) {
  const m = k + 1;
  const rows: { t: number; sec: number; cor: number }[] = [];
  for (let tt = Math.floor(m / 2) + 1; tt <= m; tt++)
    rows.push({
      t: tt,
      sec: Math.min(1, n * Math.max(tailGe(C, k, 2 * tt - m), tailGe(C, k, tt))),
      cor: Math.min(1, n * tailGe(D, k, m - tt + 1)),
    });
  const live = rows.filter((r) => r.cor <= 2 ** -30);
  const a = live.length > 0 ? live.reduce((x, y) => (y.sec < x.sec ? y : x)) : undefined;
  const b = rows.reduce((x, y) => (y.sec < x.sec || (y.sec === x.sec && y.cor < x.cor) ? y : x));
  if (k % 8 === 0 || k >= N - 4 || k === 36)
    console.log(
      `${String(k).padEnd(3)} | ${a ? `t' = ${a.t}`.padEnd(38) : 'none'.padEnd(38)} | ${(a ? log2(a.sec) : '').padEnd(28)} | ${`t' = ${b.t}`.padEnd(28)} | ${log2(b.cor)}`,
    );
}
