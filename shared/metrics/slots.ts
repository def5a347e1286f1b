/**
 * Slot names of the contribution vector, in the order of METRICS.md v1.
 *
 * @see ../../../shared/spec/METRICS.md "The contribution vector of one institution"
 */

/** The metric-spec version this code implements. */
export const METRIC_SPEC = 'v1' as const;

type Below5 = 0 | 1 | 2 | 3 | 4;
type Below8 = Below5 | 5 | 6 | 7;
type Below10 = Below8 | 8 | 9;

/** `prefix0`..`prefix{n-1}`; the caller states the index union `I` matching `n`. */
const range = <P extends string, I extends number>(prefix: P, n: number): `${P}${I}`[] =>
  Array.from({ length: n }, (_, i): `${P}${I}` => `${prefix}${i as I}`);

/** Name of a block C (group row) slot. */
export type GroupSlot =
  | 'c_contrib_a'
  | 'c_contrib_b'
  | 'c_sq_a'
  | 'c_sq_b'
  | `c_abs_bin_${Below10}`
  | `c_drop_bin_${Below10}`;
/** Name of a block A slot. */
export type BlockASlot =
  | 'a_enrolments'
  | 'a_rated'
  | 'a_min_planned'
  | 'a_min_registered'
  | 'a_min_present'
  | 'a_min_abs_auth'
  | 'a_min_abs_unauth'
  | 'a_obs_registered'
  | 'a_late'
  | 'a_signal16'
  | 'a_age_known'
  | 'a_enrolments_u18'
  | 'a_signal16_u18'
  | `a_hist_${Below8}`;
/** Name of a block B slot. */
export type BlockBSlot =
  | 'b_starters'
  | 'b_retained'
  | 'b_left_diploma'
  | 'b_switched'
  | 'b_progressed'
  | 'b_early_n'
  | `b_early_total_${Below5}`
  | `b_early_dropout_${Below5}`
  | 'b_sum_x'
  | 'b_sum_x2'
  | 'b_sum_xy';
/** Name of any of the 64 slots of a cell row. */
export type CellSlot = BlockASlot | BlockBSlot | GroupSlot;

/** Block C slot names (C1..C24); also the 24 slots of a group row. */
export const GROUP_SLOTS: readonly GroupSlot[] = Object.freeze<GroupSlot[]>([
  'c_contrib_a',
  'c_contrib_b',
  'c_sq_a',
  'c_sq_b',
  ...range<'c_abs_bin_', Below10>('c_abs_bin_', 10),
  ...range<'c_drop_bin_', Below10>('c_drop_bin_', 10),
]);

/** Block A slot names (A1..A21). */
export const BLOCK_A_SLOTS: readonly BlockASlot[] = Object.freeze<BlockASlot[]>([
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
  ...range<'a_hist_', Below8>('a_hist_', 8),
]);

/** Block B slot names (B1..B19). */
export const BLOCK_B_SLOTS: readonly BlockBSlot[] = Object.freeze<BlockBSlot[]>([
  'b_starters',
  'b_retained',
  'b_left_diploma',
  'b_switched',
  'b_progressed',
  'b_early_n',
  ...range<'b_early_total_', Below5>('b_early_total_', 5),
  ...range<'b_early_dropout_', Below5>('b_early_dropout_', 5),
  'b_sum_x',
  'b_sum_x2',
  'b_sum_xy',
]);

/** The 64 slots of a cell row: blocks A, B, C in METRICS.md order. */
export const CELL_SLOTS: readonly CellSlot[] = Object.freeze<CellSlot[]>([
  ...BLOCK_A_SLOTS,
  ...BLOCK_B_SLOTS,
  ...GROUP_SLOTS,
]);

export const CELL_WIDTH = CELL_SLOTS.length; // 64
export const GROUP_WIDTH = GROUP_SLOTS.length; // 24

/** Index of each cell slot by name. */
export const CELL_SLOT_INDEX: Readonly<Record<CellSlot, number>> = Object.freeze(
  Object.fromEntries(CELL_SLOTS.map((s, i) => [s, i])) as Record<CellSlot, number>,
);

/** Index of each group slot by name. */
export const GROUP_SLOT_INDEX: Readonly<Record<GroupSlot, number>> = Object.freeze(
  Object.fromEntries(GROUP_SLOTS.map((s, i) => [s, i])) as Record<GroupSlot, number>,
);

/** Slots that never leave the key holder (ARCHITECTURE.md, disclosure control). */
export const KEYHOLDER_ONLY_SLOTS: readonly string[] = Object.freeze(['c_sq_a', 'c_sq_b']);

/** Whether `name` is one of the 64 cell slots of METRICS.md v1. */
export function isCellSlot(name: string): name is CellSlot {
  return Object.hasOwn(CELL_SLOT_INDEX, name);
}

/** Whether `name` is one of the 24 group slots of METRICS.md v1. */
export function isGroupSlot(name: string): name is GroupSlot {
  return Object.hasOwn(GROUP_SLOT_INDEX, name);
}

/**
 * Index of a cell slot given by a name that is only known at run time.
 *
 * @throws Error when `name` is not one of the 64 cell slots of METRICS.md v1.
 */
export function cellSlotIndex(name: string): number {
  const i = (CELL_SLOT_INDEX as Readonly<Record<string, number>>)[name];
  if (i === undefined) throw new Error(`${name} is not a cell slot of METRICS.md ${METRIC_SPEC}`);
  return i;
}

/**
 * Index of a group slot given by a name that is only known at run time.
 *
 * @throws Error when `name` is not one of the 24 group slots of METRICS.md v1.
 */
export function groupSlotIndex(name: string): number {
  const i = (GROUP_SLOT_INDEX as Readonly<Record<string, number>>)[name];
  if (i === undefined) throw new Error(`${name} is not a group slot of METRICS.md ${METRIC_SPEC}`);
  return i;
}
