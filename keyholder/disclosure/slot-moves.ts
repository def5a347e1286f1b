/**
 * Slot moves: the proof (and the choice of withheld slots) for a protected count that a
 * published rollup would otherwise pin, under the issue-12 rule that only the **total row**'s
 * zeros are the sector's own fact (docs/DISCLOSURE.md "Withheld slots", docs/DECISIONS.md 97).
 *
 * A slot move shifts a vector `d` (one value per slot, population 0) from cell b to cell a:
 * a becomes `a + d`, b becomes `b − d`. Every row containing both (the total row at least) keeps
 * its sums; every row containing exactly one of them (the set D) changes by ±d, so the move is a
 * table the attacker must hold possible exactly when
 * - a and b are unknown to it (suppressed; against the contributor: of two or more institutions,
 *   or the target's own rows),
 * - every row of D is unknown to it in every slot where `d ≠ 0` (a suppressed row, or a
 *   published rollup whose slot is withheld),
 * - `a + d` and `b − d` are >= 0 and meet every within-row relation and inequality of
 *   `row-inequalities.ts`, and the non-linear Cauchy–Schwarz one (checked on the solution).
 * Rows of D are sums of cell rows, so they then meet them too (the constraints are homogeneous
 * and the set of valid rows is a convex cone). Everything else keeps its true value. When the
 * count f of target t (a, or a rollup containing a and not b) changes by at least 1, f takes
 * two values on the attacker's (convex) feasible set: the count is not pinned. The LP optimum
 * of `f · d` is read inward (`readInward`), as every LP of the audit.
 *
 * To choose withheld slots, the same LP lets every slot of the published rollups of D move,
 * asks for `f · d >= 1` (or `<= −1`) and minimises `Σ |d_s|`: the slots where the optimum moves
 * are the ones to withhold in those rollups. Never the population. A **solo move** (no partner,
 * `b = −1`) changes a alone: every row containing a is in D, the total row too, which then
 * withholds the moved slots (its population never); it is tried last, since the total row is
 * the benchmark every node compares with, and it is what protects a count that one institution
 * holds alone in the whole sector from that institution (the total minus its own would show the
 * rest of the sector holds none).
 */
import { type BoundedSystem, glpk, optimise, readInward } from './lp.js';

/** One block's table as slot moves see it (a view of `PinningContext`). */
export interface SlotSpace {
  cells: number;
  groupsOf: readonly (readonly number[])[];
  /** Number of slots; slot 0 is the population. */
  slots: number;
  /** True row per entry (the published one for published entries; withheld slots hold their true value). */
  rows: readonly Float64Array[];
  /** Within-row constraints, compiled: `Σ coef · row[slot] >= 0` (or `= 0`). */
  constraints: readonly { kind: 'ge' | 'eq'; form: readonly (readonly [number, number])[] }[];
  /** Slot indexes of `b_early_n`, `b_sum_x`, `b_sum_x2` (block B), for Cauchy–Schwarz. */
  cauchy: readonly [number, number, number] | null;
  /** Whether entry e is suppressed (as a block) and has institutions. */
  suppressed: (e: number) => boolean;
  /** The attacker's population bounds of entry e (a published one: those it would have suppressed as a secondary). */
  population: (e: number) => readonly [number, number];
  /** Whether published entry e withholds slot s. */
  withheld: (e: number, s: number) => boolean;
  /** Whether an earlier version published slot s of entry e and the row is taken as unchanged since: it cannot move. */
  earlierKnown: (e: number, s: number) => boolean;
  /**
   * Slots a solo move may move (withholding them in the total row): none of those the headline
   * figures of METRICS.md need (`FIGURE_INPUTS`; DECISIONS 97: allowed to move every slot, solo
   * moves withheld nearly the whole total row of node-path sectors, the benchmark itself).
   */
  soloSlots: ReadonlySet<number>;
}

/** A count as a compiled linear form over the slots. */
export type SlotForm = readonly (readonly [number, number])[];

/** What one move search found: proven, or the withheld slots (rollup entry -> slot indexes) that would prove it. */
export interface SlotMoveResult {
  proven: boolean;
  /** The move that proved it (for {@link witnessHolds}). */
  witness?: SlotWitness;
  suggestion: Map<number, number[]> | null;
  lpSolved: number;
}

/** A proving move: partner b (−1: solo) and the slots it moves (never the population). */
export interface SlotWitness {
  a: number;
  b: number;
  slots: readonly number[];
}

/**
 * Whether a move found by an earlier audit of the same sector still proves its count: a and b
 * still unknown to the attacker, no row of D known to it, and every published row of D
 * withholding every slot the move changes. The rows' true values and the constraints are those
 * of the sector, so the move's LP solution is still a table the attacker must hold possible.
 * (Moves of the population are not reused: their window depends on the rows' bounds.)
 */
