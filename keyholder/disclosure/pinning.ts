/**
 * Step 4 of the disclosure audit: no protected count of a block that fails a primary rule can be
 * narrowed to a single value, under the **whole** attacker model at once (docs/DISCLOSURE.md
 * "Attacker model"): every relation `rollup = sum of its cells` for every slot together, every
 * within-row relation and inequality of `row-inequalities.ts` for every suppressed row, counts
 * >= 0, the population bounds of step 3 (institution counts, what each rule implies), and the
 * contributor: every suppressed block of a single institution is known (to someone; the key
 * holder cannot tell to whom, so to everyone at once), except the target itself and the rows
 * that provably belong to the target's own institution (a rollup of one institution containing
 * it, and that rollup's cells), which only that institution knows and which it knows anyway.
 *
 * A count f of target t is safe when some table the attacker must hold possible (a point of the
 * real relaxation of that system) has f(t) at least 1 away from the true value: the feasible set
 * is convex and contains the true table, so f then takes at least two values, and an LP optimum
 * read inward would say the same. The proof is, in order:
 *
 * 1. **Composition moves** (exact, rational): between a cell a (the target, or a cell inside a
 *    target rollup) and a cell b whose differing rollups are all unknown to the attacker, move
 *    α students of b's average row (`α/p_b` times b's row) to a and β students of a's average
 *    row to b. Both rows stay non-negative combinations of true rows, so every listed relation
 *    and inequality still holds (they are homogeneous; the non-linear Cauchy–Schwarz one holds
 *    for sums and multiples too), every relation holds slot by slot, and the populations move by
 *    `α − β`, kept within every bound. The best α, β are integers (vertices of a small polygon)
 *    and the change `α f_b/p_b − β f_a/p_a` is checked in BigInt.
 * 2. Else an **LP** over every slot of a neighbourhood of t (up to {@link NEIGHBOURHOOD} free
 *    entries; everything else held at its true value, which only shrinks the feasible set, so a
 *    point found is a point of the full system), optimum read inward (glpk.js).
 *
 * Whatever neither proves is reported as pinned: the release is refused (secondary suppression
 * then adds a partner that holds the count, and the audit runs again).
 *
 * Data that breaks a listed constraint (test fixtures with only some slots filled; never the
 * node path, `tests/keyholder/disclosure-real.test.ts`) makes that constraint no knowledge of the
 * attacker (it would mislead it); such constraints are left out of the LP, and counts the data
 * makes negative somewhere are not checked.
 *
 * @see ./audit.ts, ./row-inequalities.ts, docs/DISCLOSURE.md "Audit" step 4
 */
import { FIGURE_INPUTS } from '../../shared/metrics/withheld.js';
import { classSumCheck } from './class-sums.js';
import { type SlotSpace, type SlotWitness, slotMoves, witnessHolds } from './slot-moves.js';
import { type BoundedSystem, glpk, type Objective, optimise, readInward } from './lp.js';
import { type LinearForm, type ProtectedCount, ROW_CONSTRAINTS, type RowConstraint } from './row-inequalities.js';
import { type BlockName, DEFAULT_ZERO_RULE, type ZeroRule } from './types.js';

/** Most free entries in the LP of one target (the target, its unknown rollups, nearby unknown cells). */
const NEIGHBOURHOOD = 24;
/** Most composition-move partners tried per target. */
const MAX_PARTNERS = 48;
/** Most (target, count) pairs left open by composition moves for which LPs are solved; more are reported unproven. */
const MAX_LP_PAIRS = 60;

