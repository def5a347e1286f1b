import type { Release, ReleaseRowDistributions } from '../../schemas/release.js';
import type { BlockName, DisclosureContext, RowDecision, SectorRow, SuppressionRule } from './types.js';

/** The two distributions of block C and the block whose population they describe. */
export const DISTRIBUTIONS: readonly { name: 'c_abs_bin' | 'c_drop_bin'; block: BlockName; bins: number }[] =
  Object.freeze([
    { name: 'c_abs_bin', block: 'A', bins: 10 },
    { name: 'c_drop_bin', block: 'B', bins: 10 },
  ]);

/** Counts of released and withheld distributions, by rule. */
export interface DistributionTally {
  published: number;
  withheld: Partial<Record<SuppressionRule, number>>;
}

/**
 * The distributions of one row: the histogram of institutions' rates (`c_abs_bin_*`,
 * `c_drop_bin_*` of the cell or group row) is published only when at least
 * `min_institutions_distribution` institutions are *in* it (the sum of its bins, not the
 * contributors), and only when its block is published (a histogram of k institutions with
 * `a_rated >= 10` would bound a suppressed population from below by 10k); otherwise null with
 * the rule.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Disclosure control" (distributions)
 */
export function rowDistributions(
  row: SectorRow,
  decision: RowDecision,
  minInstitutions: number,
  tally?: DistributionTally,
): ReleaseRowDistributions {
  const out: ReleaseRowDistributions = { c_abs_bin: null, c_drop_bin: null, suppressed: {} };
  for (const d of DISTRIBUTIONS) {
    const bins = Array.from({ length: d.bins }, (_, k) => row.facts[`${d.name}_${k}`] as number);
    const inHist = bins.reduce((a, b) => a + b, 0);
    const block = decision[d.block];
    let rule: SuppressionRule | null = null;
    let note = '';
    if (inHist < minInstitutions) {
      rule = 'min_institutions_distribution';
      note = `${inHist} institution(s) in the histogram, fewer than ${minInstitutions}`;
    } else if (block.status === 'suppressed') {
      rule = block.rule;
      note = `block ${d.block} of this row is suppressed`;
    }
    if (rule === null) {
      out[d.name] = bins;
      if (tally) tally.published++;
    } else {
      out.suppressed[d.name] = { rule, note };
      if (tally) tally.withheld[rule] = (tally.withheld[rule] ?? 0) + 1;
    }
  }
  return out;
}

/** Distributions of every cell and rollup, with the tally. */
export function renderDistributions(
  ctx: DisclosureContext,
  decisions: { cells: ReadonlyMap<string, RowDecision>; rollups: ReadonlyMap<string, RowDecision> },
): {
  cells: Record<string, ReleaseRowDistributions>;
  rollups: Record<string, ReleaseRowDistributions>;
  tally: DistributionTally;
} {
  const tally: DistributionTally = { published: 0, withheld: {} };
  const min = ctx.thresholds.min_institutions_distribution;
  const cells: Record<string, ReleaseRowDistributions> = {};
  for (const r of ctx.cells) cells[r.key] = rowDistributions(r, decisions.cells.get(r.key) as RowDecision, min, tally);
  const rollups: Record<string, ReleaseRowDistributions> = {};
  for (const r of ctx.rollups)
    rollups[r.key] = rowDistributions(r, decisions.rollups.get(r.key) as RowDecision, min, tally);
  return { cells, rollups, tally };
}

/**
 * Distributions across versions (issue 16, item 2): a histogram published in an earlier version
 * of the round and now with other bins shows, by differencing, the rate bins of the institutions
 * that came, left or changed in between. It is withheld now (rule `min_institutions_distribution`)
 * unless the number of institutions in it changed by at least `minInstitutions` (as the
 * histogram of fewer institutions is never published). Changes `dist` in place, tally included;
 * returns how many were withheld. Conservative like the block check: with corrections, the
 * change in count is only a lower bound on the institutions behind the difference.
 */
export function withholdVersionDifferences(
  dist: {
    cells: Record<string, ReleaseRowDistributions>;
    rollups: Record<string, ReleaseRowDistributions>;
    tally: DistributionTally;
  },
  earlier: readonly Release[],
  minInstitutions: number,
): number {
  let withheld = 0;
  for (const kind of ['cells', 'rollups'] as const) {
    for (const [key, now] of Object.entries(dist[kind])) {
      for (const d of DISTRIBUTIONS) {
        const bins = now[d.name];
        if (!bins) continue;
        for (const prev of earlier) {
          const then = prev[kind][key]?.distributions?.[d.name];
          if (!then || then.every((v, k) => v === bins[k])) continue;
          const change = Math.abs(bins.reduce((a, b) => a + b, 0) - then.reduce((a, b) => a + b, 0));
          if (change >= minInstitutions) continue;
          now[d.name] = null;
          now.suppressed[d.name] = {
            rule: 'min_institutions_distribution',
            note: `differs from version ${prev.release_version} by the rates of ${change} institution(s) in the histogram, fewer than ${minInstitutions}`,
          };
          dist.tally.published--;
          dist.tally.withheld.min_institutions_distribution =
            (dist.tally.withheld.min_institutions_distribution ?? 0) + 1;
          withheld++;
          break;
        }
      }
    }
  }
  return withheld;
}
