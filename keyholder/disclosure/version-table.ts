/**
 * The difference of two versions of a round as a table of its own (issue 16, item 2; issue 12
 * "the same holds across versions"; docs/DISCLOSURE.md "Versions").
 *
 * An attacker who kept an earlier version v and reads the new one knows, per block A or B:
 * the relations of both tables (every rollup = the sum of its cells, slot by slot), every
 * figure published in either, every row without institutions (a known zero), and the
 * institution count of every row in both. Without corrections since v, a re-release adds late
 * contributions and changes nothing else, so a row whose institution count did not change got
 * no late institution and is the same in both versions (`X_new = X_v`, slot by slot). Under
 * that knowledge the difference table `D = X_new − X_v` satisfies the same relations as the
 * releases, is known wherever both versions publish (or both are zero), and is 0 wherever the
 * count did not change. This module builds the joint linear system of both versions and those
 * equalities and decides exactly (fraction-free BigInt elimination, {@link ExactBasis}) which
 * values follow from it:
 *
 * - a block suppressed in the new version that becomes determined (e.g. published in v, its
 *   change derivable): finding `determined`;
 * - a block suppressed in v that becomes determined with the new version (e.g. published now,
 *   its change derivable), unless v's value is a figure published now (same institution count,
 *   no corrections: the same row): finding `determined`;
 * - a row's difference `D` that is determined although the row is not published in both
 *   versions: it counts as a published difference, and the version rule applies to it (at least
 *   `min_institutions` institutions behind it and a population change of at least
 *   `min_population`), finding `version_difference` otherwise.
 *
 * The test is exact for linear knowledge: a value is determined iff its linear form lies in the
 * row space of the joint system; its value is read from the constants carried through the same
 * row operations. Bounds (D ≥ 0 with late contributions only, the within-row inequalities for D)
 * are not used here (docs/DISCLOSURE.md "Left").
 */
import type { Thresholds } from '../../schemas/manifest.js';
import type { Release, ReleaseRow } from '../../schemas/release.js';
import { ExactBasis, type SparseRow } from './exact-rref.js';
import type { BlockName } from './types.js';

/** One row of the new release as the version table sees it. */
export interface VersionEntry {
  id: string;
  kind: 'cell' | 'rollup';
  key: string;
  /** Institutions in this block of the row, in the new release. */
  institutions: number;
  /** The slots an attacker reads in the new release (published, a known zero, or an earlier fact); null: unknown. */
  known: Readonly<Record<string, number | null>> | null;
}

/** Input of {@link versionTableCheck}, for one block and one earlier version. */
export interface VersionTableInput {
  block: BlockName;
  slots: readonly string[];
  population: string;
  inst: 'a' | 'b';
  entries: readonly VersionEntry[];
  /** Flat relations over entry indexes: `total = sum of members`. */
  relations: readonly { total: number; members: readonly number[] }[];
  earlier: Release;
  /** Institutions that sent a correction since `earlier` (then no row is known to be unchanged). */
  correctors: number;
  thresholds: Thresholds;
  /** Entry ids (`cell:<key>`, `rollup:<key>`) found determined already (not reported again). */
  determinedAlready: ReadonlySet<string>;
}

/** A finding of the version table (the audit turns it into an `AuditFinding`). */
export interface VersionTableFinding {
  kind: 'determined' | 'version_difference';
  entry: string;
  message: string;
}

/** What the version table found, and how much it looked at. */
export interface VersionTableResult {
  findings: VersionTableFinding[];
  /** Row differences determined although the row is not published in both versions (each checked by the version rule). */
  derived: number;
  /** Rows taken as unchanged (same institution count, no corrections since the earlier version). */
  unchanged: number;
}

/**
 * The difference table of the new release and one earlier version, for one block: see the
 * module comment. Cost: one exact elimination over the unknowns of both versions.
 *
 * @throws Error when a slot value is not an integer (a programming error)
 */
