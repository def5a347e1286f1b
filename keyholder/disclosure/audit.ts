import type { Thresholds } from '../../schemas/manifest.js';
import type { Release, ReleaseRow } from '../../schemas/release.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import type { SlotWitness } from './slot-moves.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { DesignBounds, type FlatRelation } from './design-width.js';
import { ExactBasis } from './exact-rref.js';
import { type Delta, ExchangeSystem } from './exchange.js';
import { pinningCheck } from './pinning.js';
import { type BoundedSystem, glpk, optimise, readInward } from './lp.js';
import { evaluate, protectedCounts, type ProtectedCount } from './row-inequalities.js';
import { type ProtectionParams, requiredWidth } from './secondary.js';
import { type BlockName, DEFAULT_ZERO_RULE, type ZeroRule } from './types.js';
import { institutionsBehind, versionTableCheck, type VersionEntry } from './version-table.js';

export { institutionsBehind } from './version-table.js';

const BLOCK_DEF: Readonly<Record<BlockName, { slots: readonly string[]; population: string; inst: 'a' | 'b' }>> = {
  A: { slots: BLOCK_A_SLOTS, population: 'a_enrolments', inst: 'a' },
  B: { slots: BLOCK_B_SLOTS, population: 'b_starters', inst: 'b' },
};

/** The protected counts of each block (slots, inequality slacks, named derived counts). */
const COUNTS: Readonly<Record<BlockName, readonly ProtectedCount[]>> = {
  A: protectedCounts('A', BLOCK_A_SLOTS),
  B: protectedCounts('B', BLOCK_B_SLOTS),
};

/** What the audit found wrong; a release with any finding is refused. */
export interface AuditFinding {
  kind:
    | 'mixed_block'
    | 'determined'
    | 'contributor_determined'
    | 'pinned'
    | 'interval'
    | 'infeasible'
    | 'version_difference';
  block: BlockName;
  /** `cell:<key>` or `rollup:<key>`. */
  entry: string;
  message: string;
  /** For `interval`: how much width is missing. */
  deficit?: number;
  /** For `pinned`: the protected counts narrowed to one value. */
  counts?: string[];
  /** For `pinned` under `zeroRule: 'total_row'`: slots of published rollups whose withholding a slot move shows would protect it. */
  withhold?: { rollup: string; slots: string[] }[];
}

/** The audit's report; `findings` empty means passed. */
export interface AuditReport {
  findings: AuditFinding[];
  checkedBlocks: number;
  rank: Record<BlockName, number>;
  intervalsChecked: number;
  /** Intervals proven wide enough by exact integer tables (exchange moves), without an LP of their own. */
  exchangeCertified: number;
  lpSolved: number;
  /** Narrowest width / required width over the checked intervals, per mille (null: none). */
  minWidthRatioPermille: number | null;
  /**
   * Step 4: blocks checked, (block, count) pairs checked, and how each was proven: under the
   * whole model against a contributor too, against the outsider only, or only count by count.
   */
  pinning: {
    blocks: number;
    counts: number;
    contributor: number;
    outsider: number;
    perCountOnly: number;
    /** Pairs exempt because a published row containing the target shows the count as 0 (docs/DECISIONS.md 42). */
    exemptZero: number;
    /** Pairs composition moves left open against the contributor that the contributor count by count proves. */
    contributorPerCount: number;
    /** Pairs not proven against the contributor count by count (refused as pinned with `enforce`, the default). */
    contributorUnproven: number;
    /** Pairs exempt for the contributor: a published rollup holds the count in single-institution blocks alone (docs/DECISIONS.md 87). */
    contributorExempt: number;
    /** `total_row`: pairs proven only by slot moves, with withheld slots unknown. */
    slotProven: number;
    /** `total_row`: slots withheld in published rollups (counted once per slot). */
    withheldSlots: number;
  };
  versionsCompared: number[];
  differencesChecked: number;
  /**
   * The difference table per earlier version (`version-table.ts`): row differences derivable
   * although the row is not published in both versions (each checked by the version rule).
   */
  differencesDerived: number;
}

