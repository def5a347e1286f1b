/**
 * The institution's comparison (issue 14): per programme cell and rollup group its own
 * figures, the sector *without us* (published sector sum minus the node's own vector, computed
 * here and never sent), the whole sector, funnel limits around the sector without us, and the
 * institution's place among institutions where distributions are published. Computed on the
 * node only; own figures never leave it.
 *
 * @see ../../../shared/spec/METRICS.md "Derived figures"; node/report/funnel.ts
 */
import type { Release, ReleaseRow } from '../../schemas/release.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { DERIVED, earlyBandDropout, pearsonEarly, type Sums } from '../../shared/metrics/derived.js';
import {
  BLOCK_A_SLOTS,
  BLOCK_B_SLOTS,
  CELL_SLOT_INDEX,
  GROUP_SLOT_INDEX,
  isCellSlot,
  isGroupSlot,
} from '../../shared/metrics/slots.js';
import { getAt, itemAt } from '../../shared/arrays/checked-index.js';
import type { ContributionVector } from '../../shared/metrics/vector.js';
import { cellLabel, groupLabel, namesOf, type Names } from '../../shared/pages/labels.js';
import { type FunnelLimits, type FunnelVerdict, funnelLimits, funnelVerdict } from './funnel.js';
import { blockRules, earlyBandId, figureInputs, PEARSON_ID, singlyWithheld, withheldRule } from './withheld.js';

const AB = [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS];

/** One derived figure of one row, compared. */
export interface FigureComparison {
  id: string;
  label: string;
  unit: 'share' | 'per100';
  block: 'A' | 'B';
  higherIsBetter: boolean | null;
  own: number | null;
  /** Population of the own figure (persons; the funnel's n). */
  ownN: number | null;
  withoutUs: number | null;
  sector: number | null;
  /** Limits at `ownN` around `withoutUs` (the funnel's target); null without a target. */
  limits: FunnelLimits | null;
  verdict: FunnelVerdict | null;
  /**
   * Why the sector figure (and so the sector without us, the limits and the verdict) is not
   * published: the rule of its withheld block, or of the first withheld slot it needs; null
   * when it is published.
   */
  sectorRule: string | null;
}

/** The institution's place in a published distribution of institutions' rates (block C). */
export interface Position {
  which: 'c_abs_bin' | 'c_drop_bin';
  /** Institutions in the histogram (with us when we are in it). */
  inHistogram: number;
  /** Our bin (0..9), or null when we are not in the histogram (too small). */
  ownBin: number | null;
  /** Institutions in lower bins than ours. */
  lower: number;
  /** Other institutions in our bin. */
  sameBin: number;
  /** Institutions in higher bins. */
  higher: number;
  histogram: number[];
}

/** One row of the comparison: a programme cell or a rollup group where we have data. */
export interface ComparisonRow {
  kind: 'cell' | 'rollup';
  key: string;
  label: string;
  own: { enrolments: number; starters: number; sums: Sums };
  withoutUs: { sums: Sums; institutions: { a: number; b: number } };
  sector: {
    sums: Sums;
    institutions: { a: number; b: number };
    /** Rule per block ('A', 'B') where the sector block was withheld (its population slot is null). */
    suppressed: Partial<Record<'A' | 'B', string>>;
    /**
     * Figures withheld singly while their block is published (a slot they need is null): figure
     * id (a `DERIVED` id, `early_dropout_<i>`, `pearson_r`) to the rule of that slot.
     */
    withheld: Record<string, string>;
    released: boolean;
  };
  figures: FigureComparison[];
  early: { own: Band[]; withoutUs: Band[]; sector: Band[] };
  pearson: { own: number | null; withoutUs: number | null; sector: number | null };
  positions: { absence: Position | null; dropout: Position | null };
  /** Rules that withheld distributions here (when no position could be given). */
  distributionRules: Partial<Record<'c_abs_bin' | 'c_drop_bin', string>>;
}

export type Band = ReturnType<typeof earlyBandDropout>[number];

/** Whole comparison with its context. */
export interface Comparison {
  institution: { id: string; name: string };
  roundId: string;
  studiejaar: string;
  releaseVersion: number;
  /** Whether the sector sum includes our contribution (we submitted and hold a receipt). */
  ownIncluded: boolean;
  thresholds: Release['thresholds'];
  rows: ComparisonRow[];
  names: Names;
}

