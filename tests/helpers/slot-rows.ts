/**
 * Hand-written release rows for the partial-slot tests of the node's comparison
 * (`tests/report/partial-slots.test.ts`) and the coordinator's site
 * (`tests/coordinator/site-partial-slots.test.ts`): slot helpers and one block A whose figures
 * both tests work out by hand.
 */

/** Slot values of one row; null: not published. */
export type Slots = Record<string, number | null>;

/** `a_hist_0` .. `a_hist_7` from a list. */
export const hist = (xs: (number | null)[]): Slots => Object.fromEntries(xs.map((x, i) => [`a_hist_${i}`, x]));

/** `b_early_total_i` or `b_early_dropout_i` (i = 0..4) from a list. */
export const band = (kind: 'total' | 'dropout', xs: (number | null)[]): Slots =>
  Object.fromEntries(xs.map((x, i) => [`b_early_${kind}_${i}`, x]));

/**
 * A block A published whole: 125 enrolments. By hand: absence (30.000 + 20.000) / 450.000 =
 * 11,1%; unauthorised 20.000 / 450.000 = 4,4%; chronic (10 + 10 + 5 + 5 + 0) / 120 = 25,0%;
 * 16-hour signal 10 / 125 = 8,0%.
 */
export const BLOCK_A_125: Slots = {
  a_enrolments: 125,
  a_rated: 120,
  a_min_planned: 500_000,
  a_min_registered: 450_000,
  a_min_present: 400_000,
  a_min_abs_auth: 30_000,
  a_min_abs_unauth: 20_000,
  a_obs_registered: 10_000,
  a_late: 300,
  a_signal16: 10,
  a_age_known: 125,
  a_enrolments_u18: 50,
  a_signal16_u18: 5,
  ...hist([50, 25, 15, 10, 10, 5, 5, 0]),
};
