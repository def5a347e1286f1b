/**
 * What an attacker knows about the slots of one row of a block without seeing them: the
 * relations and inequalities between slots of one row that METRICS.md implies, each with the
 * definition it comes from (docs/DISCLOSURE.md "Attacker model" lists the same). Every one is
 * homogeneous, so the rows that satisfy them form a convex cone: a sum of such rows (a rollup)
 * and any non-negative combination of them satisfy them too. The disclosure audit relies on
 * that (`pinning.ts`): its certificates are non-negative combinations of true rows.
 *
 * Blocks A and B share no slot and METRICS.md implies no relation between them (a starter
 * need not have a counted observation), so each block is handled on its own.
 *
 * @see ../../../shared/spec/METRICS.md "Block A", "Block B"
 */
import type { BlockName } from './types.js';

/** A linear form over the slots of one block: slot -> integer coefficient. */
export type LinearForm = Readonly<Record<string, number>>;

/** `form >= 0` (an inequality) or `form = 0` (a relation) for every row of a block. */
export interface RowConstraint {
  id: string;
  block: BlockName;
  kind: 'ge' | 'eq';
  form: LinearForm;
  /** The constraint in words, e.g. `a_rated <= a_enrolments`. */
  text: string;
  /** The METRICS.md definition it follows from. */
  source: string;
}

const range = (prefix: string, n: number, from = 0): string[] =>
  Array.from({ length: n - from }, (_, i) => `${prefix}${i + from}`);
const sum = (slots: readonly string[], c = 1): Record<string, number> => Object.fromEntries(slots.map((s) => [s, c]));
function plus(...forms: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of forms) for (const [s, c] of Object.entries(f)) out[s] = (out[s] ?? 0) + c;
  for (const s of Object.keys(out)) if (out[s] === 0) delete out[s];
  return out;
}

/** Early-attendance bins of B7..B11: lowest and highest x of each (x is an integer 0..1000). */
const X_LO = [0, 700, 800, 900, 950] as const;
const X_HI = [699, 799, 899, 949, 1000] as const;
const T = range('b_early_total_', 5);
const D = range('b_early_dropout_', 5);
const weighted = (slots: readonly string[], w: readonly number[], sign = 1) =>
  Object.fromEntries(slots.map((s, i) => [s, sign * (w[i] as number)]));
const sq = (w: readonly number[]) => w.map((x) => x * x);
const DROPOUTS = { b_starters: 1, b_retained: -1, b_left_diploma: -1 };

/**
 * Every linear relation and inequality between slots of one row that METRICS.md implies,
 * besides "every slot >= 0". One non-linear inequality is known too and not listed here because
 * it is not linear: Cauchy–Schwarz, `b_early_n * b_sum_x2 >= b_sum_x^2`; the set of rows meeting
 * it is convex, so the audit's certificates (convex combinations) respect it as well.
 */