export function versionTableCheck(full: VersionTableInput): VersionTableResult {
  const withheldThen = withheldSlots(full);
  // Slots the earlier version withheld in a published block (zero rule total_row) are left out:
  // the joint system is the same for every slot, so what it derives with those rows known (the
  // slots analysed) covers what the attacker derives in a withheld slot, where it knows less;
  // only the values of such a slot's differences are not computed, so any derivable difference
  // is held to the version rule as if it changed that slot (`anyChange`).
  const input = withheldThen.size === 0 ? full : { ...full, slots: full.slots.filter((s) => !withheldThen.has(s)) };
  const old = earlierRows(input);
  const system = differenceSystem(input, old);
  const v = input.earlier.release_version;
  if (system.basis.inconsistent > 0) {
    // Never with true data: a row taken as unchanged was changed by something the key holder
    // was not told of (a correction). Refuse rather than reason from a wrong model.
    const finding: VersionTableFinding = {
      kind: 'version_difference',
      entry: 'rollup:total',
      message:
        `block ${input.block}: the figures of this release and version ${v} contradict "a row whose ` +
        `institution count did not change is unchanged"; some contribution changed without being listed ` +
        `as a correction`,
    };
    return { findings: [finding], derived: 0, unchanged: system.unchanged };
  }
  const differences = differenceFindings(input, old, system, withheldThen.size > 0);
  return {
    findings: [...determinedFindings(input, system), ...differences.findings],
    derived: differences.derived,
    unchanged: system.unchanged,
  };
}

/** Slots of the block the earlier version withheld singly in some published row (zero rule total_row). */
function withheldSlots(input: VersionTableInput): Set<string> {
  const out = new Set<string>();
  for (const rows of [input.earlier.cells, input.earlier.rollups])
    for (const r of Object.values(rows)) {
      if (r.slots[input.population] === null || r.slots[input.population] === undefined) continue;
      for (const s of input.slots) if (r.slots[s] === null) out.add(s);
    }
  return out;
}

/** What the earlier version shows of each entry's row: its known slots (or null) and institution count. */
interface EarlierRows {
  /** Per entry: v's slots when all are published, zeros for a row of no institutions, else null. */
  known: (Readonly<Record<string, number | null>> | null)[];
  /** Per entry: v's institution count of the block, or null when v has no such row. */
  institutions: (number | null)[];
}

/** Read each entry's row in the earlier version (see {@link EarlierRows}). */
function earlierRows(input: VersionTableInput): EarlierRows {
  const { entries, slots, inst, earlier } = input;
  const zeros: Record<string, number> = Object.fromEntries(slots.map((s) => [s, 0]));
  const known: EarlierRows['known'] = [];
  const institutions: EarlierRows['institutions'] = [];
  for (const e of entries) {
    const old: ReleaseRow | undefined = e.kind === 'cell' ? earlier.cells[e.key] : earlier.rollups[e.key];
    institutions.push(old ? old.institutions[inst] : null);
    if (!old) known.push(null);
    else if (old.institutions[inst] === 0) known.push(zeros);
    else known.push(old.slots[input.population] === null ? null : old.slots);
  }
  return { known, institutions };
}

/** The joint linear system of both versions, reduced, and how its columns map to the entries. */
interface DifferenceSystem {
  basis: ExactBasis;
  /** First constant column (one per slot after it); columns below are unknowns. */
  limit: number;
  /** Per entry: its unknown's column in the new version / in v, or -1 when known there. */
  colNew: Int32Array;
  colOld: Int32Array;
  /** Per entry: taken as unchanged (same institution count, no corrections since v). */
  same: (i: number) => boolean;
  /** Rows taken as unchanged (non-empty ones, each adding `X_new = X_v`). */
  unchanged: number;
}

/**
 * Build and reduce the joint system: each version's relations (rollup = sum of its cells, slot by
 * slot) and, without corrections since v, `X_new = X_v` for every non-empty row whose institution
 * count did not change. Known values enter as constants, one column per slot.
 */
