import type { Codebook } from '../shared/metrics/codebook.js';
import { getAt } from '../shared/arrays/checked-index.js';
import { cellSlotIndex, groupSlotIndex } from '../shared/metrics/slots.js';
import type { ContributionVector } from '../shared/metrics/vector.js';

/** One failed consistency check: where, which slot(s), and the rule that failed. */
export interface ConsistencyViolation {
  row: 'cell' | 'group';
  key: string;
  slot: string;
  rule: string;
}

const range = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
const A_HIST = range('a_hist_', 8);
const B_TOTAL = range('b_early_total_', 5);
const B_DROP = range('b_early_dropout_', 5);
const C_ABS = range('c_abs_bin_', 10);
const C_DROP = range('c_drop_bin_', 10);

/**
 * Consistency checks on a decrypted sector sum: identities and inequalities that every sum of
 * correct METRICS.md vectors satisfies. A failure means a contribution was computed wrongly,
 * forged or wrapped modulo t; the key holder then refuses to release anything. Returns every
 * violation (empty when consistent); values are not included, only row, slot and rule.
 *
 * @param contributions number of contributions in the sum (bounds the `c_contrib_*` counts)
 * @see ../../shared/spec/METRICS.md "The contribution vector of one institution"
 */
export function checkConsistency(
  codebook: Codebook,
  v: ContributionVector,
  contributions: number,
): ConsistencyViolation[] {
  const out: ConsistencyViolation[] = [];
  const n = BigInt(contributions);
  codebook.cellKeys.forEach((key, i) => {
    const g = cellGetter(v, i);
    const fail: Fail = (slot, rule) => out.push({ row: 'cell', key, slot, rule });
    checkBlockA(g, fail);
    checkBlockB(g, fail);
    checkBlockC(g, fail, n, g('a_enrolments'), g('b_starters'));
  });
  codebook.groupKeys.forEach((key, j) => {
    const row = v.groups[j];
    if (!row) throw new Error(`the vector has no row for group ${key}`);
    const g = (s: string) => BigInt(getAt(row, groupSlotIndex(s)));
    const fail: Fail = (slot, rule) => out.push({ row: 'group', key, slot, rule });
    const { popA, popB } = checkGroupAgainstCells(codebook, v, key, g, fail);
    checkBlockC(g, fail, n, popA, popB);
  });
  return out;
}

type Get = (slot: string) => bigint;
type Fail = (slot: string, rule: string) => void;

/** The slots of cell row `i` as BigInt. */
function cellGetter(v: ContributionVector, i: number): Get {
  const row = v.cells[i];
  if (!row) throw new Error(`the vector has no row for cell ${i}`);
  return (s: string) => BigInt(getAt(row, cellSlotIndex(s)));
}

/** Block A of a cell: the histogram, minute and enrolment inequalities. */
function checkBlockA(g: Get, fail: Fail): void {
  const le = (a: string, b: string) => {
    if (g(a) > g(b)) fail(a, `${a} <= ${b}`);
  };
  if (A_HIST.reduce((acc, s) => acc + g(s), 0n) !== g('a_rated')) fail('a_hist_0', 'sum of a_hist_* = a_rated');
  le('a_rated', 'a_enrolments');
  if (g('a_min_present') + g('a_min_abs_auth') + g('a_min_abs_unauth') !== g('a_min_registered'))
    fail('a_min_registered', 'a_min_present + a_min_abs_auth + a_min_abs_unauth = a_min_registered');
  le('a_min_registered', 'a_min_planned');
  le('a_late', 'a_obs_registered');
  le('a_signal16', 'a_enrolments');
  le('a_signal16_u18', 'a_signal16');
  le('a_signal16_u18', 'a_enrolments_u18');
  le('a_enrolments_u18', 'a_age_known');
  le('a_age_known', 'a_enrolments');
  if (g('a_rated') > 0n && g('a_min_registered') === 0n)
    fail('a_min_registered', 'a_min_registered > 0 when a_rated > 0');
}

