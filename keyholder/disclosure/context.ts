import { getAt } from '../../shared/arrays/checked-index.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS, CELL_SLOT_INDEX, GROUP_SLOTS } from '../../shared/metrics/slots.js';
import type { BlockName, DisclosureContext, SectorInput, SectorRow } from './types.js';

/** The slots of each published block, in METRICS.md order. */
export const BLOCK_SLOTS: Readonly<Record<BlockName, readonly string[]>> = Object.freeze({
  A: BLOCK_A_SLOTS,
  B: BLOCK_B_SLOTS,
});

/** Blocks in release order. */
export const BLOCKS: readonly BlockName[] = Object.freeze(['A', 'B'] as BlockName[]);

/** Slot whose `c_contrib_*` counts a block's institutions, and slot that is its population. */
export const BLOCK_COUNTS: Readonly<Record<BlockName, { institutions: string; population: string }>> = Object.freeze({
  A: { institutions: 'c_contrib_a', population: 'a_enrolments' },
  B: { institutions: 'c_contrib_b', population: 'b_starters' },
});

const AB_SLOTS = [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS];

/**
 * Build the rows disclosure control works on from the decrypted sector vector: one per
 * codebook cell (its own blocks A, B and C) and one per rollup group (blocks A and B summed
 * over the group's cells; block C from the group row).
 *
 * @see ../../../shared/spec/METRICS.md "Derived figures" (rollups) and "Group rows"
 */
export function disclosureContext(input: SectorInput): DisclosureContext {
  const { codebook, sector } = input;
  const cells: SectorRow[] = codebook.cellKeys.map((key, i) => {
    const row = sector.cells[i] as number[];
    const values: Record<string, number> = {};
    for (const s of AB_SLOTS) values[s] = row[CELL_SLOT_INDEX[s] as number] as number;
    const facts: Record<string, number> = {};
    for (const s of GROUP_SLOTS) facts[s] = row[CELL_SLOT_INDEX[s] as number] as number;
    return { kind: 'cell', key, values, facts, cells: [i] };
  });
  const rollups: SectorRow[] = codebook.groupKeys.map((key, j) => {
    const members = codebook.groupCells.get(key) ?? [];
    const values: Record<string, number> = {};
    for (const s of AB_SLOTS) {
      const k = CELL_SLOT_INDEX[s] as number;
      let sum = 0;
      for (const i of members) sum += (sector.cells[i] as number[])[k] as number;
      values[s] = sum;
    }
    const g = sector.groups[j] as number[];
    const facts: Record<string, number> = {};
    GROUP_SLOTS.forEach((s, k) => {
      facts[s] = getAt(g, k);
    });
    return { kind: 'rollup', key, values, facts, cells: members };
  });
  return { codebook, thresholds: input.thresholds, contributions: input.contributions, cells, rollups };
}