function differenceSystem(input: VersionTableInput, old: EarlierRows): DifferenceSystem {
  const { entries, slots } = input;
  const n = entries.length;
  // Columns: unknowns of the new version, then those of v; constants (one per slot) after them.
  const colNew = new Int32Array(n).fill(-1);
  const colOld = new Int32Array(n).fill(-1);
  let vars = 0;
  entries.forEach((e, i) => {
    if (!e.known) colNew[i] = vars++;
  });
  entries.forEach((_, i) => {
    if (!old.known[i]) colOld[i] = vars++;
  });
  const limit = vars;
  const basis = new ExactBasis(limit);
  const term = (row: SparseRow, col: number, known: Readonly<Record<string, number | null>> | null, c: bigint) => {
    if (col >= 0) {
      row.set(col, (row.get(col) ?? 0n) + c);
      return;
    }
    slots.forEach((s, k) => {
      const v = BigInt((known as Readonly<Record<string, number | null>>)[s] as number);
      if (v !== 0n) row.set(limit + k, (row.get(limit + k) ?? 0n) + c * v);
    });
  };
  for (const r of input.relations) {
    for (const [col, known] of [
      [colNew, (i: number) => entries[i]?.known ?? null],
      [colOld, (i: number) => old.known[i] ?? null],
    ] as const) {
      const row: SparseRow = new Map();
      term(row, col[r.total] as number, known(r.total), 1n);
      for (const m of r.members) term(row, col[m] as number, known(m), -1n);
      basis.add(row);
    }
  }
  // Rows no late institution joined are unchanged (only without corrections since v).
  const same = (i: number) =>
    input.correctors === 0 &&
    old.institutions[i] !== null &&
    old.institutions[i] === (entries[i] as VersionEntry).institutions;
  let unchanged = 0;
  for (let i = 0; i < n; i++) {
    if (!same(i) || (entries[i] as VersionEntry).institutions === 0) continue;
    unchanged++;
    const row: SparseRow = new Map();
    term(row, colNew[i] as number, entries[i]?.known ?? null, 1n);
    term(row, colOld[i] as number, old.known[i] ?? null, -1n);
    basis.add(row);
  }
  return { basis, limit, colNew, colOld, same, unchanged };
}

/** Suppressed blocks (now, or in v and not published unchanged now) that the joint system determines. */
function determinedFindings(input: VersionTableInput, system: DifferenceSystem): VersionTableFinding[] {
  const { colNew, colOld, same } = system;
  const v = input.earlier.release_version;
  const determined = new Set(system.basis.determinedColumns());
  const findings: VersionTableFinding[] = [];
  input.entries.forEach((e, i) => {
    const cn = colNew[i] as number;
    if (cn >= 0 && determined.has(cn) && !input.determinedAlready.has(e.id))
      findings.push({
        kind: 'determined',
        entry: e.id,
        message:
          `${e.id}: block ${input.block} is suppressed but derivable from this release together with ` +
          `version ${v} (figures published in both, rows whose institution count did not change are unchanged)`,
      });
    const co = colOld[i] as number;
    if (co >= 0 && determined.has(co) && !(e.known && same(i)))
      findings.push({
        kind: 'determined',
        entry: e.id,
        message:
          `${e.id}: block ${input.block} was suppressed in version ${v} and becomes derivable with this ` +
          `release (its change is derivable from figures published in both versions)`,
      });
  });
  return findings;
}

/**
 * Row differences the joint system determines although the row is not published in both
 * versions: each is a published difference, held to the version rule (at least
 * `min_institutions` institutions behind it and a population change of at least `min_population`).
 */