/** Block B of a cell: starters, retention, early-warning totals and the x, x², xy sums. */
function checkBlockB(g: Get, fail: Fail): void {
  const le = (a: string, b: string) => {
    if (g(a) > g(b)) fail(a, `${a} <= ${b}`);
  };
  const sum = (names: readonly string[]) => names.reduce((acc, s) => acc + g(s), 0n);
  le('b_retained', 'b_starters');
  if (g('b_retained') + g('b_left_diploma') > g('b_starters'))
    fail('b_left_diploma', 'b_retained + b_left_diploma <= b_starters');
  if (g('b_switched') + g('b_progressed') > g('b_retained'))
    fail('b_switched', 'b_switched + b_progressed <= b_retained');
  le('b_early_n', 'b_starters');
  if (sum(B_TOTAL) !== g('b_early_n')) fail('b_early_total_0', 'sum of b_early_total_* = b_early_n');
  B_DROP.forEach((d, i) => {
    le(d, `b_early_total_${i}`);
  });
  const dropouts = g('b_starters') - g('b_retained') - g('b_left_diploma');
  const earlyDrop = sum(B_DROP);
  if (earlyDrop > dropouts)
    fail('b_early_dropout_0', 'sum of b_early_dropout_* <= b_starters - b_retained - b_left_diploma');
  if (g('b_sum_x') > 1000n * g('b_early_n')) fail('b_sum_x', 'b_sum_x <= 1000 * b_early_n');
  if (g('b_sum_x2') > 1000n * g('b_sum_x')) fail('b_sum_x2', 'b_sum_x2 <= 1000 * b_sum_x');
  if (g('b_sum_x') * g('b_sum_x') > g('b_early_n') * g('b_sum_x2'))
    fail('b_sum_x2', 'b_sum_x^2 <= b_early_n * b_sum_x2 (Cauchy-Schwarz)');
  le('b_sum_xy', 'b_sum_x');
  if (g('b_sum_xy') > 1000n * earlyDrop) fail('b_sum_xy', 'b_sum_xy <= 1000 * sum of b_early_dropout_*');
}

/** Block C facts (cell block C or group row): institution counts, squares, one-hot bins. */
function checkBlockC(g: Get, fail: Fail, n: bigint, popA: bigint, popB: bigint): void {
  for (const [contrib, sq, pop, bins, firstBin] of [
    ['c_contrib_a', 'c_sq_a', popA, C_ABS, 'c_abs_bin_0'],
    ['c_contrib_b', 'c_sq_b', popB, C_DROP, 'c_drop_bin_0'],
  ] as const) {
    const k = g(contrib);
    const q = g(sq);
    if (k > n) fail(contrib, `${contrib} <= number of contributions (${n})`);
    if (k > pop) fail(contrib, `${contrib} <= population`);
    if (pop > 0n && k === 0n) fail(contrib, `${contrib} >= 1 when the population is positive`);
    if (q < pop) fail(sq, `${sq} >= population (every contributing institution has n_i >= 1)`);
    if (q > pop * pop) fail(sq, `${sq} <= population^2`);
    if (k * q < pop * pop) fail(sq, `${contrib} * ${sq} >= population^2 (Cauchy-Schwarz)`);
    let inBins = 0n;
    for (const b of bins) inBins += g(b);
    if (inBins > k) fail(firstBin, `sum of ${firstBin.replace(/_0$/, '_*')} <= ${contrib}`);
  }
}

/**
 * A group row against its member cells (counts and squares between the cells' sum and maximum);
 * returns the group's populations (sum of its cells' a_enrolments and b_starters) for block C.
 */
function checkGroupAgainstCells(
  codebook: Codebook,
  v: ContributionVector,
  key: string,
  g: Get,
  fail: Fail,
): { popA: bigint; popB: bigint } {
  let popA = 0n;
  let popB = 0n;
  const cellContrib = { a: { max: 0n, sum: 0n }, b: { max: 0n, sum: 0n } };
  const cellSq = { a: 0n, b: 0n };
  for (const i of codebook.groupCells.get(key) ?? []) {
    const c = cellGetter(v, i);
    popA += c('a_enrolments');
    popB += c('b_starters');
    for (const [k, slot, sq] of [
      ['a', 'c_contrib_a', 'c_sq_a'],
      ['b', 'c_contrib_b', 'c_sq_b'],
    ] as const) {
      const x = c(slot);
      cellContrib[k].sum += x;
      if (x > cellContrib[k].max) cellContrib[k].max = x;
      cellSq[k] += c(sq);
    }
  }
  for (const k of ['a', 'b'] as const) {
    const x = g(`c_contrib_${k}`);
    if (x > cellContrib[k].sum) fail(`c_contrib_${k}`, `c_contrib_${k} <= sum of the group's cells' c_contrib_${k}`);
    if (x < cellContrib[k].max) fail(`c_contrib_${k}`, `c_contrib_${k} >= every cell's c_contrib_${k} in the group`);
    if (g(`c_sq_${k}`) < cellSq[k]) fail(`c_sq_${k}`, `c_sq_${k} >= sum of the group's cells' c_sq_${k}`);
  }
  return { popA, popB };
}
