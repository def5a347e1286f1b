import type { z } from 'zod';
import type { Thresholds } from '../../schemas/manifest.js';
import type { SuppressionRuleSchema } from '../../schemas/release.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import type { ContributionVector } from '../../shared/metrics/vector.js';

/** A rule that withholds a figure (schemas/release.ts). */
export type SuppressionRule = z.infer<typeof SuppressionRuleSchema>;

/**
 * The blocks disclosure control decides on, per row. This issue publishes blocks A and B;
 * distributions of block C (`c_abs_bin_*`, `c_drop_bin_*`) will be added as further blocks
 * with their own pass (ARCHITECTURE.md "Disclosure control").
 */
export type BlockName = 'A' | 'B';

/**
 * Which zeros are a published row's own fact (issue 12, docs/DECISIONS.md 98): `total_row` (the
 * default) exempts only a count the total row shows as 0, the one exception, and
 * protects every other pin by withheld slots; `published_rows` is the wider rule of DECISIONS
 * 42/87 (any published row's zero), kept to measure the difference.
 */
export type ZeroRule = 'published_rows' | 'total_row';

/** The zero rule the key holder applies (docs/DECISIONS.md 98). */
export const DEFAULT_ZERO_RULE: ZeroRule = 'total_row';

/** Whether a row is a codebook cell or a rollup group. */
export type RowKind = 'cell' | 'rollup';

/**
 * One row of the decrypted sector sum as disclosure control sees it: the sector sums of the
 * slots of blocks A and B (for a rollup: summed over the group's cells, METRICS.md "Derived
 * figures"), and the block-C facts of the row (for a cell: its own block C; for a rollup: the
 * group row), which count institutions (`c_contrib_*`), bound dominance (`c_sq_*`, never
 * released) and hold the distributions.
 */
export interface SectorRow {
  kind: RowKind;
  key: string;
  /** Sector sums of every block A and B slot, by METRICS.md slot name. */
  values: Readonly<Record<string, number>>;
  /** Block C slots of the row (cell block C, or the group row), by name. Key-holder only. */
  facts: Readonly<Record<string, number>>;
  /** For a rollup, the indexes (into codebook.cellKeys) of its cells; for a cell, itself. */
  cells: readonly number[];
}

/** Everything a disclosure pass may look at. */
export interface DisclosureContext {
  codebook: Codebook;
  thresholds: Thresholds;
  /** Number of contributions in the sum. */
  contributions: number;
  /** Rows in codebook cell order. */
  cells: readonly SectorRow[];
  /** Rows in codebook group order. */
  rollups: readonly SectorRow[];
}

/** The fate of one block of one row. */
export type BlockDecision =
  | { status: 'published' }
  | { status: 'suppressed'; rule: SuppressionRule; note?: string /** the pass that suppressed it */; pass: string };

/** The decisions of one row. */
export type RowDecision = Readonly<Record<BlockName, BlockDecision>>;

/** Decisions for every row: cells and rollups by key. */
export interface DisclosureDecisions {
  cells: ReadonlyMap<string, RowDecision>;
  rollups: ReadonlyMap<string, RowDecision>;
  /**
   * Single slots withheld in published rollup blocks (rollup key -> slot -> note), under the
   * zero rule `total_row` (docs/DECISIONS.md 97): rendered null with rule `secondary`.
   */
  withheld?: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/**
 * A pass of disclosure control: refines the decisions so far. Passes run in order
 * (primary, then dominance, distributions, secondary …) and may only suppress more, never
 * publish what an earlier pass suppressed ({@link runDisclosure} enforces this).
 */
export interface DisclosurePass {
  name: string;
  apply(ctx: DisclosureContext, current: DisclosureDecisions): DisclosureDecisions;
}

/** The vector and codebook a context is built from. */
export interface SectorInput {
  codebook: Codebook;
  sector: ContributionVector;
  thresholds: Thresholds;
  contributions: number;
}