function differenceFindings(
  input: VersionTableInput,
  old: EarlierRows,
  system: DifferenceSystem,
  anyChange: boolean,
): { findings: VersionTableFinding[]; derived: number } {
  const { slots, thresholds } = input;
  const v = input.earlier.release_version;
  const findings: VersionTableFinding[] = [];
  let derived = 0;
  input.entries.forEach((e, i) => {
    if ((e.known && old.known[i]) || old.institutions[i] === null || system.same(i)) return;
    const d = differenceOf(
      system.basis,
      system.limit,
      slots.length,
      system.colNew[i] as number,
      system.colOld[i] as number,
      e.known,
      old.known[i],
      slots,
    );
    if (!d) return;
    derived++;
    const dInst = e.institutions - (old.institutions[i] as number);
    const dPop = d[slots.indexOf(input.population)] as bigint;
    const differs = anyChange || dInst !== 0 || d.some((x) => x !== 0n);
    const behind = institutionsBehind(dInst, input.correctors);
    const absPop = dPop < 0n ? -dPop : dPop;
    if (differs && (behind < thresholds.min_institutions || absPop < BigInt(thresholds.min_population)))
      findings.push({
        kind: 'version_difference',
        entry: e.id,
        message:
          `${e.id}: block ${input.block}'s difference with version ${v} is derivable from figures published ` +
          `in both (it is not published as a row in both); it is the contribution of ${behind} institution(s) ` +
          `(fewer than ${thresholds.min_institutions}) or of a population change below ${thresholds.min_population}`,
      });
  });
  return { findings, derived };
}

/**
 * How many institutions are behind a block's change against an earlier version, given the change
 * of its institution count `dInst` and `correctors`, the institutions that sent a correction
 * since that version. Without corrections: |dInst| (the institutions that came or went). With
 * them: each corrector counts (the key holder cannot see which correction touched the block), and
 * late institutions only as far as the count rose beyond what the correctors could explain (a
 * correction can fill or empty the block, moving the count by one): max(0, dInst − C) + C.
 */
export function institutionsBehind(dInst: number, correctors: number): number {
  return correctors === 0 ? Math.abs(dInst) : Math.max(0, dInst - correctors) + correctors;
}

/**
 * The value of `X_new[e] − X_v[e]` per slot when it is determined by the joint system, else null:
 * the linear form is reduced by the basis (RREF: one pass over its pivot columns), tracking the
 * product of the pivots it was multiplied by; with no variable left, its constants are that
 * product times the difference.
 */
function differenceOf(
  basis: ExactBasis,
  limit: number,
  nSlots: number,
  colNew: number,
  colOld: number,
  knownNew: Readonly<Record<string, number | null>> | null,
  knownOld: Readonly<Record<string, number | null>> | null | undefined,
  slots: readonly string[],
): bigint[] | null {
  const q: SparseRow = new Map();
  const put = (col: number, known: Readonly<Record<string, number | null>> | null | undefined, c: bigint) => {
    if (col >= 0) q.set(col, (q.get(col) ?? 0n) + c);
    else
      slots.forEach((s, k) => {
        const x = known?.[s];
        if (x) q.set(limit + k, (q.get(limit + k) ?? 0n) + c * BigInt(x));
      });
  };
  put(colNew, knownNew, 1n);
  put(colOld, knownOld, -1n);
  let scale = 1n;
  for (const c of [...q.keys()]) {
    if (c >= limit) continue;
    const r = basis.pivotRow(c);
    const a = q.get(c);
    if (!r || a === undefined) continue;
    const p = r.get(c) as bigint;
    for (const [k, v] of q) q.set(k, v * p);
    for (const [k, v] of r) {
      const x = (q.get(k) ?? 0n) - a * v;
      if (x === 0n) q.delete(k);
      else q.set(k, x);
    }
    scale *= p;
  }
  for (const c of q.keys()) if (c < limit) return null;
  const out: bigint[] = [];
  for (let k = 0; k < nSlots; k++) {
    const x = q.get(limit + k) ?? 0n;
    if (x % scale !== 0n) return null;
    out.push(x / scale);
  }
  return out;
}