function sumRows(rows: readonly (readonly number[])[]): Sums {
  const s: Sums = {};
  for (const slot of AB) s[slot] = rows.reduce((a, r) => a + getAt(r, CELL_SLOT_INDEX[slot]), 0);
  return s;
}

/** Sector minus own, slot by slot; null where the sector slot is withheld (or missing). */
export function withoutOwn(sector: Sums, own: Sums, ownIncluded: boolean): Sums {
  const out: Sums = {};
  for (const slot of AB) {
    const s = sector[slot];
    if (s === null || s === undefined) {
      out[slot] = null;
      continue;
    }
    const o = own[slot];
    const d = ownIncluded ? s - (typeof o === 'number' ? o : 0) : s;
    // A negative difference means the release is not the sum this node took part in; show nothing.
    out[slot] = d >= 0 ? d : null;
  }
  return out;
}

function position(
  which: 'c_abs_bin' | 'c_drop_bin',
  histogram: readonly number[] | null | undefined,
  ownOneHot: readonly number[],
  ownIncluded: boolean,
): Position | null {
  if (!histogram) return null;
  const k = ownOneHot.indexOf(1);
  const h = [...histogram];
  const total = h.reduce((a, b) => a + b, 0);
  if (k < 0 || !ownIncluded) {
    return { which, inHistogram: total, ownBin: null, lower: 0, sameBin: 0, higher: 0, histogram: h };
  }
  const lower = h.slice(0, k).reduce((a, b) => a + b, 0);
  const same = Math.max(0, (h[k] as number) - 1);
  return { which, inHistogram: total, ownBin: k, lower, sameBin: same, higher: total - lower - same - 1, histogram: h };
}

/**
 * Every derived figure: own, the sector without us and the whole sector with the funnel limits
 * and verdict. `ruleOf` gives why a figure's sector value is not published (null: published);
 * such a figure gets no sector value, limits or verdict rather than one from a missing sum.
 */
function compareFigures(
  own: Sums,
  withoutUs: Sums,
  sector: Sums,
  ruleOf: (id: string, block: 'A' | 'B') => string | null,
): FigureComparison[] {
  return DERIVED.map((d) => {
    const o = d.compute(own);
    const n = d.population(own);
    const sectorRule = ruleOf(d.id, d.block);
    const published = sectorRule === null;
    const w = published ? d.compute(withoutUs) : null;
    const limits = w !== null && n !== null && n > 0 ? funnelLimits(n, w) : null;
    return {
      id: d.id,
      label: d.label,
      unit: d.unit,
      block: d.block,
      higherIsBetter: d.higherIsBetter,
      own: o,
      ownN: n,
      withoutUs: w,
      sector: published ? d.compute(sector) : null,
      limits,
      verdict: limits && o !== null ? funnelVerdict(o, limits) : null,
      sectorRule,
    };
  });
}

/**
 * The sector's dropout per early-attendance band: none when block B is withheld, and no rate
 * (the published counts kept) for a band whose dropout rate is withheld singly.
 */
function sectorBands(sums: Sums, blockRule: string | undefined, withheld: Record<string, string>): Band[] {
  if (blockRule) return earlyBandDropout({});
  return earlyBandDropout(sums).map((b, i) => (withheld[earlyBandId(i)] ? { ...b, rate: null } : b));
}

/**
 * One row of the comparison: the own sums, the sector without us, the figures with their funnel
 * verdicts, early dropout, Pearson r and the place in the distributions; null when the
 * institution has neither enrolments nor starters there. `ownC` reads one of the own slots.
 */
