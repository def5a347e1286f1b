// The sparse graph's failure bounds (shared/secagg/sparse-bound.ts) and the key holder's default
// degree: a small case by hand, the 500-institution case against an independent floating-point
// computation written out here.
import t from 'tap';
import { defaultMaskGraph } from '../../keyholder/endorse.js';
import { protectionStatement } from '../../node/audit/protection.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { sparseBounds, sparseDegree } from '../../shared/secagg/index.js';

t.test('n = 10, degree 4, t = 4 of 5, 3 colluders, 2 dropouts: by hand', async (t) => {
  const b = sparseBounds(10, 4, 3, 2);
  t.equal(b.threshold, 4, 'default t of 5 shareholders: max(ceil(10/3), 3)');
  // 2t - m = 3 of the 4 neighbours colluding: 10 * C(3,3) C(6,1) / C(9,4) = 60/126.
  t.ok(Math.abs(b.protection - Math.log2(60 / 126)) < 1e-9, `protection ${b.protection}`);
  // More than m - t = 1 of them dropped: 10 * C(2,2) C(7,2) / 126 = 210/126 > 1, capped.
  t.equal(b.recovery, 0);
  // All 4 neighbours among the 5 colluding or dropped: 10 * C(5,4) / 126.
  t.ok(Math.abs(b.isolation - Math.log2(50 / 126)) < 1e-9, `isolation ${b.isolation}`);
  // Two consecutive ring positions among the 5: 10 * (5 * 4) / (10 * 9) > 1, capped.
  t.equal(b.disconnect, 0);
  t.equal(sparseBounds(10, 4, 2, 0).protection, Number.NEGATIVE_INFINITY, 'fewer colluders than 2t - m: impossible');
});

/** log of C(a, b), summed in doubles (independent of the BigInt code under test). */
function lnC(a: number, b: number): number {
  let s = 0;
  for (let i = 1; i <= b; i++) s += Math.log(a - b + i) - Math.log(i);
  return s;
}
/** log2 of n * P[HG(n - 1, K, k) >= x], in doubles. */
function tail(n: number, K: number, k: number, x: number): number {
  let p = 0;
  for (let i = x; i <= Math.min(K, k); i++) p += Math.exp(lnC(K, i) + lnC(n - 1 - K, k - i) - lnC(n - 1, k));
  return Math.log2(n * p);
}

t.test('500 institutions: degree 58 (t = 40 of 59) is the smallest meeting 2^-40 at 5 % and 5 %', async (t) => {
  const b = sparseBounds(500, 58, 25, 25);
  t.equal(b.threshold, 40);
  // 2t - m = 21 of the 58 neighbours among the 25 colluders; more than 19 of them among 25 dropouts.
  t.ok(Math.abs(b.protection - tail(500, 25, 58, 21)) < 0.01, `protection 2^${b.protection.toFixed(2)}`);
  t.ok(Math.abs(b.recovery - tail(500, 25, 58, 20)) < 0.01, `recovery 2^${b.recovery.toFixed(2)}`);
  t.ok(b.protection <= -40 && b.recovery <= -40 && b.isolation <= -40 && b.disconnect <= -40);
  // Degree 56 (t = 38 of 57): 19 colluding neighbours suffice, which is likelier than 2^-40.
  t.ok(tail(500, 25, 56, 19) > -40, `degree 56: 2^${tail(500, 25, 56, 19).toFixed(2)}`);
  // The old default, degree 36 (t = 25 of 37): 13 colluding neighbours, about 2^-22.
  t.ok(Math.abs(sparseBounds(500, 36, 25, 25).protection - tail(500, 25, 36, 13)) < 0.01);
  t.ok(tail(500, 25, 36, 13) > -23 && tail(500, 25, 36, 13) < -21);
  t.equal(sparseDegree(500), 58);
  t.same(defaultMaskGraph(500), { kind: 'harary', degree: 58 });
  t.same(defaultMaskGraph(100), { kind: 'complete' }, 'complete graph up to 100');
  t.same(defaultMaskGraph(101), { kind: 'harary', degree: 28 }, 'never below the even 4 log2 n of before');
});

t.test('the privacy text states the graph protection exactly, at 63 (complete) and 500 (sparse)', async (t) => {
  const ps = (n: number) => Array.from({ length: n }, (_, i) => ({ institution_id: `I${i}` }));
  const at = (n: number, secagg: unknown) =>
    protectionStatement({ round_id: 'r', participants: ps(n), secagg } as unknown as RoundManifest);
  // 63, t = 42: 42 other participants, or the coordinator and 2 * 42 - 63 = 21; 63 - 42 = 21 dropouts.
  const c = at(63, { threshold: 42, graph: { kind: 'complete' } });
  t.match(c.en, 'and at least 42 other participants handing over their Shamir shares');
  t.match(c.en, 'the coordinator and at least 21 other participants');
  t.match(c.en, 'If more than 21 institutions drop out');
  t.notMatch(c.en, 'sparse');
  t.match(c.nl, 'minstens 42 andere deelnemers');
  // 500, degree 58, t = 40 of 59: 40 of the 58 neighbours, or the coordinator and 2 * 40 - 59 = 21 of
  // them; more than 59 - 40 = 19 neighbours dropping out fails the round; the bound at 25 colluders.
  const s = at(500, { threshold: 40, graph: { kind: 'harary', degree: 58 } });
  t.match(s.en, 'and at least 40 other participants');
  t.match(s.en, 'the coordinator and at least 21 other participants');
  t.match(s.en, 'shares its secrets only with its 58 neighbours');
  t.match(s.en, 'If 25 participants (5 %) collude');
  t.match(s.en, 'at most 2^-48 (computed)');
  t.match(s.en, 'only if the round id was not chosen knowing who colludes');
  t.match(s.en, 'If more than 19 of one institution');
  t.notMatch(s.en, 'If more than 460 institutions');
  t.match(s.nl, 'hoogstens 2^-48 (berekend)');
});
