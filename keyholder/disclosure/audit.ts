import type { Thresholds } from '../../schemas/manifest.js';
import type { Release, ReleaseRow } from '../../schemas/release.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { ExactBasis } from './exact-rref.js';
import { DesignBounds } from './design-width.js';
import { ExchangeSystem, type Delta } from './exchange.js';
import { glpk, optimise, type BoundedSystem } from './lp.js';
import { requiredWidth, type ProtectionParams } from './secondary.js';
import type { BlockName } from './types.js';

const BLOCK_DEF: Readonly<Record<BlockName, { slots: readonly string[]; population: string; inst: 'a' | 'b' }>> = {
  A: { slots: BLOCK_A_SLOTS, population: 'a_enrolments', inst: 'a' },
  B: { slots: BLOCK_B_SLOTS, population: 'b_starters', inst: 'b' },
};

/** What the audit found wrong; a release with any finding is refused. */
export interface AuditFinding {
  kind: 'mixed_block' | 'determined' | 'interval' | 'infeasible' | 'version_difference';
  block: BlockName;
  /** `cell:<key>` or `rollup:<key>`. */
  entry: string;
  message: string;
  /** For `interval`: how much width is missing. */
  deficit?: number;
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
  versionsCompared: number[];
  differencesChecked: number;
}

/** Everything the audit looks at: the rows as they would be released, the true populations, earlier versions. */
export interface AuditInput {
  codebook: Codebook;
  thresholds: Thresholds;
  cells: Readonly<Record<string, ReleaseRow>>;
  rollups: Readonly<Record<string, ReleaseRow>>;
  /** True population (`a_enrolments` / `b_starters`) of a suppressed row: key holder only. */
  truePopulation: (block: BlockName, kind: 'cell' | 'rollup', key: string) => number;
  protection: ProtectionParams;
  /** Earlier signed releases of the same round (any order). */
  earlier?: readonly Release[];
  /**
   * Prove intervals with exact exchange tables before any LP (default true). Off: every interval
   * not certified by the true table or earlier LP solutions gets its own LP (for tests and the
   * benchmark; the verdict is the same).
   */
  exchange?: boolean;
}

interface Entry {
  id: string;
  row: ReleaseRow;
}

/**
 * Relative tolerance for reading GLPK's floating-point solutions: a coordinate within it of an
 * integer is that integer (vertices of these systems are rationals with small denominators, far
 * from 1e-6 of an integer unless they are one); any other is rounded inward (floor for a
 * maximum, ceil for a minimum), since the true values are integers.
 */
const TOL = 1e-6;

/**
 * The disclosure audit, run on every release before it is signed, independently of the code
 * that chose the suppressions (it rebuilds the relations from the codebook in flat form: every
 * rollup = the sum of its cells):
 *
 * 1. Every block of every row is published or suppressed as a whole (one pattern per block, so
 *    one exact test per block covers all its slots: the relation matrix is the same for every
 *    slot, and whether a value is uniquely determined depends only on which entries are known).
 * 2. Exact rank test (BigInt, {@link ExactBasis}): no suppressed value's unit vector lies in the
 *    row space of the relations restricted to the suppressed unknowns. A row without
 *    contributing institutions is a known zero.
 * 3. Protection intervals (LP, glpk.js) of the population slot of every suppressed block whose
 *    rule is in `protection.rules`: the values an attacker can still hold possible given the
 *    published relations, each unknown at least its (published) institution count, and what its
 *    rule says (`min_population`: below the threshold; `dominance`/`secondary`: passed the
 *    primary rules). Refused when `hi - lo < max(min_width, v * ratio)`, where the requirement
 *    is capped at the width the published rules and institution counts of the row and the rows
 *    it adds up to or from already leave ({@link DesignBounds}; no suppression could give more). Optima are read inward (an
 *    integer within 1e-6 is that integer, otherwise `hi = floor(z)`, `lo = ceil(z)`: true
 *    values are integers); every LP solution is also kept as a feasible point that certifies
 *    widths of other unknowns. Before any LP, exact integer tables built from exchange moves
 *    ({@link ExchangeSystem}: students moved between suppressed cells so that no known figure
 *    changes; each table verified against every relation it touches and every bound) certify
 *    `hi - lo >= required` for most unknowns: the LP interval contains every feasible table,
 *    so two tables `required` apart prove it wide enough. Only the rest are solved by LP, and
 *    a finding always comes from an LP optimum, never from a failed search for tables.
 * 4. Versions: against every earlier release of the round, a block published (or known) in both
 *    whose figures differ is the contribution of the institutions that came, went or changed in
 *    between; refused unless at least `min_institutions` more (or fewer) institutions are behind
 *    it and its population changed by at least `min_population`.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Disclosure control"; docs/DISCLOSURE.md
 */