/** Everything the audit looks at: the rows as they would be released, the true rows, earlier versions. */
export interface AuditInput {
  codebook: Codebook;
  thresholds: Thresholds;
  cells: Readonly<Record<string, ReleaseRow>>;
  rollups: Readonly<Record<string, ReleaseRow>>;
  /** True block slots of a row (sector sums): key holder only, read for suppressed rows. */
  trueRow: (block: BlockName, kind: 'cell' | 'rollup', key: string) => Readonly<Record<string, number>>;
  protection: ProtectionParams;
  /** Earlier signed releases of the same round (any order). */
  earlier?: readonly Release[];
  /**
   * Use the earlier versions' published figures as known facts in every step (default false):
   * a block suppressed now that an earlier version published with the same institution count
   * and the same figures counts as published. The entry point for versioned re-releases
   * (issue 16; docs/DISCLOSURE.md "Versions").
   */
  earlierAsFacts?: boolean;
  /**
   * Masked-round corrections (issue 16, item 2; docs/DECISIONS.md 80, 81): per earlier version,
   * how many institutions sent a correction (an encrypted difference) since it. The key holder
   * cannot see which correction touched which figure, so each counts as an institution behind
   * every change against that version (default: none).
   */
  correctorsSince?: Readonly<Record<number, number>>;
  /**
   * Prove intervals with exact exchange tables before any LP (default true). Off: every interval
   * not certified by the true table or earlier LP solutions gets its own LP (for tests and the
   * benchmark; the verdict is the same).
   */
  exchange?: boolean;
  /**
   * Reuse the result of a block audited before with exactly the same pattern (default: none).
   * The audit of block A (or B) reads only that block: which entries publish it, the rule of
   * each suppressed one, institution counts, and the true and published values of the sector;
   * blocks A and B share no slot and no relation. So within one sector (same codebook, true
   * rows, thresholds, protection, earlier versions) a block whose pattern is unchanged has the
   * same findings and counts, and is not audited again: a retry, an escalation step or a
   * cleaning attempt that changes one block audits only that block. Share a memo only between
   * audits of the same sector (`discloseAndAudit` makes one per call).
   */
  memo?: AuditMemo;
  /**
   * Step 4 against the contributor, count by count: `enforce` refuses a protected count the
   * contributor can narrow to one value (the default); `measure` only counts such pairs
   * (`pinning.contributorUnproven`); `off` does not run it (`PinningInput.contributor`).
   */
  contributor?: 'enforce' | 'measure' | 'off';
  /**
   * Which zeros are a published row's own fact (docs/DECISIONS.md 42, 97, 98): `total_row`
   * (the default), issue 12's one exception, exempts only a count the total row shows as 0;
   * `published_rows` (kept to measure the difference) a count any published row containing the
   * target shows as 0. With `total_row` a published rollup other than
   * the total may withhold single slots (null, rule `secondary`; never the population), which the
   * audit takes as unknown, and a count left pinned gets a second chance by slot moves
   * (`slot-moves.ts`); its finding then suggests slots to withhold. A re-release withholds again
   * what an earlier version withheld (docs/DISCLOSURE.md "Zero rule total_row", Versions).
   */
  zeroRule?: ZeroRule;
}

interface Entry {
  id: string;
  kind: 'cell' | 'rollup';
  key: string;
  row: ReleaseRow;
}

/** The release table of the audit: entries (cells, then rollups in codebook order) and the flat relations. */
interface Table {
  entries: Entry[];
  cells: number;
  flat: (FlatRelation & { name: string })[];
  /** Per cell: the rollup entries containing it. */
  groupsOf: number[][];
  /** `total_row`: per published rollup entry, the slots it withholds (filled with their true values in `entries`). */
  withheld: Map<number, Set<string>>;
}

/** One block of the table: what the attacker knows, the unknowns and their bounds. */
interface BlockView {
  block: BlockName;
  /** 1 for a published entry or one without institutions (a known zero). */
  known: Uint8Array;
  /** Published population (0 for a known zero). */
  value: Float64Array;
  /** Suppressed entries with institutions, in entry order. */
  unknowns: number[];
  /** Per unknown (same order): attacker's bounds on the population, its rule and true population. */
  lower: number[];
  upper: number[];
  rules: (string | undefined)[];
  truth: number[];
  /** Entries suppressed now that an earlier version published as they are (`earlierAsFacts`): their slots then. */
  fromEarlier: Map<number, Readonly<Record<string, number | null>>>;
}

/** The slots an attacker reads for a known entry: this release's, or the earlier version's that published it. */
function knownSlots(view: BlockView, entry: Entry, e: number): Readonly<Record<string, number | null>> {
  return view.fromEarlier.get(e) ?? entry.row.slots;
}

function emptyReport(): AuditReport {
  return {
    findings: [],
    checkedBlocks: 0,
    rank: { A: 0, B: 0 },
    intervalsChecked: 0,
    exchangeCertified: 0,
    lpSolved: 0,
    minWidthRatioPermille: null,
    pinning: {
      blocks: 0,
      counts: 0,
      contributor: 0,
      outsider: 0,
      perCountOnly: 0,
      exemptZero: 0,
      contributorPerCount: 0,
      contributorUnproven: 0,
      contributorExempt: 0,
      slotProven: 0,
      withheldSlots: 0,
    },
    versionsCompared: [],
    differencesChecked: 0,
    differencesDerived: 0,
  };
}

/**
 * The disclosure audit, run on every release before it is signed, independently of the code
 * that chose the suppressions (it rebuilds the relations from the codebook in flat form: every
 * rollup = the sum of its cells). The attacker it proves against is the one of
 * docs/DISCLOSURE.md "Attacker model": every published figure of every version, the relations,
 * counts >= 0 and the within-row inequalities of `row-inequalities.ts`, and any one contributing
 * institution with its own vector. Per block A and B:
 *
 * 1. {@link checkPattern}: every block of every row is published or suppressed as a whole.
 * 2. {@link rankTest}: no suppressed value is uniquely determined by the relations (exact,
 *    BigInt); then the same with every block of a single institution treated as known
 *    (its contributor knows it): no block failing a primary rule is determined then.
 * 3. {@link protectionIntervals}: the population of every block suppressed by a rule in
 *    `protection.rules` keeps its protection interval (exchange tables, else LP read inward).
 * 4. {@link pinningStep}: no protected count (every slot, every inequality's slack, absence
 *    minutes) of such a block can be narrowed to one value: proven under the whole model
 *    (`pinning.ts`: all relations, bounds and within-row inequalities at once, against a
 *    contributor that knows every single-institution block where composition moves show it,
 *    else against the outsider), and what that leaves open count by count (`class-sums.ts`),
 *    against the outsider and, by default, the contributor; refused when that fails. Counts a
 *    published row containing the target shows as 0 are exempt (docs/DECISIONS.md 42), for the
 *    contributor also counts a published rollup holds in single-institution blocks alone (87).
 *
 * Then {@link checkVersions} against every earlier release of the round.
 *
 * @throws Error when the release lacks a row of the codebook (a programming error)
 * @see ../../../shared/spec/ARCHITECTURE.md "Disclosure control"; docs/DISCLOSURE.md
 */