function comparisonRow(
  kind: 'cell' | 'rollup',
  key: string,
  label: string,
  ownRows: number[][],
  sec: ReleaseRow | undefined,
  ownC: (slot: string) => number,
  ownIncluded: boolean,
): ComparisonRow | null {
  const ownSums = sumRows(ownRows);
  const enrolments = ownSums.a_enrolments as number;
  const starters = ownSums.b_starters as number;
  if (enrolments === 0 && starters === 0) return null;
  const sectorSums: Sums = sec ? { ...sec.slots } : {};
  const wo = withoutOwn(sectorSums, ownSums, ownIncluded);
  const ownIn = (n: number) => (ownIncluded && n > 0 ? 1 : 0);
  const suppressed = sec ? blockRules(sec) : { A: 'not_released', B: 'not_released' };
  const ruleOf = (id: string, block: 'A' | 'B') =>
    sec ? withheldRule(sec, suppressed, block, figureInputs(id, block)) : 'not_released';
  const figures = compareFigures(ownSums, wo, sectorSums, ruleOf);
  const withheld = sec ? singlyWithheld(sec, suppressed, DERIVED) : {};
  const oneHot = (which: string) => Array.from({ length: 10 }, (_, i) => ownC(`${which}_${i}`));
  const dist = sec?.distributions;
  const distributionRules: ComparisonRow['distributionRules'] = {};
  if (dist?.suppressed.c_abs_bin) distributionRules.c_abs_bin = dist.suppressed.c_abs_bin.rule;
  if (dist?.suppressed.c_drop_bin) distributionRules.c_drop_bin = dist.suppressed.c_drop_bin.rule;
  return {
    kind,
    key,
    label,
    own: { enrolments, starters, sums: ownSums },
    withoutUs: {
      sums: wo,
      institutions: {
        a: Math.max(0, (sec?.institutions.a ?? 0) - ownIn(enrolments)),
        b: Math.max(0, (sec?.institutions.b ?? 0) - ownIn(starters)),
      },
    },
    sector: {
      sums: sectorSums,
      institutions: sec?.institutions ?? { a: 0, b: 0 },
      suppressed,
      withheld,
      released: sec !== undefined,
    },
    figures,
    early: {
      own: earlyBandDropout(ownSums),
      withoutUs: sectorBands(wo, suppressed.B, withheld),
      sector: sectorBands(sectorSums, suppressed.B, withheld),
    },
    pearson: {
      own: pearsonEarly(ownSums),
      withoutUs: suppressed.B || withheld[PEARSON_ID] ? null : pearsonEarly(wo),
      sector: suppressed.B || withheld[PEARSON_ID] ? null : pearsonEarly(sectorSums),
    },
    positions: {
      absence: position('c_abs_bin', dist?.c_abs_bin, oneHot('c_abs_bin'), ownIncluded),
      dropout: position('c_drop_bin', dist?.c_drop_bin, oneHot('c_drop_bin'), ownIncluded),
    },
    distributionRules,
  };
}

/**
 * Build the comparison of one institution with a verified release.
 * @param own the vector this node sent (or computed, when it did not take part)
 * @param ownIncluded whether `own` is in the release's sum (the node holds a receipt); when
 *   false the sector without us is the sector itself
 */
export function buildComparison(
  codebook: Codebook,
  own: ContributionVector,
  release: Release,
  o: { institutionId: string; institutionName?: string; ownIncluded: boolean },
): Comparison {
  const names = namesOf(codebook.entries);
  const rows: ComparisonRow[] = [];
  const push = (
    kind: 'cell' | 'rollup',
    key: string,
    label: string,
    ownRows: number[][],
    sec: ReleaseRow | undefined,
    ownC: (slot: string) => number,
  ) => {
    const row = comparisonRow(kind, key, label, ownRows, sec, ownC, o.ownIncluded);
    if (row) rows.push(row);
  };
  const whole = o.institutionName ?? o.institutionId;
  codebook.groupKeys.forEach((g, j) => {
    const cells = (codebook.groupCells.get(g) ?? []).map((i) => itemAt(own.cells, i));
    const grow = itemAt(own.groups, j);
    push('rollup', g, groupLabel(g, names, `${whole} als geheel`), cells, release.rollups[g], (slot) => {
      return isGroupSlot(slot) ? getAt(grow, GROUP_SLOT_INDEX[slot]) : 0;
    });
  });
  codebook.cellKeys.forEach((k, i) => {
    const row = itemAt(own.cells, i);
    push('cell', k, cellLabel(k, names), [row], release.cells[k], (slot) =>
      isCellSlot(slot) ? getAt(row, CELL_SLOT_INDEX[slot]) : 0,
    );
  });
  return {
    institution: { id: o.institutionId, name: whole },
    roundId: release.round_id,
    studiejaar: release.studiejaar,
    releaseVersion: release.release_version,
    ownIncluded: o.ownIncluded,
    thresholds: release.thresholds,
    rows,
    names,
  };
}
