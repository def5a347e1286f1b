/**
 * Which sector figures of a release row are withheld, and by which rule. The key holder
 * withholds a block (A or B) as a whole by nulling its population slot (`a_enrolments`,
 * `b_starters`) with the rest of the block; since secondary disclosure control it may also
 * withhold single slots of a published rollup block (e.g. `b_early_dropout_1` of a sectorkamer
 * per niveau). A figure is then withheld exactly when it needs a withheld slot: the other
 * figures of the block are still shown.
 *
 * Shared by the node's comparison (node/report/withheld.ts re-exports it) and the coordinator's
 * publication site and CSV, so both withhold exactly the same figures for the same release.
 *
 * @see ../../../shared/spec/METRICS.md "Derived figures"; ./derived.ts
 */
import type { ReleaseRow } from '../../schemas/release.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS, type BlockASlot, type BlockBSlot } from './slots.js';

/** A block of a cell or rollup row that the key holder publishes or withholds. */
export type Block = 'A' | 'B';

/** The population slot of each block: the block is withheld as a whole when this slot is null. */
export const BLOCK_POPULATION: Readonly<Record<Block, BlockASlot | BlockBSlot>> = Object.freeze({
  A: 'a_enrolments',
  B: 'b_starters',
});

const BAND_INDICES = [0, 1, 2, 3, 4] as const;

/**
 * The slots each derived figure of `DERIVED` reads (METRICS.md "Derived figures"), by id. Kept
 * beside the comparison so a withheld slot withholds exactly the figures that need it;
 * tests/report/partial-slots.test.ts checks it against the formulas of `DERIVED`.
 */
export const FIGURE_INPUTS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  attendance_rate: ['a_min_present', 'a_min_registered'],
  absence_rate: ['a_min_abs_auth', 'a_min_abs_unauth', 'a_min_registered'],
  absence_authorized_rate: ['a_min_abs_auth', 'a_min_registered'],
  absence_unauthorized_rate: ['a_min_abs_unauth', 'a_min_registered'],
  registration_coverage: ['a_min_registered', 'a_min_planned'],
  chronic_absence_share: ['a_hist_3', 'a_hist_4', 'a_hist_5', 'a_hist_6', 'a_hist_7', 'a_rated'],
  signal16_share: ['a_signal16', 'a_enrolments'],
  startersresultaat: ['b_retained', 'b_left_diploma', 'b_starters'],
  dropout_share: ['b_starters', 'b_retained', 'b_left_diploma'],
  switch_share: ['b_switched', 'b_starters'],
  progression_share: ['b_progressed', 'b_starters'],
  late_per_100: ['a_late', 'a_obs_registered'],
  signal16_u18_share: ['a_signal16_u18', 'a_enrolments_u18'],
});

/** Id of the dropout rate of early-attendance band `i` among the withheld figures. */
export const earlyBandId = (i: number): string => `early_dropout_${i}`;

/** Id of Pearson r (early attendance and dropout) among the withheld figures. */
export const PEARSON_ID = 'pearson_r';

/** Slots of the dropout rate of early-attendance band `i`: `b_early_dropout_i / b_early_total_i`. */
export function earlyBandInputs(i: number): readonly string[] {
  return [`b_early_total_${i}`, `b_early_dropout_${i}`];
}

/** Slots of Pearson r (shared/metrics/derived.ts `pearsonEarly`). */
export const PEARSON_INPUTS: readonly BlockBSlot[] = Object.freeze<BlockBSlot[]>([
  'b_early_n',
  'b_sum_x',
  'b_sum_x2',
  'b_sum_xy',
  ...BAND_INDICES.map((i): BlockBSlot => `b_early_dropout_${i}`),
]);

/**
 * The slots a figure needs. A figure this module does not know needs its whole block, so a new
 * figure is withheld whenever any slot of its block is (the safe reading) until it is listed.
 */