export async function auditRelease(input: AuditInput): Promise<AuditReport> {
  const report = emptyReport();
  const table = buildTable(input);
  let worst: number | null = null;
  for (const block of ['A', 'B'] as BlockName[]) {
    const key = input.memo ? blockKey(table, block) : '';
    const hit = input.memo?.blocks.get(key);
    if (hit && input.memo) {
      replayBlock(hit, report);
      input.memo.reused.blocks++;
      input.memo.reused.lpSolved += hit.lpSolved;
      if (hit.worst !== null && (worst === null || hit.worst < worst)) worst = hit.worst;
      continue;
    }
    const before = countersOf(report);
    const w = await auditBlock(input, table, block, report);
    if (w !== null && (worst === null || w < worst)) worst = w;
    input.memo?.blocks.set(key, { ...blockDelta(before, report, block), worst: w });
  }
  report.minWidthRatioPermille = worst;
  for (const slots of table.withheld.values()) report.pinning.withheldSlots += slots.size;
  checkVersions(input, table, report);
  return report;
}

/** Steps 1-4 for one block; returns its narrowest width / required width, per mille (null: none). */
async function auditBlock(
  input: AuditInput,
  table: Table,
  block: BlockName,
  report: AuditReport,
): Promise<number | null> {
  const view = checkPattern(input, table, block, report);
  report.checkedBlocks += view.unknowns.length;
  if (view.unknowns.length === 0) {
    versionTables(input, table, view, report);
    return null;
  }
  const rows = rankTest(input, table, view, report);
  versionTables(input, table, view, report);
  const w = await protectionIntervals(input, table, view, rows, report);
  await pinningStep(input, table, view, report);
  return w;
}

/**
 * Results of block audits already run for one sector, to reuse when a later audit of the same
 * sector sees a block exactly as before (see {@link AuditInput.memo}).
 */
export class AuditMemo {
  /** Block pattern key -> what auditing that block added to the report. */
  readonly blocks = new Map<string, BlockResult>();
  /** Blocks whose result was reused, and the LPs those results had needed. */
  reused = { blocks: 0, lpSolved: 0 };
  /** `total_row`: slot moves that proved a pair, re-checked without an LP in later audits (`witnessHolds`). */
  readonly slotWitnesses = new Map<string, SlotWitness>();
}

/** What auditing one block added to the report (counters and findings). */
interface BlockResult {
  findings: AuditFinding[];
  checkedBlocks: number;
  rank: number;
  block: BlockName;
  intervalsChecked: number;
  exchangeCertified: number;
  lpSolved: number;
  pinning: AuditReport['pinning'];
  differencesDerived: number;
  worst: number | null;
}

type Counters = Omit<BlockResult, 'worst' | 'block' | 'rank'> & { findingCount: number };

function countersOf(r: AuditReport): Counters {
  return {
    findings: [],
    findingCount: r.findings.length,
    checkedBlocks: r.checkedBlocks,
    intervalsChecked: r.intervalsChecked,
    exchangeCertified: r.exchangeCertified,
    lpSolved: r.lpSolved,
    pinning: { ...r.pinning },
    differencesDerived: r.differencesDerived,
  };
}

function blockDelta(before: Counters, r: AuditReport, block: BlockName): Omit<BlockResult, 'worst'> {
  const p = r.pinning;
  const q = before.pinning;
  return {
    findings: r.findings.slice(before.findingCount),
    checkedBlocks: r.checkedBlocks - before.checkedBlocks,
    block,
    rank: r.rank[block],
    intervalsChecked: r.intervalsChecked - before.intervalsChecked,
    exchangeCertified: r.exchangeCertified - before.exchangeCertified,
    lpSolved: r.lpSolved - before.lpSolved,
    differencesDerived: r.differencesDerived - before.differencesDerived,
    pinning: {
      blocks: p.blocks - q.blocks,
      counts: p.counts - q.counts,
      contributor: p.contributor - q.contributor,
      outsider: p.outsider - q.outsider,
      perCountOnly: p.perCountOnly - q.perCountOnly,
      exemptZero: p.exemptZero - q.exemptZero,
      contributorPerCount: p.contributorPerCount - q.contributorPerCount,
      contributorUnproven: p.contributorUnproven - q.contributorUnproven,
      contributorExempt: p.contributorExempt - q.contributorExempt,
      slotProven: p.slotProven - q.slotProven,
      withheldSlots: p.withheldSlots - q.withheldSlots,
    },
  };
}

function replayBlock(b: BlockResult, r: AuditReport): void {
  r.findings.push(...b.findings);
  r.checkedBlocks += b.checkedBlocks;
  r.rank[b.block] = b.rank;
  r.intervalsChecked += b.intervalsChecked;
  r.exchangeCertified += b.exchangeCertified;
  r.lpSolved += b.lpSolved;
  r.differencesDerived += b.differencesDerived;
  for (const k of Object.keys(b.pinning) as (keyof AuditReport['pinning'])[]) r.pinning[k] += b.pinning[k];
}

/**
 * Everything the audit of one block reads from the release, as a key: per entry its institution
 * count and, per slot of the block, published or the rule it was suppressed by. The published
 * values are not in the key: within one sector they are the true values, fixed (see
 * {@link AuditInput.memo}).
 */