/** One block of the release as step 4 sees it (entries: cells, then rollups). */
export interface PinningInput {
  block: BlockName;
  /** The block's slots; the first is the population. */
  slots: readonly string[];
  cells: number;
  /** Per cell: the rollup entries containing it. */
  groupsOf: readonly (readonly number[])[];
  /** Per rollup entry (index − cells): its cells. */
  members: readonly (readonly number[])[];
  /** 1 for a published entry or a known zero. */
  known: Uint8Array;
  institutions: ArrayLike<number>;
  /** Every entry's row: the published one, zeros for a known zero, the true one for a suppressed entry. */
  row: (e: number) => Readonly<Record<string, number>>;
  /** Attacker's population bounds per entry (ignored for known entries; upper may be Infinity). */
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  /** Suppressed entries that failed a primary rule. */
  targets: readonly number[];
  counts: readonly ProtectedCount[];
  /** Whether count k is exempt for target t (docs/DECISIONS.md 42: a published row containing t shows it as 0). */
  exempt: (t: number, countIndex: number) => boolean;
  /** LPs are solved only when at most this many (target, count) pairs are left open (default {@link MAX_LP_PAIRS}). */
  maxLpPairs?: number;
  /**
   * The contributor count by count ({@link contributorPerCount}): `enforce` reports what it cannot
   * prove as pinned (the default, docs/DECISIONS.md 87); `measure` only counts it; `off`: not run.
   */
  contributor?: 'enforce' | 'measure' | 'off';
  /**
   * Which zeros are a published row's own fact (docs/DECISIONS.md 42, 97, 98): `published_rows`
   * exempts a count any published row containing the target shows as 0 (`exempt`)
   * and, for the contributor, one a published rollup holds in single-institution blocks alone
   * ({@link PinningContext.heldBySingletons}); `total_row` (the default, issue 12's one
   * exception) exempts only the total row's zeros (the caller's `exempt`), and every pair left pinned gets a second
   * chance by slot moves (`slot-moves.ts`) with the withheld slots of published rollups unknown,
   * else a suggestion of slots to withhold.
   */
  zeroRule?: ZeroRule;
  /**
   * `total_row`: whether a published rollup other than the total, containing target t, shows
   * count k as 0 (its withheld slots read as published, as steps 1–4 read them). Every member
   * of that rollup then holds 0 of k (counts are >= 0), so steps 1–4 cannot prove the pair; it
   * goes straight to the slot moves, without their work.
   */
  pinnedByZero?: (t: number, k: number) => boolean;
  /** Entry index of the total row (for `total_row`). */
  total?: number;
  /** Whether published entry e withholds slot s (index into `slots`), for `total_row`. */
  withheld?: (e: number, slot: number) => boolean;
  /** Moves that proved a (target, count) pair in an earlier audit of the same sector, by `block:t:k:model` (for `total_row`). */
  slotWitnesses?: Map<string, SlotWitness>;
  /** Whether an earlier version published slot s of entry e and the row is taken as unchanged since (for `total_row`). */
  earlierKnown?: (e: number, slot: number) => boolean;
  /** `min_population`: the attacker's lower bound on a population suppressed as a secondary (for `total_row`). */
  minPopulation?: number;
}

/** What step 4 found and did. */
export interface PinningResult {
  /** Target entry -> ids of its counts narrowed to one value (count by count, see `class-sums.ts`). */
  pinned: Map<number, string[]>;
  /** (target, count) pairs checked. */
  checked: number;
  /** Proven under the whole model with the contributor (composition moves avoiding single-institution blocks). */
  contributor: number;
  /** Proven under the whole model for the outsider only (composition moves or LP). */
  outsider: number;
  /** Proven only count by count (outsider; `class-sums.ts`). */
  perCountOnly: number;
  /** Pairs not proven against the contributor by composition moves, proven against it count by count. */
  contributorPerCount: number;
  /** (target, count index) pairs not proven against the contributor at all (pinned when enforced). */
  contributorPinnedPairs: [number, number][];
  /**
   * Pairs exempt for the contributor only: a published rollup containing the target holds the
   * count in single-institution blocks alone ({@link PinningContext.heldBySingletons},
   * docs/DECISIONS.md 87).
   */
  contributorExempt: number;
  lpSolved: number;
  /** `total_row`: pairs left pinned by the above that slot moves prove (withheld slots unknown). */
  slotProven: number;
  /** `total_row`: per target still pinned, slots to withhold that a slot move shows would protect it (rollup entry -> slot indexes). */
  suggestions: Map<number, Map<number, number[]>>;
}

/** Whom a proof holds against: the outsider, or also a contributor that knows every single-institution block. */
export type Model = 'contributor' | 'outsider';

/** A composition move: `gain` receives α of `give`'s average row and gives β of its own; `d = α − β` in [dlo, dhi]. */
interface Move {
  gain: number;
  give: number;
  pa: number;
  pb: number;
  dlo: number;
  dhi: number;
}

type Compiled = readonly (readonly [slot: number, coef: number])[];
type SlotForm = Compiled;

/** Below this, products of integers are exact in doubles (2^53). */
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Step 4 for one block (see the module comment).
 *
 * @returns the pinned counts per target; never throws on data
 */