export function figureInputs(id: string, block: Block): readonly string[] {
  return FIGURE_INPUTS[id] ?? (block === 'A' ? BLOCK_A_SLOTS : BLOCK_B_SLOTS);
}

/** Rule of a null slot; a null without an entry (not a valid release) still reads as withheld. */
function slotRule(row: ReleaseRow, slot: string): string | null {
  if (row.slots[slot] !== null) return null;
  return row.suppressed[slot]?.rule ?? 'withheld';
}

/**
 * The blocks withheld as a whole, with their rule: a block is withheld when its population slot
 * is null (its rule is that slot's). A block with only single slots withheld is published.
 */
export function blockRules(row: ReleaseRow): Partial<Record<Block, string>> {
  const out: Partial<Record<Block, string>> = {};
  for (const b of ['A', 'B'] as const) {
    const rule = slotRule(row, BLOCK_POPULATION[b]);
    if (rule !== null) out[b] = rule;
  }
  return out;
}

/**
 * Why a sector figure needing `inputs` of `block` is not published: the block's rule when the
 * block is withheld, else the rule of the first withheld slot it needs; null when it is published.
 */
export function withheldRule(
  row: ReleaseRow,
  blocks: Partial<Record<Block, string>>,
  block: Block,
  inputs: readonly string[],
): string | null {
  const whole = blocks[block];
  if (whole !== undefined) return whole;
  for (const slot of inputs) {
    const rule = slotRule(row, slot);
    if (rule !== null) return rule;
  }
  return null;
}

/**
 * The figures withheld singly in a row whose block is published: figure id (a `DERIVED` id,
 * `early_dropout_<i>` or `pearson_r`) to the rule of the first withheld slot it needs. Figures
 * of a withheld block are not listed (the block's rule says it for all of them).
 */
export function singlyWithheld(
  row: ReleaseRow,
  blocks: Partial<Record<Block, string>>,
  figures: readonly { id: string; block: Block }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (id: string, block: Block, inputs: readonly string[]) => {
    if (blocks[block] !== undefined) return;
    const rule = withheldRule(row, blocks, block, inputs);
    if (rule !== null) out[id] = rule;
  };
  for (const f of figures) add(f.id, f.block, figureInputs(f.id, f.block));
  for (const i of BAND_INDICES) add(earlyBandId(i), 'B', earlyBandInputs(i));
  add(PEARSON_ID, 'B', PEARSON_INPUTS);
  return out;
}

/**
 * Why derived figure `id` (of `block`) of a row is not published: the block's rule when the block
 * is withheld as a whole, else the rule of the first withheld slot the figure needs; null when it
 * is published. One call for pages and CSVs that show a figure at a time.
 */
export function figureRule(row: ReleaseRow, id: string, block: Block): string | null {
  return withheldRule(row, blockRules(row), block, figureInputs(id, block));
}

const A_SET: ReadonlySet<string> = new Set<string>(BLOCK_A_SLOTS);
const B_SET: ReadonlySet<string> = new Set<string>(BLOCK_B_SLOTS);

/** The block a slot belongs to, or null for a slot of neither (block C of group rows). */
export function blockOfSlot(slot: string): Block | null {
  return A_SET.has(slot) ? 'A' : B_SET.has(slot) ? 'B' : null;
}

/**
 * One slot as published: its value, or null with the rule — its own when it is null, its block's
 * when the block is withheld as a whole (a null population slot withholds every slot of the
 * block, even one the release still carries), so a CSV line never shows a figure of a withheld block.
 */
export function publishedSlot(row: ReleaseRow, slot: string): { value: number | null; rule: string | null } {
  const own = slotRule(row, slot);
  if (own !== null) return { value: null, rule: own };
  const b = blockOfSlot(slot);
  const whole = b === null ? undefined : blockRules(row)[b];
  if (whole !== undefined) return { value: null, rule: whole };
  return { value: row.slots[slot] ?? null, rule: null };
}
