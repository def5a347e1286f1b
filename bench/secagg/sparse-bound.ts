/**
 * What the sparse graph of Bell et al. (CCS 2020) protects at n participants:
 * `node --import tsx bench/secagg/sparse-bound.ts [n [colluders dropouts]]` (default 500, 5 % and 5 %).
 * Prints, per even degree k with the key holder's default threshold t' of k + 1, log2 of the
 * union bounds of shared/secagg/sparse-bound.ts (exact hypergeometric tails): protection (some
 * institution has 2t' - (k + 1) colluding neighbours), recovery (more than k + 1 - t' dropped
 * neighbours), isolation (all neighbours colluding or dropped), disconnection (k/2 consecutive
 * ring positions colluding or dropped); and the degree the key holder picks
 * (keyholder/endorse.ts `defaultMaskGraph`). Bell et al. ask 2^-40 (security) and 2^-30
 * (correctness); the key holder's default asks 2^-40 of both at 5 % and 5 %.
 */
import { defaultMaskGraph } from '../../keyholder/endorse.js';
import { sparseBounds } from '../../shared/secagg/index.js';

const n = Number(process.argv[2] ?? 500);
const C = process.argv[3] ? Number(process.argv[3]) : Math.ceil(0.05 * n);
const D = process.argv[4] ? Number(process.argv[4]) : Math.ceil(0.05 * n);
const f = (x: number) => (x === Number.NEGATIVE_INFINITY ? '-inf (impossible)' : x.toFixed(1));
console.log(`n = ${n}, ${C} colluding participants (besides coordinator and key holder), ${D} dropouts`);
console.log("k   | t' of k+1 | 2t'-(k+1) | log2 P[protection fails] | recovery | isolation | disconnection");
for (let k = 4; k < Math.min(n, 255, 82); k += 2) {
  const b = sparseBounds(n, k, C, D);
  if (k % 8 === 0 || (k >= 32 && k <= 72))
    console.log(
      `${String(k).padEnd(3)} | ${String(b.threshold).padEnd(9)} | ${String(2 * b.threshold - k - 1).padEnd(9)} ` +
        `| ${f(b.protection).padEnd(24)} | ${f(b.recovery).padEnd(8)} | ${f(b.isolation).padEnd(9)} ` +
        `| ${f(b.disconnect)}`,
    );
}
console.log(`key holder's default graph at ${n}: ${JSON.stringify(defaultMaskGraph(n))}`);