export async function pinningCheck(input: PinningInput): Promise<PinningResult> {
  const ctx = new PinningContext(input);
  const result: PinningResult = {
    pinned: new Map(),
    checked: 0,
    contributor: 0,
    outsider: 0,
    perCountOnly: 0,
    contributorPerCount: 0,
    contributorPinnedPairs: [],
    contributorExempt: 0,
    lpSolved: 0,
    slotProven: 0,
    suggestions: new Map(),
  };
  const open = new Map<number, number[]>();
  /** Pairs composition moves did not prove against the contributor (target -> count indexes). */
  const notForContributor = new Map<number, number[]>();
  let openPairs = 0;
  for (const t of input.targets) {
    const counts = ctx.openCounts(t);
    result.checked += counts.length;
    let left = counts;
    if (input.pinnedByZero) {
      const zero = counts.filter((k) => input.pinnedByZero?.(t, k));
      if (zero.length > 0) {
        result.pinned.set(
          t,
          zero.map((k) => (input.counts[k] as ProtectedCount).id),
        );
        left = counts.filter((k) => !zero.includes(k));
      }
    }
    for (const model of ['contributor', 'outsider'] as const) {
      if (left.length === 0) break;
      const moves = ctx.moves(t, model);
      const before = left.length;
      left = left.filter((k) => !moves.some((m) => ctx.moveCertifies(m, k)));
      result[model] += before - left.length;
      if (model === 'contributor' && left.length > 0) notForContributor.set(t, left);
    }
    if (left.length === 0) continue;
    open.set(t, left);
    openPairs += left.length;
  }
  // Whole-model LPs only when few pairs are left (each is one or two LPs of a neighbourhood).
  if (openPairs <= (input.maxLpPairs ?? MAX_LP_PAIRS))
    for (const [t, left] of open) {
      const still = await ctx.lpCheck(t, left, result);
      result.outsider += left.length - still.length;
      if (still.length === 0) open.delete(t);
      else open.set(t, still);
    }
  const byCount = new Map<number, number[]>();
  for (const [t, left] of open) for (const k of left) byCount.set(k, [...(byCount.get(k) ?? []), t]);
  const per = await classSumCheck({
    cells: input.cells,
    groupsOf: input.groupsOf,
    members: input.members,
    unknown: (e) => !input.known[e],
    values: (k) => ctx.fv[k] as Float64Array,
    open: byCount,
  });
  result.lpSolved += per.lpSolved;
  let failed = 0;
  const remaining = [...open.values()].reduce((a, l) => a + l.length, 0);
  for (const [k, ts] of per.pinned)
    for (const t of ts) {
      failed++;
      result.pinned.set(t, [...(result.pinned.get(t) ?? []), (input.counts[k] as ProtectedCount).id]);
    }
  result.perCountOnly += remaining - failed;
  if (input.contributor !== 'off') await contributorPerCount(input, ctx, notForContributor, result);
  if ((input.zeroRule ?? DEFAULT_ZERO_RULE) === 'total_row') await slotSecondChance(input, ctx, result);
  return result;
}

/**
 * `total_row`: every pair still pinned gets a second chance by slot moves, against the
 * contributor when the contributor check is enforced or had the pair pinned (a move that keeps
 * single-institution blocks fixed proves it for the outsider too), else against the outsider.
 * Proven pairs leave `pinned`; for the rest, the cheapest withheld slots a slot move finds are
 * suggested (docs/DISCLOSURE.md "Withheld slots").
 */
async function slotSecondChance(input: PinningInput, ctx: PinningContext, result: PinningResult): Promise<void> {
  const sp = ctx.slotSpace();
  const index = new Map(input.counts.map((c, i) => [c.id, i]));
  const contributorPinned = new Set(result.contributorPinnedPairs.map(([t, k]) => `${t}:${k}`));
  const still = new Map<number, string[]>();
  for (const [t, ids] of result.pinned) {
    const keep: string[] = [];
    for (const id of ids) {
      const k = index.get(id) as number;
      const model =
        contributorPinned.has(`${t}:${k}`) || (input.contributor ?? 'enforce') === 'enforce'
          ? 'contributor'
          : 'outsider';
      const free = ctx.freeFor(t, model);
      const key = `${input.block}:${t}:${k}:${model}`;
      const known = input.slotWitnesses?.get(key);
      if (known && witnessHolds(sp, known, free)) {
        result.slotProven++;
        continue;
      }
      const r = await slotMoves(sp, ctx.forms[k] as SlotForm, free, ctx.innerCells(t), true);
      result.lpSolved += r.lpSolved;
      if (r.proven) {
        result.slotProven++;
        if (r.witness) input.slotWitnesses?.set(key, r.witness);
        continue;
      }
      keep.push(id);
      if (r.suggestion) {
        const mine = result.suggestions.get(t) ?? new Map<number, number[]>();
        for (const [e, slots] of r.suggestion) mine.set(e, [...new Set([...(mine.get(e) ?? []), ...slots])]);
        result.suggestions.set(t, mine);
      }
    }
    if (keep.length > 0) still.set(t, keep);
  }
  result.pinned = still;
}