function blockKey(table: Table, block: BlockName): string {
  const def = BLOCK_DEF[block];
  const parts: string[] = [block];
  table.entries.forEach((e, i) => {
    let p = `${e.row.institutions[def.inst]}`;
    const withheld = table.withheld.get(i);
    for (const s of def.slots) {
      const x = e.row.suppressed[s];
      p += e.row.slots[s] === null ? `/${x?.rule ?? '?'}` : withheld?.has(s) ? '-' : '.';
    }
    parts.push(p);
  });
  return parts.join(';');
}

function buildTable(input: AuditInput): Table {
  const { codebook } = input;
  const entries: Entry[] = [
    ...codebook.cellKeys.map((k) => ({
      id: `cell:${k}`,
      kind: 'cell' as const,
      key: k,
      row: input.cells[k] as ReleaseRow,
    })),
    ...codebook.groupKeys.map((k) => ({
      id: `rollup:${k}`,
      kind: 'rollup' as const,
      key: k,
      row: input.rollups[k] as ReleaseRow,
    })),
  ];
  if (entries.some((e) => !e.row)) throw new Error('audit: the release lacks a row of the codebook');
  const nc = codebook.cellKeys.length;
  const flat = codebook.groupKeys.map((g, j) => ({
    name: `${g} = sum of its cells`,
    total: nc + j,
    members: codebook.groupCells.get(g) ?? [],
  }));
  const groupsOf: number[][] = Array.from({ length: nc }, () => []);
  for (const r of flat) for (const m of r.members) groupsOf[m]?.push(r.total);
  const withheld =
    (input.zeroRule ?? DEFAULT_ZERO_RULE) === 'total_row'
      ? fillWithheld(input, entries)
      : new Map<number, Set<string>>();
  return { entries, cells: nc, flat, groupsOf, withheld };
}

/**
 * `total_row`: the slots a published rollup block withholds (null with rule `secondary`, the
 * population published; the total row too, after a solo move), replaced in place by their true values so that
 * steps 1 to 4 take them as published. That is sound: knowing less can only widen what the
 * attacker must hold possible, so every proof of those steps holds for the release too; only
 * step 4's second chance (slot moves) reads them as unknown.
 */
