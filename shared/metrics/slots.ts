/**
 * Slot names of the contribution vector, in the order of METRICS.md v1.
 *
 * @see ../../../shared/spec/METRICS.md "The contribution vector of one institution"
 */

/** The metric-spec version this code implements. */
export const METRIC_SPEC = 'v1' as const;

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Block C slot names (C1..C24); also the 24 slots of a group row. */
export const GROUP_SLOTS: readonly string[] = Object.freeze([
  'c_contrib_a',
  'c_contrib_b',
  'c_sq_a',
  'c_sq_b',
  ...range('c_abs_bin_', 10),
  ...range('c_drop_bin_', 10),
]);

/** Block A slot names (A1..A21). */
export const BLOCK_A_SLOTS: readonly string[] = Object.freeze([
  'a_enrolments',
  'a_rated',
  'a_min_planned',
  'a_min_registered',
  'a_min_present',
  'a_min_abs_auth',
  'a_min_abs_unauth',
  'a_obs_registered',
  'a_late',
  'a_signal16',
  'a_age_known',
  'a_enrolments_u18',
  'a_signal16_u18',
  ...range('a_hist_', 8),
]);

/** Block B slot names (B1..B19). */
export const BLOCK_B_SLOTS: readonly string[] = Object.freeze([
  'b_starters',
  'b_retained',
  'b_left_diploma',
  'b_switched',
  'b_progressed',
  'b_early_n',
  ...range('b_early_total_', 5),
  ...range('b_early_dropout_', 5),
  'b_sum_x',
  'b_sum_x2',
  'b_sum_xy',
]);

/** The 64 slots of a cell row: blocks A, B, C in METRICS.md order. */
export const CELL_SLOTS: readonly string[] = Object.freeze([...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS, ...GROUP_SLOTS]);

export const CELL_WIDTH = CELL_SLOTS.length; // 64
export const GROUP_WIDTH = GROUP_SLOTS.length; // 24

/** Index of each cell slot by name. */
export const CELL_SLOT_INDEX: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(CELL_SLOTS.map((s, i) => [s, i])),
);

/** Index of each group slot by name. */
export const GROUP_SLOT_INDEX: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(GROUP_SLOTS.map((s, i) => [s, i])),
);

/** Slots that never leave the key holder (ARCHITECTURE.md, disclosure control). */
export const KEYHOLDER_ONLY_SLOTS: readonly string[] = Object.freeze(['c_sq_a', 'c_sq_b']);