/**
 * The contributor, count by count: every pair that composition moves did not prove against the
 * contributor (and that is not pinned for the outsider already) is checked by the per-count
 * proof with the contributor's knowledge: every suppressed block of a single institution is
 * known (at its true value), except the target and the rows provably of the target's own
 * institution. A table found there is a table of the outsider's per-count system too (it only
 * has more entries fixed), so this is the count-by-count proof against the stronger attacker.
 * It runs on class sums (`class-sums.ts`, one variable per class): one common system for the targets of two or more institutions (only the
 * target itself is their own), with the single-institution targets whose only own row is
 * themselves as guests in it (exact, `ClassSumInput.guests`); the rest (a guest alone in its
 * class, a target with own rollups) one system per own set. Pairs it cannot prove are counted
 * (`contributorPinnedPairs`) and, with `contributor: 'enforce'` (the default), reported as pinned.
 */
async function contributorPerCount(
  input: PinningInput,
  ctx: PinningContext,
  pairs: ReadonlyMap<number, readonly number[]>,
  result: PinningResult,
): Promise<void> {
  const many = (e: number) => (input.institutions[e] as number) >= 2;
  // A target of two or more institutions: what its contributors know of their own shares of it
  // is not modelled (docs/DISCLOSURE.md "Left"), so for a rollup target its single-institution
  // rows inside it stay unknown (they are those shares, of at least two owners).
  const ownOf = (t: number) => (!many(t) ? ctx.ownSet(t) : t < input.cells ? new Set<number>([t]) : ctx.inside(t));
  const common: Map<number, number[]> = new Map();
  const guests = new Set<number>();
  const own = new Map<string, { own: Set<number>; byCount: Map<number, number[]> }>();
  const add = (byCount: Map<number, number[]>, k: number, t: number) => byCount.set(k, [...(byCount.get(k) ?? []), t]);
  const ownSystem = (mine: Set<number>) => {
    const key = [...mine].sort((a, b) => a - b).join(',');
    const g = own.get(key) ?? { own: mine, byCount: new Map<number, number[]>() };
    own.set(key, g);
    return g.byCount;
  };
  for (const [t, ks] of pairs) {
    const already = new Set((result.pinned.get(t) ?? []).map((id) => input.counts.findIndex((c) => c.id === id)));
    const mine = ownOf(t);
    const guest = !many(t) && mine.size === 1 && t < input.cells;
    if (guest) guests.add(t);
    const byCount = mine.size === 1 || guest ? common : ownSystem(mine);
    for (const k of ks) {
      if (already.has(k)) continue;
      if (ctx.heldBySingletons(t, k, mine)) result.contributorExempt++;
      else add(byCount, k, t);
    }
  }
  const run = async (mine: ReadonlySet<number>, byCount: Map<number, number[]>, asGuests?: ReadonlySet<number>) => {
    if (byCount.size === 0) return;
    const per = await classSumCheck({
      cells: input.cells,
      groupsOf: input.groupsOf,
      members: input.members,
      unknown: (e) => !input.known[e] && (many(e) || mine.has(e)),
      values: (k) => ctx.fv[k] as Float64Array,
      open: byCount,
      ...(asGuests ? { guests: asGuests } : {}),
    });
    result.lpSolved += per.lpSolved;
    let failed = 0;
    let moved = 0;
    for (const [k, ts] of per.unplaced)
      for (const t of ts) {
        moved++;
        add(ownSystem(new Set([t])), k, t);
      }
    for (const [k, ts] of per.pinned)
      for (const t of ts) {
        failed++;
        const id = (input.counts[k] as ProtectedCount).id;
        if ((input.contributor ?? 'enforce') === 'enforce') result.pinned.set(t, [...(result.pinned.get(t) ?? []), id]);
        result.contributorPinnedPairs.push([t, k]);
      }
    for (const ts of byCount.values()) result.contributorPerCount += ts.length;
    result.contributorPerCount -= failed + moved;
  };
  await run(new Set(), common, guests);
  for (const g of own.values()) await run(g.own, g.byCount);
}

class PinningContext {
  readonly n: number;
  readonly rows: Float64Array[];
  /** fv[k][e]: value of count k on entry e. */
  readonly fv: Float64Array[];
  /** Counts with a negative value somewhere (data not following METRICS.md): not checked. */
  readonly skip: Uint8Array;
  readonly constraints: readonly { kind: 'ge' | 'eq'; form: Compiled }[];
  readonly forms: Compiled[];
  private readonly classOf: Int32Array;
  private readonly held = new Map<number, { singles: Float64Array; elsewhere: Uint8Array }>();
  private readonly classes: { groups: readonly number[]; set: ReadonlySet<number>; cells: number[] }[] = [];