export function witnessHolds(sp: SlotSpace, w: SlotWitness, free: (e: number) => boolean): boolean {
  if (!free(w.a) || (w.b >= 0 && !free(w.b))) return false;
  const pair = pairSpace(sp, w.a, w.b, free);
  if (pair.closed.length > 0) return false;
  const rows = changed(pair);
  return w.slots.every(
    (s) => s > 0 && pair.published.every((r) => sp.withheld(r, s)) && !rows.some((e) => sp.earlierKnown(e, s)),
  );
}

/** Every row a move of the pair changes: a, b and D. */
function changed(pair: Pair): number[] {
  return [pair.a, ...(pair.b >= 0 ? [pair.b] : []), ...pair.open, ...pair.published];
}

const EPS = 1e-9;
/** Most partner cells tried per gaining cell. */
const PARTNERS = 4;

/**
 * Search slot moves for count f of a target (a cell, or a rollup: `inner`, its cells, gain).
 * `free(e)`: whether entry e is unknown to the attacker as a block (outsider: suppressed;
 * contributor: suppressed and of two or more institutions, or t's own). With `suggest`, when no
 * move proves it, also the cheapest withheld slots that would.
 *
 * @returns proven, else the suggestion (null when no partner works); never throws on data
 */
export async function slotMoves(
  sp: SlotSpace,
  f: SlotForm,
  free: (e: number) => boolean,
  inner: readonly number[],
  suggest: boolean,
): Promise<SlotMoveResult> {
  const g = await glpk();
  let lpSolved = 0;
  const insideT = new Set(inner);
  const gains = inner.filter((c) => free(c));
  // A partner cell first (the total row keeps its sums), then a solo move (-1: a alone changes,
  // so every published row containing it, the total row too, must withhold the moved slots).
  const pairs = gains.flatMap((a) =>
    [...partners(sp, a, f, free, insideT), ...(sp.soloSlots.size > 0 ? [-1] : [])].map((b) =>
      pairSpace(sp, a, b, free),
    ),
  );
  for (const pair of pairs) {
    const proof = await moveLp(g, sp, pair, f, 'verify');
    lpSolved += proof.lp;
    if (proof.ok)
      return {
        proven: true,
        suggestion: null,
        lpSolved,
        ...(proof.slots.includes(0) ? {} : { witness: { a: pair.a, b: pair.b, slots: proof.slots } }),
      };
  }
  // Suggestions, cheapest kind first: slots of rollups between a and a partner, then those
  // rollups' blocks (the population moves), and only then a solo move, which withholds slots of
  // the total row (the benchmark every node compares with).
  if (suggest)
    for (const [mode, solo] of [
      ['suggest', false],
      ['population', false],
      ['suggest', true],
    ] as const)
      for (const pair of pairs) {
        if (pair.b < 0 !== solo) continue;
        const s = await moveLp(g, sp, pair, f, mode);
        lpSolved += s.lp;
        if (s.ok) return { proven: false, suggestion: new Map(pair.published.map((r) => [r, s.slots])), lpSolved };
      }
  return { proven: false, suggestion: null, lpSolved };
}

/**
 * The first {@link PARTNERS} free cells outside t in this order: those that hold some of the
 * count first (b − d ≥ 0 with f · d ≥ 1 needs f · b ≥ 1 for a count or a slack, so one with
 * none cannot give), then nearest (most rollups shared with a), then most of the count. One
 * pass over the cells keeping the best few (no sort of all of them): this runs once per pinned
 * pair and audit.
 */
function partners(
  sp: SlotSpace,
  a: number,
  f: SlotForm,
  free: (e: number) => boolean,
  insideT: ReadonlySet<number>,
): number[] {
  const mine = new Set(sp.groupsOf[a] ?? []);
  // The best few as parallel arrays, best first (no object per cell: this is a hot loop).
  const cs: number[] = [];
  const gs: number[] = [];
  const ss: number[] = [];
  const ms: number[] = [];
  const before = (g: number, sh: number, m: number, c: number, i: number) =>
    (g - (gs[i] as number) || (ss[i] as number) - sh || (ms[i] as number) - m || c - (cs[i] as number)) < 0;
  for (let c = 0; c < sp.cells; c++) {
    if (c === a || insideT.has(c) || !free(c)) continue;
    const mass = Math.abs(dot(f, sp.rows[c] as Float64Array));
    const gives = mass >= 1 ? 0 : 1;
    if (cs.length === PARTNERS && gives > (gs[PARTNERS - 1] as number)) continue;
    let shared = 0;
    for (const r of sp.groupsOf[c] ?? []) if (mine.has(r)) shared++;
    if (cs.length === PARTNERS && !before(gives, shared, mass, c, PARTNERS - 1)) continue;
    let i = cs.length;
    while (i > 0 && before(gives, shared, mass, c, i - 1)) i--;
    cs.splice(i, 0, c);
    gs.splice(i, 0, gives);
    ss.splice(i, 0, shared);
    ms.splice(i, 0, mass);
    if (cs.length > PARTNERS) {
      cs.pop();
      gs.pop();
      ss.pop();
      ms.pop();
    }
  }
  return cs;
}

