import type { Thresholds } from '../../schemas/manifest.js';
import { BLOCK_COUNTS, BLOCKS } from './context.js';
import { decimalFraction } from './exact-rref.js';
import type {
  BlockDecision,
  BlockName,
  DisclosureContext,
  DisclosureDecisions,
  DisclosurePass,
  RowDecision,
  SectorRow,
} from './types.js';

export const DOMINANCE_PASS_NAME = 'dominance';

/** Slot of the summed squared institution sizes of a block (block C, key-holder only). */
export const BLOCK_SQUARES: Readonly<Record<BlockName, string>> = Object.freeze({ A: 'c_sq_a', B: 'c_sq_b' });

/**
 * Whether the largest single institution could hold more than `dominance_share` of a block's
 * population: `sqrt(S2) / N > p/q`, tested in integers as `S2 * q^2 > p^2 * N^2`, with S2 the
 * summed squares (`c_sq_a` / `c_sq_b` of the cell or group row) and N the population.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Disclosure control" (dominance), METRICS.md block C
 */
export function isDominated(row: SectorRow, block: BlockName, thresholds: Thresholds): boolean {
  const n = BigInt(row.values[BLOCK_COUNTS[block].population] as number);
  if (n === 0n) return false;
  const s2 = BigInt(row.facts[BLOCK_SQUARES[block]] as number);
  const { num, den } = decimalFraction(thresholds.dominance_share);
  return s2 * den * den > num * num * n * n;
}

/** The dominance pass: suppresses published blocks that {@link isDominated}. */
export const dominancePass: DisclosurePass = {
  name: DOMINANCE_PASS_NAME,
  apply(ctx: DisclosureContext, current: DisclosureDecisions): DisclosureDecisions {
    const pct = Math.round(ctx.thresholds.dominance_share * 100);
    const refine = (rows: readonly SectorRow[], prev: ReadonlyMap<string, RowDecision>) =>
      new Map(
        rows.map((row) => {
          const before = prev.get(row.key) as RowDecision;
          const out = {} as Record<BlockName, BlockDecision>;
          for (const b of BLOCKS) {
            out[b] =
              before[b].status === 'published' && isDominated(row, b, ctx.thresholds)
                ? {
                    status: 'suppressed',
                    rule: 'dominance',
                    note: `one institution could hold more than ${pct}% of ${BLOCK_COUNTS[b].population}`,
                    pass: DOMINANCE_PASS_NAME,
                  }
                : before[b];
          }
          return [row.key, out] as const;
        }),
      );
    return { cells: refine(ctx.cells, current.cells), rollups: refine(ctx.rollups, current.rollups) };
  },
};