  constructor(readonly s: PinningInput) {
    this.n = s.cells + s.members.length;
    const index = new Map(s.slots.map((x, i) => [x, i]));
    const compile = (f: LinearForm): Compiled =>
      Object.entries(f).map(([slot, c]) => [index.get(slot) as number, c] as const);
    this.rows = Array.from({ length: this.n }, (_, e) => {
      const r = s.row(e);
      return Float64Array.from(s.slots, (x) => r[x] ?? 0);
    });
    this.forms = s.counts.map((c) => compile(c.form));
    this.fv = this.forms.map((f) => Float64Array.from(this.rows, (r) => dot(f, r)));
    this.skip = Uint8Array.from(this.fv, (v) => (v.some((x) => x < 0) ? 1 : 0));
    const mine = ROW_CONSTRAINTS.filter((c: RowConstraint) => c.block === s.block);
    this.constraints = mine
      .map((c) => ({ kind: c.kind, form: compile(c.form) }))
      .filter((c) =>
        this.rows.every((r, e) => {
          if (s.known[e] && s.institutions[e] === 0) return true;
          const v = dot(c.form, r);
          return c.kind === 'eq' ? v === 0 : v >= 0;
        }),
      );
    this.classOf = new Int32Array(s.cells).fill(-1);
    const byKey = new Map<string, number>();
    for (let c = 0; c < s.cells; c++) {
      const groups = s.groupsOf[c] as readonly number[];
      const key = [...groups].sort((a, b) => a - b).join(',');
      let k = byKey.get(key);
      if (k === undefined) {
        k = this.classes.length;
        byKey.set(key, k);
        this.classes.push({ groups, set: new Set(groups), cells: [] });
      }
      this.classOf[c] = k;
      if (!s.known[c]) this.classes[k]?.cells.push(c);
    }
  }

  pop(e: number): number {
    return (this.rows[e] as Float64Array)[0] as number;
  }