export const ROW_CONSTRAINTS: readonly RowConstraint[] = Object.freeze([
  // Block A
  {
    id: 'A-rated',
    block: 'A',
    kind: 'ge',
    form: { a_enrolments: 1, a_rated: -1 },
    text: 'a_rated <= a_enrolments',
    source: 'A2 "of those, enrolments with registered > 0"',
  },
  {
    id: 'A-planned',
    block: 'A',
    kind: 'ge',
    form: { a_min_planned: 1, a_min_registered: -1 },
    text: 'a_min_registered <= a_min_planned',
    source: 'planned = registered + minutes(unregistered) (Conventions; A3, A4)',
  },
  {
    id: 'A-registered',
    block: 'A',
    kind: 'eq',
    form: { a_min_registered: 1, a_min_present: -1, a_min_abs_auth: -1, a_min_abs_unauth: -1 },
    text: 'a_min_registered = a_min_present + a_min_abs_auth + a_min_abs_unauth',
    source: 'registered = present + abs_a + abs_u (Conventions; A4..A7)',
  },
  {
    id: 'A-rated-minutes',
    block: 'A',
    kind: 'ge',
    form: { a_min_registered: 1, a_rated: -1 },
    text: 'a_rated <= a_min_registered',
    source: 'A2: a rated enrolment has registered > 0, in whole minutes',
  },
  {
    id: 'A-rated-observations',
    block: 'A',
    kind: 'ge',
    form: { a_obs_registered: 1, a_rated: -1 },
    text: 'a_rated <= a_obs_registered',
    source: 'A2, A8: registered > 0 needs an observation with a registered status',
  },
  {
    id: 'A-late',
    block: 'A',
    kind: 'ge',
    form: { a_obs_registered: 1, a_late: -1 },
    text: 'a_late <= a_obs_registered',
    source: 'A8, A9: late is one of the registered statuses',
  },
  {
    id: 'A-signal-rated',
    block: 'A',
    kind: 'ge',
    form: { a_rated: 1, a_signal16: -1 },
    text: 'a_signal16 <= a_rated',
    source: 'A10: 960 unauthorized minutes make registered > 0',
  },
  {
    id: 'A-signal-minutes',
    block: 'A',
    kind: 'ge',
    form: { a_min_abs_unauth: 1, a_signal16: -960 },
    text: '960 * a_signal16 <= a_min_abs_unauth',
    source: 'A10: each signalled enrolment has at least 960 unauthorized minutes (A7)',
  },
  {
    id: 'A-age',
    block: 'A',
    kind: 'ge',
    form: { a_enrolments: 1, a_age_known: -1 },
    text: 'a_age_known <= a_enrolments',
    source: 'A11',
  },
  {
    id: 'A-u18',
    block: 'A',
    kind: 'ge',
    form: { a_age_known: 1, a_enrolments_u18: -1 },
    text: 'a_enrolments_u18 <= a_age_known',
    source: 'A12: younger than 18 on P0 needs a known age',
  },
  {
    id: 'A-signal-u18',
    block: 'A',
    kind: 'ge',
    form: { a_enrolments_u18: 1, a_signal16_u18: -1 },
    text: 'a_signal16_u18 <= a_enrolments_u18',
    source: 'A13 "of those"',
  },
  {
    id: 'A-signal-u18-signal',
    block: 'A',
    kind: 'ge',
    form: { a_signal16: 1, a_signal16_u18: -1 },
    text: 'a_signal16_u18 <= a_signal16',
    source: 'A13 "counted in a_signal16"',
  },
  {
    id: 'A-hist',
    block: 'A',
    kind: 'eq',
    form: plus(sum(range('a_hist_', 8)), { a_rated: -1 }),
    text: 'a_hist_0 + ... + a_hist_7 = a_rated',
    source: 'A14..A21: the bins cover [0, 100%] of every rated enrolment',
  },
  {
    id: 'A-hist-absent',
    block: 'A',
    kind: 'ge',
    form: plus({ a_min_abs_auth: 1, a_min_abs_unauth: 1 }, sum(range('a_hist_', 8, 1), -1)),
    text: 'a_hist_1 + ... + a_hist_7 <= a_min_abs_auth + a_min_abs_unauth',
    source: 'A15..A21: a share of at least 2% needs an absent minute',
  },
  {
    id: 'A-hist-present',
    block: 'A',
    kind: 'ge',
    form: plus({ a_min_present: 1 }, sum(range('a_hist_', 7), -1)),
    text: 'a_hist_0 + ... + a_hist_6 <= a_min_present',
    source: 'A14..A20: a share below 50% needs a present minute',
  },
  // Block B
  {
    id: 'B-retained',
    block: 'B',
    kind: 'ge',
    form: { b_starters: 1, b_retained: -1 },
    text: 'b_retained <= b_starters',
    source: 'B2 "starters with any enrolment active on P1"',
  },
  {
    id: 'B-dropouts',
    block: 'B',
    kind: 'ge',
    form: DROPOUTS,
    text: 'b_left_diploma <= b_starters - b_retained (dropouts >= 0)',
    source: 'B3 "starters not retained"; dropouts = b_starters - b_retained - b_left_diploma',
  },
  {
    id: 'B-moves',
    block: 'B',
    kind: 'ge',
    form: { b_retained: 1, b_switched: -1, b_progressed: -1 },
    text: 'b_switched + b_progressed <= b_retained',
    source: 'B4, B5: retained starters, switched and progressed exclude each other',
  },
  {
    id: 'B-early-n',
    block: 'B',
    kind: 'ge',
    form: { b_starters: 1, b_early_n: -1 },
    text: 'b_early_n <= b_starters',
    source: 'B6',
  },
  {
    id: 'B-early-bins',
    block: 'B',
    kind: 'eq',
    form: plus(sum(T), { b_early_n: -1 }),
    text: 'b_early_total_0 + ... + b_early_total_4 = b_early_n',
    source: 'B7..B11: the bins cover 0..1000',
  },
  ...T.map(
    (t, i): RowConstraint => ({
      id: `B-early-dropout-${i}`,
      block: 'B',
      kind: 'ge',
      form: { [t]: 1, [D[i] as string]: -1 },
      text: `b_early_dropout_${i} <= b_early_total_${i}`,
      source: 'B12..B16 "of those, dropouts"',
    }),
  ),
  {
    id: 'B-early-dropouts',
    block: 'B',
    kind: 'ge',
    form: plus(DROPOUTS, sum(D, -1)),
    text: 'b_early_dropout_0 + ... + b_early_dropout_4 <= dropouts',
    source: 'B12..B16 count dropouts; dropouts = b_starters - b_retained - b_left_diploma',
  },
  {
    id: 'B-sum-x-low',
    block: 'B',
    kind: 'ge',
    form: plus({ b_sum_x: 1 }, weighted(T, X_LO, -1)),
    text: 'b_sum_x >= 700 b_early_total_1 + 800 b_early_total_2 + 900 b_early_total_3 + 950 b_early_total_4',
    source: 'B17 with the bins of B7..B11',
  },
  {
    id: 'B-sum-x-high',
    block: 'B',
    kind: 'ge',
    form: plus(weighted(T, X_HI), { b_sum_x: -1 }),
    text: 'b_sum_x <= 699 b_early_total_0 + 799 b_early_total_1 + 899 b_early_total_2 + 949 b_early_total_3 + 1000 b_early_total_4',
    source: 'B17 with the bins of B7..B11',
  },
  {
    id: 'B-sum-xy-low',
    block: 'B',
    kind: 'ge',
    form: plus({ b_sum_xy: 1 }, weighted(D, X_LO, -1)),
    text: 'b_sum_xy >= 700 b_early_dropout_1 + ... + 950 b_early_dropout_4',
    source: 'B19 with the bins of B12..B16',
  },
  {
    id: 'B-sum-xy-high',
    block: 'B',
    kind: 'ge',
    form: plus(weighted(D, X_HI), { b_sum_xy: -1 }),
    text: 'b_sum_xy <= 699 b_early_dropout_0 + ... + 1000 b_early_dropout_4',
    source: 'B19 with the bins of B12..B16',
  },
  {
    id: 'B-sum-x-stayed-low',
    block: 'B',
    kind: 'ge',
    form: plus({ b_sum_x: 1, b_sum_xy: -1 }, weighted(T, X_LO, -1), weighted(D, X_LO)),
    text: 'b_sum_x - b_sum_xy >= sum of lowest x over (b_early_total_i - b_early_dropout_i)',
    source: 'B17, B19: the starters with x who are not dropouts',
  },
  {
    id: 'B-sum-x-stayed-high',
    block: 'B',
    kind: 'ge',
    form: plus(weighted(T, X_HI), weighted(D, X_HI, -1), { b_sum_x: -1, b_sum_xy: 1 }),
    text: 'b_sum_x - b_sum_xy <= sum of highest x over (b_early_total_i - b_early_dropout_i)',
    source: 'B17, B19: the starters with x who are not dropouts',
  },
  {
    id: 'B-sum-x2-low',
    block: 'B',
    kind: 'ge',
    form: plus({ b_sum_x2: 1 }, weighted(T, sq(X_LO), -1)),
    text: 'b_sum_x2 >= 700^2 b_early_total_1 + ... + 950^2 b_early_total_4',
    source: 'B18 with the bins of B7..B11',
  },
  {
    id: 'B-sum-x2-high',
    block: 'B',
    kind: 'ge',
    form: plus(weighted(T, sq(X_HI)), { b_sum_x2: -1 }),
    text: 'b_sum_x2 <= 699^2 b_early_total_0 + ... + 1000^2 b_early_total_4',
    source: 'B18 with the bins of B7..B11',
  },
  {
    id: 'B-sum-x2-x',
    block: 'B',
    kind: 'ge',
    form: { b_sum_x: 1000, b_sum_x2: -1 },
    text: 'b_sum_x2 <= 1000 b_sum_x',
    source: 'B17, B18: x <= 1000, so x^2 <= 1000 x',
  },
]);