interface Pair {
  a: number;
  b: number;
  /** Rows containing exactly one of a and b that are unknown as blocks: free in every slot. */
  open: number[];
  /** Rows of D that are published: free only where withheld. */
  published: number[];
  /** Rows of D that are suppressed but known to this attacker: never free. */
  closed: number[];
}

function pairSpace(sp: SlotSpace, a: number, b: number, free: (e: number) => boolean): Pair {
  const ga = new Set(sp.groupsOf[a] ?? []);
  const gb = new Set(b < 0 ? [] : (sp.groupsOf[b] ?? []));
  const d = [...[...ga].filter((r) => !gb.has(r)), ...[...gb].filter((r) => !ga.has(r))];
  const pair: Pair = { a, b, open: [], published: [], closed: [] };
  for (const r of d) {
    if (free(r)) pair.open.push(r);
    else if (sp.suppressed(r)) pair.closed.push(r);
    else pair.published.push(r);
  }
  return pair;
}

/**
 * The move LP for a pair: `f · d >= 1` (then `<= −1`) with `Σ |d_s|` minimal, d non-zero only
 * on movable slots. `verify`: a slot is movable when every published row of D withholds it;
 * `suggest`: every non-population slot is (when no row of D is closed). Feasible, and the
 * solution meets Cauchy–Schwarz: a witness; returns the slots it moves. The minimal solution is
 * checked (not the maximum of `f · d`, whose extreme vertex may break Cauchy–Schwarz where a
 * smaller move does not).
 */
async function moveLp(
  g: Awaited<ReturnType<typeof glpk>>,
  sp: SlotSpace,
  pair: Pair,
  f: SlotForm,
  mode: 'verify' | 'suggest' | 'population',
): Promise<{ ok: boolean; slots: number[]; lp: number }> {
  const ra = sp.rows[pair.a] as Float64Array;
  const rb = pair.b < 0 ? null : (sp.rows[pair.b] as Float64Array);
  const movable: number[] = [];
  // The population moves when every row of D is unknown (verify), or when the published ones
  // would be suppressed as a whole (mode population); never in a solo move (the total row).
  const popMoves = rb !== null && (mode === 'population' || (mode === 'verify' && pair.published.length === 0));
  const touched = changed(pair);
  // a known suppressed row of D: nothing may move
  if (pair.closed.length === 0)
    for (let s = popMoves ? 0 : 1; s < sp.slots; s++) {
      if (mode === 'verify' && s > 0 && !pair.published.every((r) => sp.withheld(r, s))) continue;
      if (!rb && !sp.soloSlots.has(s)) continue;
      if (touched.some((e) => sp.earlierKnown(e, s))) continue;
      movable.push(s);
    }
  const col = new Map(movable.map((s, i) => [s, i]));
  const fc = f.filter(([s]) => col.has(s)).map(([s, k]) => ({ v: col.get(s) as number, c: k }));
  if (fc.length === 0) return { ok: false, slots: [], lp: 0 };
  const n = movable.length;
  // a + d >= 0 and b − d >= 0; the population within every changed row's bounds
  const lower = movable.map((s) => -(ra[s] as number));
  const upper = movable.map((s) => (rb ? (rb[s] as number) : Infinity));
  if (popMoves && col.get(0) === 0) {
    const [lo, hi] = populationWindow(sp, pair);
    lower[0] = Math.max(lower[0] as number, lo);
    upper[0] = Math.min(upper[0] as number, hi);
    if (lower[0] > upper[0]) return { ok: false, slots: [], lp: 0 };
  }
  const rows: { name: string; coefs: { v: number; c: number }[]; rhs: number; ge?: boolean }[] = [];
  for (const c of sp.constraints) {
    // the slots of the form that cannot move keep their true values at a and b
    const coefs = c.form.filter(([s]) => col.has(s)).map(([s, k]) => ({ v: col.get(s) as number, c: k }));
    if (coefs.length === 0) continue;
    if (c.kind === 'eq') {
      rows.push({ name: `r${rows.length}`, coefs, rhs: 0 });
      continue;
    }
    rows.push({ name: `r${rows.length}`, coefs, rhs: -dot(c.form, ra), ge: true });
    if (rb)
      rows.push({
        name: `r${rows.length}`,
        coefs: coefs.map((x) => ({ v: x.v, c: -x.c })),
        rhs: -dot(c.form, rb),
        ge: true,
      });
  }
  // |d_s| <= u_s
  for (let i = 0; i < n; i++) {
    rows.push({
      name: `p${i}`,
      coefs: [
        { v: n + i, c: 1 },
        { v: i, c: -1 },
      ],
      rhs: 0,
      ge: true,
    });
    rows.push({
      name: `m${i}`,
      coefs: [
        { v: n + i, c: 1 },
        { v: i, c: 1 },
      ],
      rhs: 0,
      ge: true,
    });
  }
  const vars = [...movable.map((s) => `d${s}`), ...movable.map((s) => `u${s}`)];
  const objective = movable.map((_, i) => ({ v: n + i, c: 1 }));
  let lp = 0;
  for (const sign of [1, -1]) {
    // The box alone (a + d >= 0, b − d >= 0, the population window) bounds sign · f · d; when
    // even that cannot reach 1, neither can the LP, which has the box among its constraints.
    let reach = 0;
    for (const { v, c } of fc) reach += Math.max(sign * c * (lower[v] as number), sign * c * (upper[v] as number));
    if (reach < 1) continue;
    const sys: BoundedSystem = {
      vars,
      rows: [...rows, { name: 'gain', coefs: fc.map((x) => ({ v: x.v, c: sign * x.c })), rhs: 1, ge: true }],
      lower: [...lower, ...movable.map(() => 0)],
      upper: [...upper, ...movable.map(() => Infinity)],
    };
    const r = optimise(g, sys, { objective }, 'min');
    lp++;
    if (r === null || r.z === Infinity) continue;
    const x = r.x.subarray(0, n);
    let gain = 0;
    for (const { v, c } of fc) gain += sign * c * (x[v] as number);
    if (readInward(gain, 'max') < 1 || !cauchyHolds(sp, ra, rb, movable, x)) continue;
    return { ok: true, slots: movable.filter((_, i) => Math.abs(x[i] as number) > EPS), lp };
  }
  return { ok: false, slots: [], lp };
}