  /** The counts to prove for target t: not exempt, not skipped. */
  openCounts(t: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.forms.length; k++) if (!this.skip[k] && !this.s.exempt(t, k)) out.push(k);
    return out;
  }

  /**
   * Entries unknown to the attacker of target t: suppressed, and of two or more institutions, or
   * t itself, or provably of t's own single institution (a one-institution rollup containing t
   * and that rollup's cells).
   */
  freeFor(t: number, model: Model): (e: number) => boolean {
    const { known, institutions, cells } = this.s;
    if (model === 'outsider' || (institutions[t] as number) < 2 || t < cells) return this.freeSet(t, model);
    // A rollup target of two or more institutions: as in contributorPerCount, its
    // single-institution rows inside it stay unknown (shares of at least two owners).
    const own = this.inside(t);
    return (e) => !known[e] && ((institutions[e] as number) >= 2 || own.has(e));
  }

  /** The cells a move into target t may gain at: t itself, or a rollup target's cells. */
  innerCells(t: number): readonly number[] {
    return this.cellsOf(t);
  }

  /** This block as slot moves see it (`slot-moves.ts`). */
  slotSpace(): SlotSpace {
    const { s } = this;
    const at = (name: string) => s.slots.indexOf(name);
    const cs = [at('b_early_n'), at('b_sum_x'), at('b_sum_x2')] as const;
    const headline = new Set(Object.values(FIGURE_INPUTS).flat());
    const soloSlots = new Set(s.slots.flatMap((x, i) => (i > 0 && !headline.has(x) ? [i] : [])));
    return {
      cells: s.cells,
      groupsOf: s.groupsOf,
      slots: s.slots.length,
      rows: this.rows,
      constraints: this.constraints,
      cauchy: cs.every((i) => i >= 0) ? cs : null,
      suppressed: (e) => !s.known[e],
      population: (e) => {
        const v = (this.rows[e] as Float64Array)[0] as number;
        if (!s.known[e]) return [s.lower[e] as number, s.upper[e] as number];
        // a published row a population move would suppress: the bounds of a secondary suppression
        const inst = s.institutions[e] as number;
        return v === 0 ? [0, 0] : [Math.max(1, inst, s.minPopulation ?? 0), Infinity];
      },
      withheld: (e, slot) => s.withheld?.(e, slot) ?? false,
      earlierKnown: (e, slot) => s.earlierKnown?.(e, slot) ?? false,
      soloSlots,
    };
  }

  private freeSet(t: number, model: Model): (e: number) => boolean {
    const { known, institutions } = this.s;
    if (model === 'outsider') return (e) => !known[e];
    const own = this.ownSet(t);
    return (e) => !known[e] && ((institutions[e] as number) >= 2 || own.has(e));
  }

  /** t and the rows provably of t's own single institution (see {@link freeSet}). */
  ownSet(t: number): Set<number> {
    const { institutions } = this.s;
    const own = new Set<number>([t]);
    if (institutions[t] === 1) {
      // The cells of t's single institution we can be sure of: t's own, and those of every
      // one-institution rollup containing them; every entry made of such cells alone is its.
      const contributing = (e: number) => this.cellsOf(e).filter((c) => (institutions[c] as number) > 0);
      const cellsOfT = contributing(t);
      const ownerCells = new Set(cellsOfT);
      const first = cellsOfT[0];
      if (first !== undefined)
        for (const r of this.s.groupsOf[first] as readonly number[]) {
          if (institutions[r] !== 1) continue;
          if (!cellsOfT.every((c) => (this.s.groupsOf[c] as readonly number[]).includes(r))) continue;
          for (const c of contributing(r)) ownerCells.add(c);
        }
      for (const c of ownerCells) {
        own.add(c);
        for (const r of this.s.groupsOf[c] as readonly number[])
          if (institutions[r] === 1 && contributing(r).every((x) => ownerCells.has(x))) own.add(r);
      }
    }
    return own;
  }

  /**
   * Whether count k of target t is, for the contributor, the own fact of a published rollup
   * (docs/DECISIONS.md 87, the contributor's form of 42): some published rollup containing t
   * holds k (> 0) in suppressed single-institution blocks other than t's own rows alone — no
   * published cell and no suppressed block of two or more institutions (nor t) holds any of it.
   * Whoever holds those blocks learns from that rollup alone, by subtracting its own figures,
   * that the rest of the group holds 0 of k; no choice of cell suppressions changes that (a
   * published cell holding k would: secondary suppression then withholds it, and this is false).
   */
  heldBySingletons(t: number, k: number, own: ReadonlySet<number>): boolean {
    // total_row (DECISIONS 97): only the total row's own fact, what the contributor reads from
    // the sector total minus its own figures (the "sector without us" every node is shown).
    const totalOnly = (this.s.zeroRule ?? DEFAULT_ZERO_RULE) === 'total_row';
    const { known, institutions, cells, groupsOf } = this.s;
    const f = this.fv[k] as Float64Array;
    const held = this.singletonHeld(k);
    const inner = this.cellsOf(t);
    const first = inner[0];
    if (first === undefined) return false;
    for (const r of groupsOf[first] as readonly number[]) {
      if (r === t || !known[r] || (institutions[r] as number) === 0 || !((f[r] as number) > 0)) continue;
      if (totalOnly && r !== this.s.total) continue;
      if (held.elsewhere[r - cells] || held.singles[r - cells] !== f[r]) continue;
      const mine = this.cellsOf(r);
      if (t >= cells && !inner.every((c) => mine.includes(c))) continue;
      // t's own rows hold none of it (they are unknown to this contributor).
      if ([...own].every((e) => e >= cells || !mine.includes(e) || f[e] === 0)) return true;
    }
    return false;
  }

  /** Per rollup, for count k: the sum over its suppressed single-institution cells, and whether any other cell holds k. */
  private singletonHeld(k: number): { singles: Float64Array; elsewhere: Uint8Array } {
    let h = this.held.get(k);
    if (h) return h;
    const { known, institutions, cells, groupsOf, members } = this.s;
    const f = this.fv[k] as Float64Array;
    h = { singles: new Float64Array(members.length), elsewhere: new Uint8Array(members.length) };
    for (let c = 0; c < cells; c++) {
      const v = f[c] as number;
      if (v === 0) continue;
      const single = !known[c] && (institutions[c] as number) === 1;
      for (const r of groupsOf[c] as readonly number[]) {
        if (single) h.singles[r - cells] = (h.singles[r - cells] as number) + v;
        else h.elsewhere[r - cells] = 1;
      }
    }
    this.held.set(k, h);
    return h;
  }

  /** Rollup t, its cells and the rollups made of its cells alone. */
  inside(t: number): Set<number> {
    const mine = new Set(this.cellsOf(t));
    const out = new Set<number>([t, ...mine]);
    for (const c of mine)
      for (const r of this.s.groupsOf[c] as readonly number[])
        if (!out.has(r) && this.cellsOf(r).every((x) => mine.has(x))) out.add(r);
    return out;
  }

  private cellsOf(e: number): readonly number[] {
    return e < this.s.cells ? [e] : (this.s.members[e - this.s.cells] as readonly number[]);
  }

  /**
   * Composition moves for target t: a cell target with unknown cells whose differing rollups
   * are all free; a rollup target with pairs (a inside, b outside) whose differing rollups
   * (t among them) are all free. Nearest first (same class), at most {@link MAX_PARTNERS}.
   */
  moves(t: number, model: Model): Move[] {
    const free = this.freeSet(t, model);
    const out: Move[] = [];
    const { cells } = this.s;
    const gains = (t < cells ? [t] : this.cellsOf(t)).filter((c) => free(c) && this.pop(c) > 0);
    for (const a of gains) {
      const ka = this.classOf[a] as number;
      const A = this.classes[ka] as (typeof this.classes)[number];
      const order = [ka, ...this.classes.keys()].filter((k, i) => i === 0 || k !== ka);
      for (const kb of order) {
        const B = this.classes[kb] as (typeof this.classes)[number];
        if (B.cells.length === 0) continue;
        const plus = A.groups.filter((g) => !B.set.has(g));
        const minus = B.groups.filter((g) => !A.set.has(g));
        if (t >= cells && !plus.includes(t)) continue;
        if (!plus.every(free) || !minus.every(free)) continue;
        for (const b of B.cells) {
          if (b === a || !free(b) || this.pop(b) <= 0) continue;
          const m = this.window(a, b, plus, minus);
          if (m) out.push(m);
          if (out.length >= MAX_PARTNERS) return out;
        }
      }
    }
    return out;
  }

  /** The population window of a move between a (gaining) and b, with the rollups that follow each. */
  private window(a: number, b: number, plus: readonly number[], minus: readonly number[]): Move | null {
    const { lower, upper } = this.s;
    let dlo = -Infinity;
    let dhi = Infinity;
    for (const e of [a, ...plus]) {
      dhi = Math.min(dhi, (upper[e] as number) - this.pop(e));
      dlo = Math.max(dlo, (lower[e] as number) - this.pop(e));
    }
    for (const e of [b, ...minus]) {
      dhi = Math.min(dhi, this.pop(e) - (lower[e] as number));
      dlo = Math.max(dlo, this.pop(e) - (upper[e] as number));
    }
    if (dlo > 0 || dhi < 0) return null; // the true table breaks a bound: nothing to prove with
    return { gain: a, give: b, pa: this.pop(a), pb: this.pop(b), dlo, dhi };
  }

  /**
   * Whether a move changes count k of its gaining cell (hence of the target) by at least 1:
   * the best integer α, β (vertices of `0 <= α <= p_b, 0 <= β <= p_a, dlo <= α − β <= dhi`),
   * checked exactly in BigInt.
   */
  moveCertifies(m: Move, k: number): boolean {
    const f = this.fv[k] as Float64Array;
    const fa = f[m.gain] as number;
    const fb = f[m.give] as number;
    const { pa, pb, dlo, dhi } = m;
    if (!(pa > 0 && pb > 0)) return false;
    const cands: [number, number][] = [];
    if (fb > 0) {
      cands.push([Math.min(pb, dhi), 0]);
      if (pb > dhi && pb - dhi <= pa) cands.push([pb, pb - dhi]);
    }
    if (fa > 0) {
      cands.push([0, Math.min(pa, -dlo)]);
      if (pa > -dlo && pa + dlo <= pb) cands.push([pa + dlo, pa]);
    }
    for (const [alpha, beta] of cands) {
      if (!Number.isFinite(alpha) || !Number.isFinite(beta)) continue;
      // change of f at the gaining cell = alpha fb / pb - beta fa / pa; |change| >= 1, exactly.
      // Integers: while every product stays below 2^53 doubles hold them exactly (this runs
      // once per move and count, hundreds of thousands of times per audit); else BigInt.
      const p = alpha * fb * pa;
      const q = beta * fa * pb;
      const d = pa * pb;
      if (Math.abs(p) < SAFE && Math.abs(q) < SAFE && d < SAFE && Math.abs(p - q) < SAFE) {
        if (p - q >= d || q - p >= d) return true;
        continue;
      }
      const num = BigInt(alpha) * BigInt(fb) * BigInt(pa) - BigInt(beta) * BigInt(fa) * BigInt(pb);
      const den = BigInt(pa) * BigInt(pb);
      if (num >= den || -num >= den) return true;
    }
    return false;
  }

  /** Free entries near t for its LP: t, its free rollups, free cells sharing a rollup with it, their free rollups. */
  private neighbourhood(t: number): number[] {
    const free = this.freeSet(t, 'outsider');
    const { cells, groupsOf } = this.s;
    const out = new Set<number>([t]);
    const add = (e: number) => {
      if (out.size < NEIGHBOURHOOD && free(e)) out.add(e);
    };
    const inner = t < cells ? [t] : this.cellsOf(t).filter(free);
    for (const c of inner) add(c);
    const rollups = [...new Set(inner.flatMap((c) => groupsOf[c] as readonly number[]))].sort(
      (x, y) => this.cellsOf(x).length - this.cellsOf(y).length,
    );
    for (const r of rollups) add(r);
    for (const r of rollups) for (const c of this.cellsOf(r)) add(c);
    for (const e of [...out]) if (e < cells) for (const r of groupsOf[e] as readonly number[]) add(r);
    return [...out];
  }

  /**
   * LP over every slot of t's neighbourhood (everything else at its true value): for each open
   * count, max and min of f(t), read inward; every solution also certifies the other open counts
   * it moves by 1. Returns the counts still pinned.
   */
  async lpCheck(t: number, open: number[], result: PinningResult): Promise<number[]> {
    const g = await glpk();
    const sys = this.lpSystem(t);
    const nSlots = this.s.slots.length;
    const col = (e: number) => sys.cols.get(e) as number;
    const value = (k: number, x: Float64Array) => {
      let v = 0;
      for (const [s, c] of this.forms[k] as Compiled) v += c * (x[col(t) * nSlots + s] as number);
      return v;
    };
    const left = new Set(open);
    const absorb = (x: Float64Array) => {
      for (const k of left) {
        const v = (this.fv[k] as Float64Array)[t] as number;
        const z = value(k, x);
        if (readInward(z, 'max') >= v + 1 || readInward(z, 'min') <= v - 1) left.delete(k);
      }
    };
    for (const k of open) {
      if (!left.has(k)) continue;
      const objective: Objective = (this.forms[k] as Compiled).map(([s, c]) => ({ v: col(t) * nSlots + s, c }));
      for (const dir of ['max', 'min'] as const) {
        if (!left.has(k)) break;
        const r = optimise(g, sys.system, { objective }, dir);
        result.lpSolved++;
        if (r === null) break; // infeasible: cannot happen for true data; counted as pinned (refused)
        if (r.z === Infinity) left.delete(k);
        else absorb(r.x);
      }
    }
    return [...left];
  }

  private lpSystem(t: number): { system: BoundedSystem; cols: Map<number, number> } {
    const N = this.neighbourhood(t);
    const cols = new Map(N.map((e, i) => [e, i]));
    const { slots, cells, groupsOf, lower, upper } = this.s;
    const ns = slots.length;
    const vars: string[] = [];
    const lo: number[] = [];
    const hi: number[] = [];
    for (const e of N)
      for (let s = 0; s < ns; s++) {
        vars.push(`x${e}_${s}`);
        lo.push(s === 0 ? (lower[e] as number) : 0);
        hi.push(s === 0 ? (upper[e] as number) : Infinity);
      }
    const rows: BoundedSystem['rows'][number][] = [];
    // Relations: every rollup that is in N or has a cell in N, slot by slot, in difference form
    // (the true table meets them, so the right-hand side follows from it).
    const rollups = new Set<number>();
    for (const e of N) {
      if (e >= cells) rollups.add(e);
      else for (const r of groupsOf[e] as readonly number[]) rollups.add(r);
    }
    for (const r of rollups) {
      const inN = this.cellsOf(r).filter((c) => cols.has(c));
      for (let s = 0; s < ns; s++) {
        const coefs: { v: number; c: number }[] = [];
        let rhs = 0;
        if (cols.has(r)) {
          coefs.push({ v: col(cols, r) * ns + s, c: 1 });
          rhs += (this.rows[r] as Float64Array)[s] as number;
        }
        for (const c of inN) {
          coefs.push({ v: col(cols, c) * ns + s, c: -1 });
          rhs -= (this.rows[c] as Float64Array)[s] as number;
        }
        if (coefs.length > 0) rows.push({ name: `r${rows.length}`, coefs, rhs });
      }
    }
    for (const e of N)
      for (const c of this.constraints) {
        const coefs = c.form.map(([s, k]) => ({ v: col(cols, e) * ns + s, c: k }));
        rows.push({ name: `r${rows.length}`, coefs, rhs: 0, ...(c.kind === 'ge' ? { ge: true } : {}) });
      }
    return { system: { vars, rows, lower: lo, upper: hi }, cols };
  }
}

function col(cols: Map<number, number>, e: number): number {
  return cols.get(e) as number;
}

function dot(f: Compiled, r: Float64Array): number {
  let v = 0;
  for (const [s, c] of f) v += c * (r[s] as number);
  return v;
}