function fillWithheld(input: AuditInput, entries: Entry[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  entries.forEach((e, i) => {
    if (e.kind !== 'rollup') return;
    let slots: Record<string, number | null> | null = null;
    for (const block of ['A', 'B'] as BlockName[]) {
      const def = BLOCK_DEF[block];
      if (e.row.slots[def.population] === null) continue;
      const missing = def.slots.filter((s) => e.row.slots[s] === null && e.row.suppressed[s]?.rule === 'secondary');
      if (missing.length === 0) continue;
      const truth = input.trueRow(block, 'rollup', e.key);
      slots ??= { ...e.row.slots };
      for (const s of missing) slots[s] = truth[s] as number;
      out.set(i, new Set([...(out.get(i) ?? []), ...missing]));
    }
    if (slots) {
      const suppressed = { ...e.row.suppressed };
      for (const s of out.get(i) ?? []) delete suppressed[s];
      e.row = { ...e.row, slots, suppressed };
    }
  });
  return out;
}

/** Step 1 and the attacker's view of one block: known entries, unknowns and their bounds. */
function checkPattern(input: AuditInput, table: Table, block: BlockName, report: AuditReport): BlockView {
  const def = BLOCK_DEF[block];
  const { entries } = table;
  const known = new Uint8Array(entries.length);
  const value = new Float64Array(entries.length);
  entries.forEach((e, i) => {
    const nulls = def.slots.filter((s) => e.row.slots[s] === null).length;
    if (nulls !== 0 && nulls !== def.slots.length) {
      report.findings.push({
        kind: 'mixed_block',
        block,
        entry: e.id,
        message: `${e.id}: block ${block} is partly suppressed; a block is published or suppressed as a whole`,
      });
    }
    if (nulls === 0) {
      known[i] = 1;
      value[i] = e.row.slots[def.population] as number;
    } else if (e.row.institutions[def.inst] === 0) {
      known[i] = 1;
      value[i] = 0;
    }
  });
  const fromEarlier = input.earlierAsFacts ? earlierFacts(input, table, block, known, value) : new Map();
  const unknowns = entries.flatMap((_, i) => (known[i] ? [] : [i]));
  const view: BlockView = { block, known, value, unknowns, lower: [], upper: [], rules: [], truth: [], fromEarlier };
  const min = input.thresholds.min_population;
  for (const e of unknowns) {
    const { row, kind, key } = entries[e] as Entry;
    const rule = row.suppressed[def.population]?.rule;
    const passedPrimary = rule === 'secondary' || rule === 'dominance';
    view.lower.push(Math.max(1, row.institutions[def.inst], passedPrimary ? min : 0));
    view.upper.push(rule === 'min_population' ? min - 1 : Infinity);
    view.rules.push(rule);
    view.truth.push(input.trueRow(block, kind, key)[def.population] as number);
  }
  return view;
}

/**
 * Earlier versions as known facts (`earlierAsFacts`): a block suppressed now that an earlier
 * version published with the same institution count and the same figures is known to whoever
 * kept that version (in an additions-only round, a row no late institution joined is unchanged).
 * Marks those entries known (in place) and returns their published slots.
 */
function earlierFacts(
  input: AuditInput,
  table: Table,
  block: BlockName,
  known: Uint8Array,
  value: Float64Array,
): Map<number, Readonly<Record<string, number | null>>> {
  const def = BLOCK_DEF[block];
  const out = new Map<number, Readonly<Record<string, number | null>>>();
  table.entries.forEach((e, i) => {
    if (known[i] || e.row.institutions[def.inst] === 0) return;
    const truth = input.trueRow(block, e.kind, e.key);
    for (const prev of input.earlier ?? []) {
      const old = e.kind === 'cell' ? prev.cells[e.key] : prev.rollups[e.key];
      if (!old || old.institutions[def.inst] !== e.row.institutions[def.inst]) continue;
      // A slot an earlier version withheld in a published block (zero rule total_row) is taken
      // as known too: more than the attacker has, so every proof still holds.
      if (!def.slots.every((s) => old.slots[s] === null || old.slots[s] === truth[s])) continue;
      if (old.slots[def.population] === null) continue;
      known[i] = 1;
      value[i] = truth[def.population] as number;
      out.set(i, Object.fromEntries(def.slots.map((s) => [s, truth[s] as number])));
      return;
    }
  });
  return out;
}

/**
 * Step 2: exact rank tests. Returns the relations restricted to the unknowns (for the LP).
 * First every suppressed value; then, with every single-institution block known (its contributor
 * knows it; the key holder does not know which institution that is, so it treats all of them as
 * known at once), every block that fails a primary rule and has two or more institutions: a
 * contributor would otherwise learn it by subtracting its own figures (with two institutions,
 * the other's figures).
 */
function rankTest(input: AuditInput, table: Table, view: BlockView, report: AuditReport): BoundedSystem['rows'] {
  const { entries } = table;
  const { block, value, unknowns } = view;
  const inst = BLOCK_DEF[block].inst;
  const col = new Map(unknowns.map((e, c) => [e, c]));
  const basis = new ExactBasis();
  const rows: BoundedSystem['rows'][number][] = [];
  const many = new Map<number, number>();
  for (const e of unknowns) if ((entries[e] as Entry).row.institutions[inst] >= 2) many.set(e, many.size);
  const nc = table.cells;
  const insider = new ExactBasis();
  for (const r of table.flat) {
    const coefs = new Map<number, bigint>();
    const coefsMany = new Map<number, bigint>();
    let rhs = 0;
    const add = (e: number, c: number) => {
      const k = col.get(e);
      if (k === undefined) rhs -= c * (value[e] as number);
      else coefs.set(k, (coefs.get(k) ?? 0n) + BigInt(c));
      const m = many.get(e);
      if (m !== undefined) coefsMany.set(m, (coefsMany.get(m) ?? 0n) + BigInt(c));
    };
    add(r.total, 1);
    for (const m of r.members) add(m, -1);
    for (const [k, v] of coefs) if (v === 0n) coefs.delete(k);
    for (const [k, v] of coefsMany) if (v === 0n) coefsMany.delete(k);
    if (coefsMany.size > 0) insider.add(coefsMany);
    if (coefs.size === 0) continue;
    basis.add(coefs);
    rows.push({ name: `r${rows.length}`, coefs: [...coefs].map(([v, c]) => ({ v, c: Number(c) })), rhs });
  }
  report.rank[block] = basis.rank;
  const flagged = new Set<number>();
  for (const c of basis.determinedColumns()) {
    const e = entries[unknowns[c] as number] as Entry;
    flagged.add(unknowns[c] as number);
    report.findings.push({
      kind: 'determined',
      block,
      entry: e.id,
      message: `${e.id}: block ${block} is suppressed but uniquely determined by the published figures (rollups minus published siblings)`,
    });
  }
  const manyEntries = [...many.keys()];
  for (const m of insider.determinedColumns()) {
    const idx = manyEntries[m] as number;
    const c = col.get(idx) as number;
    const rule = view.rules[c];
    // Cells only: a rollup's cells of one institution each may belong to different institutions,
    // and no single contributor knows them all (docs/DISCLOSURE.md "Left").
    if (idx >= nc || flagged.has(idx) || rule === undefined || !input.protection.rules.includes(rule)) continue;
    const e = entries[idx] as Entry;
    report.findings.push({
      kind: 'contributor_determined',
      block,
      entry: e.id,
      message:
        `${e.id}: block ${block} (${e.row.institutions[inst]} institutions, ${rule}) is determined ` +
        `for a contributing institution that knows its own blocks of a single institution; with two ` +
        `institutions each would learn the other's figures`,
    });
  }
  return rows;
}

/**
 * Step 3: protection intervals of the populations of blocks suppressed by a rule in
 * `protection.rules` ({@link intervalNeeds}, then {@link exchangeIntervals}, then
 * {@link lpIntervals}). Returns the narrowest width / required width, per mille.
 */
async function protectionIntervals(
  input: AuditInput,
  table: Table,
  view: BlockView,
  rows: BoundedSystem['rows'],
  report: AuditReport,
): Promise<number | null> {
  const need = intervalNeeds(input, table, view);
  // Certified range per unknown: [loC, hiC] inside the true [lo, hi]; the true table is one point.
  const range = { lo: Float64Array.from(view.truth), hi: Float64Array.from(view.truth) };
  if (input.exchange !== false) exchangeIntervals(table, view, need, range, report);
  return lpIntervals(table, view, rows, need, range, report);
}

/** Required width per unknown (0: none), capped at what institution counts and primary rules leave anyway. */
function intervalNeeds(input: AuditInput, table: Table, view: BlockView): number[] {
  const { entries, cells: nc, flat, groupsOf } = table;
  const { block, unknowns, lower, upper, truth } = view;
  const def = BLOCK_DEF[block];
  const design = new DesignBounds(
    nc,
    flat,
    groupsOf,
    (e) => (entries[e] as Entry).row.institutions[def.inst],
    (e) => {
      const row = (entries[e] as Entry).row;
      if (row.institutions[def.inst] === 0) return 0;
      return row.suppressed[def.population]?.rule === 'min_population' ? input.thresholds.min_population - 1 : Infinity;
    },
  );
  return unknowns.map((e, c) => {
    const rule = view.rules[c];
    return rule !== undefined && input.protection.rules.includes(rule)
      ? Math.min(
          requiredWidth(truth[c] as number, input.protection),
          design.width(e, lower[c] as number, upper[c] as number),
        )
      : 0;
  });
}

/** Certified ranges of the unknowns' populations, widened in place. */
interface Ranges {
  lo: Float64Array;
  hi: Float64Array;
}

/** Exact certificates first: integer tables from exchange moves, each verified before it widens a range. */
function exchangeIntervals(
  table: Table,
  view: BlockView,
  need: readonly number[],
  range: Ranges,
  report: AuditReport,
): void {
  const { entries, cells: nc, groupsOf } = table;
  const { known, value, unknowns, lower, upper, truth } = view;
  const { lo: loC, hi: hiC } = range;
  const col = new Map(unknowns.map((e, c) => [e, c]));
  const lowerE = new Float64Array(entries.length);
  const upperE = new Float64Array(entries.length);
  const valueE = Float64Array.from(value);
  unknowns.forEach((e, c) => {
    lowerE[e] = lower[c] as number;
    upperE[e] = upper[c] as number;
    valueE[e] = truth[c] as number;
  });
  const exchange = new ExchangeSystem({ cells: nc, groupsOf, known, value: valueE, lower: lowerE, upper: upperE });
  const absorbDelta = (d: Delta) => {
    if (!exchange.verify(d)) return;
    for (const [e, x] of d) {
      const c = col.get(e) as number;
      const z = (truth[c] as number) + x;
      if (z < (loC[c] as number)) loC[c] = z;
      if (z > (hiC[c] as number)) hiC[c] = z;
    }
  };
  for (let c = 0; c < unknowns.length; c++) {
    const n = need[c] as number;
    if (n <= 0 || (hiC[c] as number) - (loC[c] as number) >= n) continue;
    const e = unknowns[c] as number;
    const v = truth[c] as number;
    absorbDelta(exchange.push(e, 1, (loC[c] as number) + n - v).delta);
    if ((hiC[c] as number) - (loC[c] as number) < n)
      absorbDelta(exchange.push(e, -1, v + n - (hiC[c] as number)).delta);
    if ((hiC[c] as number) - (loC[c] as number) >= n) report.exchangeCertified++;
  }
}

/** LPs for the intervals exchange tables did not certify (every LP solution is a feasible table and certifies others too). */
async function lpIntervals(
  table: Table,
  view: BlockView,
  rows: BoundedSystem['rows'],
  need: readonly number[],
  range: Ranges,
  report: AuditReport,
): Promise<number | null> {
  const { entries } = table;
  const { block, unknowns, lower, upper } = view;
  const def = BLOCK_DEF[block];
  const { lo: loC, hi: hiC } = range;
  const sys: BoundedSystem = { vars: unknowns.map((_, c) => `x${c}`), rows, lower, upper };
  const absorb = (x: Float64Array) => {
    for (let c = 0; c < x.length; c++) {
      const z = x[c] as number;
      loC[c] = Math.min(loC[c] as number, readInward(z, 'min'));
      hiC[c] = Math.max(hiC[c] as number, readInward(z, 'max'));
    }
  };
  const g = need.some((n, c) => n > 0 && (hiC[c] as number) - (loC[c] as number) < n) ? await glpk() : null;
  let worst: number | null = null;
  for (let c = 0; c < unknowns.length; c++) {
    const n = need[c] as number;
    if (n <= 0) continue;
    report.intervalsChecked++;
    const e = entries[unknowns[c] as number] as Entry;
    for (const dir of ['max', 'min'] as const) {
      if ((hiC[c] as number) - (loC[c] as number) >= n || !g) break;
      const r = optimise(g, sys, c, dir);
      report.lpSolved++;
      if (r === null) {
        report.findings.push({
          kind: 'infeasible',
          block,
          entry: e.id,
          message: `the interval LP of block ${block} is infeasible: the published figures contradict the bounds (a bug, report it)`,
        });
        break;
      }
      if (r.z === Infinity) {
        hiC[c] = Infinity;
        continue;
      }
      absorb(r.x);
    }
    const width = (hiC[c] as number) - (loC[c] as number);
    const ratio = Number.isFinite(width) ? Math.floor((1000 * width) / n) : null;
    if (ratio !== null && (worst === null || ratio < worst)) worst = ratio;
    if (width < n) {
      report.findings.push({
        kind: 'interval',
        block,
        entry: e.id,
        deficit: n - width,
        message: `${e.id}: block ${block}'s ${def.population} is known to lie in an interval of width ${width}, narrower than the required ${n}`,
      });
    }
  }
  return worst;
}

/**
 * Step 4 ({@link pinningStep}): no protected count (every slot, every inequality's slack,
 * absence minutes) of a block suppressed by a rule in `protection.rules` can be narrowed to one
 * value under the whole attacker model at once, the contributor included (`pinning.ts`).
 * Exempt: counts the published total row shows as 0 (0 for the whole sector, so in every row:
 * the sector's own fact, issue 12).
 */
async function pinningStep(input: AuditInput, table: Table, view: BlockView, report: AuditReport): Promise<void> {
  const { entries, cells: nc, groupsOf, flat } = table;
  const { block, known, unknowns } = view;
  const def = BLOCK_DEF[block];
  const targets = unknowns.filter((_, c) => {
    const rule = view.rules[c];
    return rule !== undefined && input.protection.rules.includes(rule);
  });
  if (targets.length === 0) return;
  const counts = COUNTS[block];
  const lower = new Float64Array(entries.length);
  const upper = new Float64Array(entries.length).fill(Infinity);
  unknowns.forEach((e, c) => {
    lower[e] = view.lower[c] as number;
    upper[e] = view.upper[c] as number;
  });
  const zeroRow: Record<string, number> = Object.fromEntries(def.slots.map((s) => [s, 0]));
  const row = (e: number): Readonly<Record<string, number>> => {
    const entry = entries[e] as Entry;
    if (!known[e]) return input.trueRow(block, entry.kind, entry.key);
    if (entry.row.institutions[def.inst] === 0) return zeroRow;
    return knownSlots(view, entry, e) as Readonly<Record<string, number>>;
  };
  const totalRow = (input.zeroRule ?? DEFAULT_ZERO_RULE) === 'total_row';
  const exempt = zeroExemptions(table, view, targets, counts, totalRow);
  const totalEntry = entries.findIndex((e) => e.kind === 'rollup' && e.key === 'total');
  const result = await pinningCheck({
    block,
    slots: def.slots,
    cells: nc,
    groupsOf,
    members: flat.map((r) => r.members),
    known,
    institutions: entries.map((e) => e.row.institutions[def.inst]),
    row,
    lower,
    upper,
    targets,
    counts,
    exempt: exempt.test,
    ...(input.contributor ? { contributor: input.contributor } : {}),
    zeroRule: totalRow ? 'total_row' : 'published_rows',
    ...(totalRow
      ? {
          total: totalEntry,
          // the wider zero test of DECISIONS 42, here as a shortcut, not an exemption
          pinnedByZero: zeroExemptions(table, view, targets, counts, false).test,
          withheld: (e: number, s: number) => table.withheld.get(e)?.has(def.slots[s] as string) ?? false,
          minPopulation: input.thresholds.min_population,
          earlierKnown: earlierKnownSlots(input, table, block),
          ...(input.memo ? { slotWitnesses: input.memo.slotWitnesses } : {}),
        }
      : {}),
  });
  report.pinning.blocks += targets.length;
  report.pinning.counts += result.checked;
  report.pinning.contributor += result.contributor;
  report.pinning.outsider += result.outsider;
  report.pinning.perCountOnly += result.perCountOnly;
  report.pinning.exemptZero += exempt.count();
  report.pinning.contributorPerCount += result.contributorPerCount;
  report.pinning.contributorUnproven += result.contributorPinnedPairs.length;
  report.pinning.contributorExempt += result.contributorExempt;
  report.pinning.slotProven += result.slotProven;
  report.lpSolved += result.lpSolved;
  for (const [e, ids] of result.pinned) {
    const entry = entries[e] as Entry;
    report.findings.push({
      kind: 'pinned',
      block,
      entry: entry.id,
      counts: ids,
      ...withholdOf(result.suggestions.get(e), entries, def.slots),
      message:
        `${entry.id}: block ${block} (${entry.row.institutions[def.inst]} institution(s)) has ${ids.length} ` +
        `count(s) an attacker (an outsider, or a contributing institution that knows every suppressed ` +
        `block of a single institution) can narrow to one value (e.g. ${ids.slice(0, 3).join(', ')})`,
    });
  }
}

/**
 * Per entry and slot of a block: whether some earlier version published the slot and the row is
 * taken as unchanged since (same institution count, no corrections since that version), as the
 * version table does (`version-table.ts`): a slot move must not change it (`slot-moves.ts`).
 */
function earlierKnownSlots(input: AuditInput, table: Table, block: BlockName): (e: number, s: number) => boolean {
  const def = BLOCK_DEF[block];
  const earlier = input.earlier ?? [];
  if (earlier.length === 0) return () => false;
  const known = table.entries.map((e) => {
    const slots = new Set<number>();
    for (const v of earlier) {
      if ((input.correctorsSince?.[v.release_version] ?? 0) > 0) continue;
      const old = e.kind === 'cell' ? v.cells[e.key] : v.rollups[e.key];
      if (!old || old.institutions[def.inst] !== e.row.institutions[def.inst]) continue;
      def.slots.forEach((s, k) => {
        if (old.slots[s] !== null && old.slots[s] !== undefined) slots.add(k);
      });
    }
    return slots;
  });
  return (e, s) => known[e]?.has(s) ?? false;
}

/** A pinned finding's suggested withheld slots, by rollup id and slot name. */
function withholdOf(
  s: ReadonlyMap<number, number[]> | undefined,
  entries: readonly Entry[],
  slots: readonly string[],
): { withhold?: AuditFinding['withhold'] } {
  if (!s || s.size === 0) return {};
  return {
    withhold: [...s].map(([e, idx]) => ({
      rollup: (entries[e] as Entry).key,
      slots: idx.map((i) => slots[i] as string),
    })),
  };
}

/**
 * docs/DECISIONS.md 42: a count that a published row (with institutions) containing the target
 * shows as 0 is 0 in every row inside it, that row's own fact (the total row is one of them).
 * `test(t, k)` says whether count k is exempt for target t; `count()` how many pairs were.
 */
function zeroExemptions(
  table: Table,
  view: BlockView,
  targets: readonly number[],
  counts: readonly ProtectedCount[],
  totalOnly: boolean,
): { test: (t: number, k: number) => boolean; count: () => number } {
  const { entries, cells: nc, groupsOf, flat } = table;
  const { known } = view;
  const def = BLOCK_DEF[view.block];
  const zeroAt = new Map<number, Set<number>>();
  for (const r of flat) {
    const e = entries[r.total] as Entry;
    if (!known[r.total] || e.row.institutions[def.inst] === 0) continue;
    if (totalOnly && e.key !== 'total') continue; // issue 12's one exception (DECISIONS 97)
    const zeros = new Set<number>();
    counts.forEach((f, k) => {
      if (evaluate(f.form, knownSlots(view, e, r.total) as Readonly<Record<string, number>>) === 0) zeros.add(k);
    });
    if (zeros.size > 0) zeroAt.set(r.total, zeros);
  }
  const containers = new Map<number, number[]>();
  for (const t of targets) {
    const mine = t < nc ? [t] : (flat[t - nc]?.members ?? []);
    const first = mine[0];
    const around = first === undefined ? [] : (groupsOf[first] ?? []);
    containers.set(
      t,
      around.filter((r) => r !== t && zeroAt.has(r) && mine.every((c) => groupsOf[c]?.includes(r))),
    );
  }
  let exempted = 0;
  const test = (t: number, k: number) => {
    const hit = (containers.get(t) ?? []).some((r) => zeroAt.get(r)?.has(k));
    if (hit) exempted++;
    return hit;
  };
  return { test, count: () => exempted };
}

/**
 * The difference table of this release and each earlier version, for one block
 * (`version-table.ts`; docs/DISCLOSURE.md "Versions"), run with `earlierAsFacts` (the earlier
 * versions' figures as the attacker's knowledge; the release path sets it for every
 * re-release): values of either version that become derivable from both together
 * (`determined`, more suppression can fix those), and row differences derivable without being
 * published in both, under the version rule (`version_difference`, refused).
 */
function versionTables(input: AuditInput, table: Table, view: BlockView, report: AuditReport): void {
  if (!input.earlierAsFacts || !input.earlier?.length) return;
  const def = BLOCK_DEF[view.block];
  const zeros: Record<string, number> = Object.fromEntries(def.slots.map((s) => [s, 0]));
  const entries: VersionEntry[] = table.entries.map((e, i) => ({
    id: e.id,
    kind: e.kind,
    key: e.key,
    institutions: e.row.institutions[def.inst],
    known: !view.known[i] ? null : e.row.institutions[def.inst] === 0 ? zeros : knownSlots(view, e, i),
  }));
  const determinedAlready = new Set(
    report.findings.filter((f) => f.block === view.block && f.kind === 'determined').map((f) => f.entry),
  );
  for (const earlier of input.earlier) {
    const result = versionTableCheck({
      block: view.block,
      slots: def.slots,
      population: def.population,
      inst: def.inst,
      entries,
      relations: table.flat,
      earlier,
      correctors: input.correctorsSince?.[earlier.release_version] ?? 0,
      thresholds: input.thresholds,
      determinedAlready,
    });
    report.differencesDerived += result.derived;
    for (const f of result.findings) {
      if (f.kind === 'determined') {
        if (determinedAlready.has(f.entry)) continue;
        determinedAlready.add(f.entry);
      }
      report.findings.push({ ...f, block: view.block });
    }
  }
}

/**
 * Versions: against every earlier release of the round, a block published (or known) in both
 * whose figures differ is the contribution of the institutions that came, went or changed in
 * between; refused unless at least `min_institutions` more (or fewer) institutions are behind it
 * and its population changed by at least `min_population`.
 */
function checkVersions(input: AuditInput, table: Table, report: AuditReport): void {
  const { thresholds } = input;
  for (const prev of input.earlier ?? []) {
    report.versionsCompared.push(prev.release_version);
    for (const [i, e] of table.entries.entries()) {
      const old = e.kind === 'cell' ? prev.cells[e.key] : prev.rollups[e.key];
      if (!old) continue;
      // fillWithheld put the true values into this release's withheld slots: read them as null
      const hidden = table.withheld.get(i);
      for (const block of ['A', 'B'] as BlockName[]) {
        const def = BLOCK_DEF[block];
        // A block is published when its population is; under the zero rule total_row a
        // published rollup block may withhold single slots (null), and the slots published in
        // both versions still give their difference (the population always does).
        const read = (r: ReleaseRow): (number | null)[] | null =>
          r.institutions[def.inst] === 0
            ? def.slots.map(() => 0)
            : r.slots[def.population] === null
              ? null
              : def.slots.map((s) => r.slots[s] ?? null);
        const now = read(e.row)?.map((v, k) => (hidden?.has(def.slots[k] as string) ? null : v)) ?? null;
        const then = read(old);
        if (!now || !then) continue;
        report.differencesChecked++;
        const dInst = e.row.institutions[def.inst] - old.institutions[def.inst];
        const dPop = (now[0] as number) - (then[0] as number);
        const differs = dInst !== 0 || now.some((v, k) => v !== null && then[k] !== null && v !== then[k]);
        const behind = institutionsBehind(dInst, input.correctorsSince?.[prev.release_version] ?? 0);
        if (differs && (behind < thresholds.min_institutions || Math.abs(dPop) < thresholds.min_population)) {
          report.findings.push({
            kind: 'version_difference',
            block,
            entry: e.id,
            message:
              `${e.id}: block ${block} is published in this release and in version ${prev.release_version} ` +
              `with different figures; their difference is the contribution of ${behind} institution(s) (fewer ` +
              `than ${thresholds.min_institutions}) or of a population change below ${thresholds.min_population}`,
          });
        }
      }
    }
  }
}