export async function auditRelease(input: AuditInput): Promise<AuditReport> {
  const { codebook, thresholds } = input;
  const report: AuditReport = {
    findings: [],
    checkedBlocks: 0,
    rank: { A: 0, B: 0 },
    intervalsChecked: 0,
    exchangeCertified: 0,
    lpSolved: 0,
    minWidthRatioPermille: null,
    versionsCompared: [],
    differencesChecked: 0,
  };
  const entries: Entry[] = [
    ...codebook.cellKeys.map((k) => ({ id: `cell:${k}`, row: input.cells[k] as ReleaseRow })),
    ...codebook.groupKeys.map((k) => ({ id: `rollup:${k}`, row: input.rollups[k] as ReleaseRow })),
  ];
  if (entries.some((e) => !e.row)) throw new Error('audit: the release lacks a row of the codebook');
  const nc = codebook.cellKeys.length;
  const flat = codebook.groupKeys.map((g, j) => ({
    name: `${g} = sum of its cells`,
    total: nc + j,
    members: codebook.groupCells.get(g) ?? [],
  }));
  const groupsOf: number[][] = Array.from({ length: nc }, () => []);
  for (const r of flat) for (const m of r.members) (groupsOf[m] as number[]).push(r.total);
  let worst: number | null = null;

  for (const block of ['A', 'B'] as BlockName[]) {
    const def = BLOCK_DEF[block];
    // 1. Pattern per block; known = published or no institution.
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
    const unknowns = entries.flatMap((_, i) => (known[i] ? [] : [i]));
    const design = new DesignBounds(
      nc,
      flat,
      groupsOf,
      (e) => (entries[e] as Entry).row.institutions[def.inst],
      (e) => {
        const row = (entries[e] as Entry).row;
        if (row.institutions[def.inst] === 0) return 0;
        return row.suppressed[def.population]?.rule === 'min_population' ? thresholds.min_population - 1 : Infinity;
      },
    );
    report.checkedBlocks += unknowns.length;
    if (unknowns.length === 0) continue;
    const col = new Map(unknowns.map((e, c) => [e, c]));

    // 2. Exact rank test.
    const basis = new ExactBasis();
    const rows: BoundedSystem['rows'][number][] = [];
    for (const r of flat) {
      const coefs = new Map<number, bigint>();
      let rhs = 0;
      const add = (e: number, c: number) => {
        const k = col.get(e);
        if (k === undefined) rhs -= c * (value[e] as number);
        else coefs.set(k, (coefs.get(k) ?? 0n) + BigInt(c));
      };
      add(r.total, 1);
      for (const m of r.members) add(m, -1);
      for (const [k, v] of coefs) if (v === 0n) coefs.delete(k);
      if (coefs.size === 0) continue;
      basis.add(coefs);
      rows.push({ name: `r${rows.length}`, coefs: [...coefs].map(([v, c]) => ({ v, c: Number(c) })), rhs });
    }
    report.rank[block] = basis.rank;
    for (const c of basis.determinedColumns()) {
      const e = entries[unknowns[c] as number] as Entry;
      report.findings.push({
        kind: 'determined',
        block,
        entry: e.id,
        message: `${e.id}: block ${block} is suppressed but uniquely determined by the published figures (rollups minus published siblings)`,
      });
    }

    // 3. Protection intervals of the population slot.
    const lower: number[] = [];
    const upper: number[] = [];
    const truth: number[] = [];
    const need: number[] = [];
    for (const e of unknowns) {
      const { row, id } = entries[e] as Entry;
      const inst = row.institutions[def.inst];
      const rule = row.suppressed[def.population]?.rule;
      const passedPrimary = rule === 'secondary' || rule === 'dominance';
      const lo = Math.max(1, inst, passedPrimary ? thresholds.min_population : 0);
      const hi = rule === 'min_population' ? thresholds.min_population - 1 : Infinity;
      lower.push(lo);
      upper.push(hi);
      const [kind, key] = [id.slice(0, id.indexOf(':')) as 'cell' | 'rollup', id.slice(id.indexOf(':') + 1)];
      const v = input.truePopulation(block, kind, key);
      truth.push(v);
      // Capped at what the published institution counts and primary rules leave anyway.
      need.push(
        rule !== undefined && input.protection.rules.includes(rule)
          ? Math.min(requiredWidth(v, input.protection), design.width(e, lo, hi))
          : 0,
      );
    }
    const sys: BoundedSystem = { vars: unknowns.map((_, c) => `x${c}`), rows, lower, upper };
    // Certified range per unknown: [loC, hiC] inside the true [lo, hi]; the true table is one point.
    const loC = Float64Array.from(truth);
    const hiC = Float64Array.from(truth);
    const absorb = (x: Float64Array) => {
      for (let c = 0; c < x.length; c++) {
        const z = x[c] as number;
        const r = Math.round(z);
        const near = Math.abs(z - r) <= TOL * Math.max(1, Math.abs(z));
        loC[c] = Math.min(loC[c] as number, near ? r : Math.ceil(z));
        hiC[c] = Math.max(hiC[c] as number, near ? r : Math.floor(z));
      }
    };
    // Exact certificates first: integer tables from exchange moves, each verified.
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
    for (let c = 0; c < unknowns.length && input.exchange !== false; c++) {
      const n = need[c] as number;
      if (n <= 0 || (hiC[c] as number) - (loC[c] as number) >= n) continue;
      const e = unknowns[c] as number;
      const v = truth[c] as number;
      absorbDelta(exchange.push(e, 1, (loC[c] as number) + n - v).delta);
      if ((hiC[c] as number) - (loC[c] as number) < n)
        absorbDelta(exchange.push(e, -1, v + n - (hiC[c] as number)).delta);
      if ((hiC[c] as number) - (loC[c] as number) >= n) report.exchangeCertified++;
    }
    const g = need.some((n, c) => n > 0 && (hiC[c] as number) - (loC[c] as number) < n) ? await glpk() : null;
    for (let c = 0; c < unknowns.length; c++) {
      const n = need[c] as number;
      if (n <= 0) continue;
      report.intervalsChecked++;
      for (const dir of ['max', 'min'] as const) {
        if ((hiC[c] as number) - (loC[c] as number) >= n || !g) break;
        const r = optimise(g, sys, c, dir);
        report.lpSolved++;
        if (r === null) {
          report.findings.push({
            kind: 'infeasible',
            block,
            entry: (entries[unknowns[c] as number] as Entry).id,
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
        const e = entries[unknowns[c] as number] as Entry;
        report.findings.push({
          kind: 'interval',
          block,
          entry: e.id,
          deficit: n - width,
          message: `${e.id}: block ${block}'s ${def.population} is known to lie in an interval of width ${width}, narrower than the required ${n}`,
        });
      }
    }
  }
  report.minWidthRatioPermille = worst;

  // 4. Versions.
  for (const prev of input.earlier ?? []) {
    report.versionsCompared.push(prev.release_version);
    for (const e of entries) {
      const [kind, key] = [e.id.slice(0, e.id.indexOf(':')), e.id.slice(e.id.indexOf(':') + 1)];
      const old = kind === 'cell' ? prev.cells[key] : prev.rollups[key];
      if (!old) continue;
      for (const block of ['A', 'B'] as BlockName[]) {
        const def = BLOCK_DEF[block];
        const read = (r: ReleaseRow): number[] | null =>
          r.institutions[def.inst] === 0
            ? def.slots.map(() => 0)
            : def.slots.some((s) => r.slots[s] === null)
              ? null
              : def.slots.map((s) => r.slots[s] as number);
        const now = read(e.row);
        const then = read(old);
        if (!now || !then) continue;
        report.differencesChecked++;
        const dInst = e.row.institutions[def.inst] - old.institutions[def.inst];
        const dPop = (now[0] as number) - (then[0] as number);
        const differs = dInst !== 0 || now.some((v, k) => v !== then[k]);
        if (differs && (Math.abs(dInst) < thresholds.min_institutions || Math.abs(dPop) < thresholds.min_population)) {
          report.findings.push({
            kind: 'version_difference',
            block,
            entry: e.id,
            message: `${e.id}: block ${block} is published in this release and in version ${prev.release_version} with different figures; their difference is the contribution of ${Math.abs(dInst)} institution(s) (fewer than ${thresholds.min_institutions}) or of a population change below ${thresholds.min_population}`,
          });
        }
      }
    }
  }
  return report;
}