/**
 * A count that must not be narrowed to a single value for a block that fails a primary rule:
 * every slot (slots are counts >= 0), every slack of an inequality above (dropouts, unregistered
 * minutes, non-rated enrolments, …) and the named derived counts of METRICS.md that are neither
 * (absence minutes = registered − present).
 */
export interface ProtectedCount {
  id: string;
  block: BlockName;
  form: LinearForm;
}

/** The protected counts of a block, slots first (METRICS.md order). */
export function protectedCounts(block: BlockName, slots: readonly string[]): ProtectedCount[] {
  const out: ProtectedCount[] = slots.map((s) => ({ id: s, block, form: { [s]: 1 } }));
  if (block === 'A')
    out.push({ id: 'absent minutes (registered - present)', block, form: { a_min_abs_auth: 1, a_min_abs_unauth: 1 } });
  for (const c of ROW_CONSTRAINTS)
    if (c.block === block && c.kind === 'ge') out.push({ id: `slack of ${c.text}`, block, form: c.form });
  return out;
}

/** The value of a linear form on a row. */
export function evaluate(form: LinearForm, row: Readonly<Record<string, number | null>>): number {
  let v = 0;
  for (const [s, c] of Object.entries(form)) v += c * ((row[s] as number | null | undefined) ?? 0);
  return v;
}

/** Whether a row satisfies every listed constraint of its block (for tests and fixtures). */
export function violatedConstraints(block: BlockName, row: Readonly<Record<string, number>>): string[] {
  return ROW_CONSTRAINTS.filter((c) => {
    if (c.block !== block) return false;
    const v = evaluate(c.form, row);
    return c.kind === 'eq' ? v !== 0 : v < 0;
  }).map((c) => c.id);
}
