import type { Thresholds } from '../../schemas/manifest.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import type { ContributionVector } from '../../shared/metrics/vector.js';
import { BLOCK_COUNTS, BLOCKS, disclosureContext } from './context.js';
import { allPublished, runDisclosure } from './pipeline.js';
import type {
  BlockDecision,
  BlockName,
  DisclosureContext,
  DisclosureDecisions,
  DisclosurePass,
  RowDecision,
  SectorRow,
} from './types.js';

/**
 * Primary disclosure control of one block of one row (ARCHITECTURE.md "Disclosure control",
 * first bullet): suppressed by `min_institutions` when fewer than `min_institutions`
 * institutions contributed to it (`c_contrib_a` / `c_contrib_b` of the cell or group row),
 * otherwise by `min_population` when its population (`a_enrolments` / `b_starters`) is below
 * `min_population`; otherwise published. The note never states a suppressed population.
 */
export function primaryBlockDecision(row: SectorRow, block: BlockName, thresholds: Thresholds): BlockDecision {
  const { institutions, population } = BLOCK_COUNTS[block];
  const n = row.facts[institutions] as number;
  if (n < thresholds.min_institutions) {
    return {
      status: 'suppressed',
      rule: 'min_institutions',
      note: `${n} contributing institution(s), fewer than ${thresholds.min_institutions}`,
      pass: PRIMARY_PASS_NAME,
    };
  }
  if ((row.values[population] as number) < thresholds.min_population) {
    return {
      status: 'suppressed',
      rule: 'min_population',
      note: `${population} below ${thresholds.min_population}`,
      pass: PRIMARY_PASS_NAME,
    };
  }
  return { status: 'published' };
}

export const PRIMARY_PASS_NAME = 'primary';

/** The primary pass: {@link primaryBlockDecision} for every block of every cell and rollup. */
export const primaryPass: DisclosurePass = {
  name: PRIMARY_PASS_NAME,
  apply(ctx: DisclosureContext, current: DisclosureDecisions): DisclosureDecisions {
    const refine = (rows: readonly SectorRow[], prev: ReadonlyMap<string, RowDecision>) =>
      new Map(
        rows.map((row) => {
          const before = prev.get(row.key) as RowDecision;
          const out = {} as Record<BlockName, BlockDecision>;
          for (const b of BLOCKS)
            out[b] = before[b].status === 'suppressed' ? before[b] : primaryBlockDecision(row, b, ctx.thresholds);
          return [row.key, out] as const;
        }),
      );
    return { cells: refine(ctx.cells, current.cells), rollups: refine(ctx.rollups, current.rollups) };
  },
};

/**
 * Primary disclosure control as a pure function of the decrypted sector vector, codebook and
 * thresholds: per cell and rollup group, blocks A and B published or suppressed with the rule.
 */
export function primaryDisclosure(
  codebook: Codebook,
  sector: ContributionVector,
  thresholds: Thresholds,
  contributions: number,
): DisclosureDecisions {
  const ctx = disclosureContext({ codebook, sector, thresholds, contributions });
  return runDisclosure(ctx, [primaryPass], allPublished(ctx)).decisions;
}