/**
 * The window of the population change d₀ (a gains d₀, b loses it): every row containing a and not
 * b gains it, every row containing b and not a loses it, and each stays within its bounds.
 */
function populationWindow(sp: SlotSpace, pair: Pair): [number, number] {
  let lo = -Infinity;
  let hi = Infinity;
  const ga = new Set(sp.groupsOf[pair.a] ?? []);
  const gaining = [pair.a, ...[...pair.open, ...pair.published].filter((r) => ga.has(r))];
  const losing = [pair.b, ...[...pair.open, ...pair.published].filter((r) => !ga.has(r))];
  for (const e of gaining) {
    const v = (sp.rows[e] as Float64Array)[0] as number;
    const [l, h] = sp.population(e);
    lo = Math.max(lo, l - v);
    hi = Math.min(hi, h - v);
  }
  for (const e of losing) {
    const v = (sp.rows[e] as Float64Array)[0] as number;
    const [l, h] = sp.population(e);
    lo = Math.max(lo, v - h);
    hi = Math.min(hi, v - l);
  }
  return [lo, hi];
}

/** Cauchy–Schwarz (`n · x2 >= x²`) at a + d and b − d, with a little slack for floating point. */
function cauchyHolds(
  sp: SlotSpace,
  ra: Float64Array,
  rb: Float64Array | null,
  movable: number[],
  x: Float64Array,
): boolean {
  if (!sp.cauchy) return true;
  const [ni, xi, x2i] = sp.cauchy;
  const d = (s: number) => {
    const i = movable.indexOf(s);
    return i < 0 ? 0 : (x[i] as number);
  };
  const sides: [Float64Array, number][] = rb
    ? [
        [ra, 1],
        [rb, -1],
      ]
    : [[ra, 1]];
  for (const [row, sign] of sides) {
    const nn = (row[ni] as number) + sign * d(ni);
    const sx = (row[xi] as number) + sign * d(xi);
    const sx2 = (row[x2i] as number) + sign * d(x2i);
    if (nn * sx2 < sx * sx - 1e-6 * Math.max(1, sx * sx)) return false;
  }
  return true;
}

function dot(f: SlotForm, r: Float64Array): number {
  let v = 0;
  for (const [s, c] of f) v += c * (r[s] as number);
  return v;
}
