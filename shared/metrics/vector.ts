import { addAt } from '../arrays/checked-index.js';
import type { Codebook } from './codebook.js';
import { compareBytes } from './byte-order.js';
import { CELL_SLOTS, CELL_WIDTH, GROUP_SLOTS, GROUP_WIDTH, METRIC_SPEC } from './slots.js';

/**
 * One institution's (or the sector's) contribution vector: a full cell row (64 slots) for every
 * codebook cell and a full group row (24 slots) for every rollup group, in codebook order.
 * Values are non-negative integers below 2^53.
 *
 * @see ../../../shared/spec/METRICS.md "The contribution vector of one institution"
 */
export interface ContributionVector {
  metricSpec: typeof METRIC_SPEC;
  /** e.g. `2024-2025` */
  studiejaar: string;
  /** `cells[i]` is the row of `codebook.cellKeys[i]`; length CELL_WIDTH each. */
  cells: number[][];
  /** `groups[j]` is the row of `codebook.groupKeys[j]`; length GROUP_WIDTH each. */
  groups: number[][];
}

/** JSON rendering of METRICS.md ("JSON rendering"); the shape of `sample/expected/*.json`. */
export interface VectorJson {
  metric_spec: string;
  studiejaar: string;
  slots: string[];
  group_slots: string[];
  cells: Record<string, Record<string, number>>;
  groups: Record<string, Record<string, number>>;
  excluded_crebos?: Record<string, number>;
  data_quality?: Record<string, number>;
  institutions?: number;
  [extra: string]: unknown;
}

export function emptyVector(codebook: Codebook, studiejaar: string): ContributionVector {
  return {
    metricSpec: METRIC_SPEC,
    studiejaar,
    cells: codebook.cellKeys.map(() => new Array<number>(CELL_WIDTH).fill(0)),
    groups: codebook.groupKeys.map(() => new Array<number>(GROUP_WIDTH).fill(0)),
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort(compareBytes)) out[k] = o[k] as T;
  return out;
}

function rowObject(names: readonly string[], row: readonly number[]): Record<string, number> {
  const o: Record<string, number> = {};
  names.forEach((n, i) => {
    o[n] = row[i] ?? 0;
  });
  return sortKeys(o);
}

/** Render as the METRICS.md JSON: only non-zero rows, keys sorted. */
export function vectorToJson(
  codebook: Codebook,
  v: ContributionVector,
  extra: Partial<Pick<VectorJson, 'excluded_crebos' | 'data_quality' | 'institutions'>> = {},
): VectorJson {
  const cells: Record<string, Record<string, number>> = {};
  v.cells.forEach((row, i) => {
    if (row.some((x) => x !== 0)) cells[codebook.cellKeys[i] as string] = rowObject(CELL_SLOTS, row);
  });
  const groups: Record<string, Record<string, number>> = {};
  v.groups.forEach((row, j) => {
    if (row.some((x) => x !== 0)) groups[codebook.groupKeys[j] as string] = rowObject(GROUP_SLOTS, row);
  });
  const out: VectorJson = {
    metric_spec: v.metricSpec,
    studiejaar: v.studiejaar,
    slots: [...CELL_SLOTS],
    group_slots: [...GROUP_SLOTS],
    cells: sortKeys(cells),
    groups: sortKeys(groups),
  };
  if (extra.excluded_crebos) out.excluded_crebos = sortKeys(extra.excluded_crebos);
  if (extra.data_quality) out.data_quality = sortKeys(extra.data_quality);
  if (extra.institutions !== undefined) out.institutions = extra.institutions;
  return sortKeys(out as Record<string, unknown>) as VectorJson;
}

/** Parse the METRICS.md JSON rendering back into full rows for a codebook. */
export function vectorFromJson(codebook: Codebook, json: VectorJson): ContributionVector {
  const v = emptyVector(codebook, json.studiejaar);
  const cellIndex = new Map(codebook.cellKeys.map((k, i) => [k, i]));
  const groupIndex = new Map(codebook.groupKeys.map((k, i) => [k, i]));
  for (const [key, row] of Object.entries(json.cells)) {
    const i = cellIndex.get(key);
    if (i === undefined) throw new Error(`cell ${key} is not in the codebook`);
    v.cells[i] = CELL_SLOTS.map((s) => row[s] ?? 0);
  }
  for (const [key, row] of Object.entries(json.groups)) {
    const j = groupIndex.get(key);
    if (j === undefined) throw new Error(`group ${key} is not a rollup group of the codebook`);
    v.groups[j] = GROUP_SLOTS.map((s) => row[s] ?? 0);
  }
  return v;
}

/** `into[i][s] += from[i][s]` for every row i and slot s; rows of equal count and width. */
function addRows(into: number[][], from: readonly (readonly number[])[]): void {
  from.forEach((row, i) => {
    const target = into[i];
    if (!target) throw new Error(`addVectors: row ${i} is outside the codebook`);
    row.forEach((x, s) => {
      addAt(target, s, x);
    });
  });
}

/** Slot-wise sum of vectors (plain arithmetic, for tests and the key holder's checks). */
export function addVectors(codebook: Codebook, vs: readonly ContributionVector[]): ContributionVector {
  const first = vs[0];
  if (!first) throw new Error('addVectors needs at least one vector');
  const out = emptyVector(codebook, first.studiejaar);
  for (const v of vs) {
    addRows(out.cells, v.cells);
    addRows(out.groups, v.groups);
  }
  return out;
}
