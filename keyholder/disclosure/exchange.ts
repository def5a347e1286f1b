/**
 * Exact certificates for the protection intervals of the disclosure audit: integer feasible
 * tables built from small exchange moves, checked against the relations before they count.
 *
 * The audit needs, for a suppressed population `u`, that the values an attacker can still hold
 * possible span at least a required width. Two feasible tables (every relation holds, every
 * unknown within its bounds) with `x_u` at `v + up` and `v - down` prove a width of at least
 * `up + down`: the set of feasible tables is convex, so the LP interval contains both. Most
 * suppressed cells of a realistic release are proven that way without an LP: moving `t`
 * students from one suppressed cell to a suppressed sibling with the same rollups changes no
 * published figure. Whatever this module cannot prove is left to the LP (`lp.ts`).
 *
 * Soundness does not depend on the move generator: every table is checked by
 * {@link ExchangeSystem.verify} (integer deltas, known entries unchanged, bounds, and
 * `rollup = sum of its cells` for every rollup touched) before it is used.
 *
 * @see ./audit.ts (step 3), docs/DISCLOSURE.md "Audit"
 */

/** A sparse integer change of the true table: entry -> delta. */
export type Delta = Map<number, number>;

/** The flat relation system of one block: entries `0 .. cells-1` are cells, the rest rollups. */
export interface ExchangeInput {
  cells: number;
  /** Per cell: the rollup entries that contain it. */
  groupsOf: readonly (readonly number[])[];
  /** 1 for an entry whose value is known (published or known zero). */
  known: Uint8Array;
  /** True value of every entry (the published value for a known one). */
  value: ArrayLike<number>;
  /** Attacker's bounds per entry (ignored for known entries); `upper` may be Infinity. */
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  /** Elementary moves tried per push before it gives up (default {@link MAX_TRIES}); only speed depends on it. */
  maxTries?: number;
}

/** One elementary move: entries and their signs (+1 / -1); it keeps every relation when applied with one step size. */
type Move = readonly (readonly [entry: number, sign: number])[];

/** Cells with the same set of rollups (same sectorkamer × niveau and leerweg). */
interface CellClass {
  groups: readonly number[];
  groupSet: ReadonlySet<number>;
  /** Its suppressed (unknown) cells. */
  unknown: readonly number[];
}

/** Upper limit on elementary moves tried per target and direction before giving up (LP fallback). */
const MAX_TRIES = 4000;

/**
 * Builds and checks exchange moves over one block's relation system.
 */
export class ExchangeSystem {
  private readonly classes: CellClass[] = [];
  private readonly classOf: Int32Array;
  private readonly compatible = new Map<number, boolean>();

  /**
   * The same system with other values and bounds (the known entries must be the same): the
   * classes and 4-cycle tables are shared, which is what makes checking every count of a
   * block affordable.
   */
  retarget(value: ArrayLike<number>, lower: ArrayLike<number>, upper: ArrayLike<number>): void {
    this.s = { ...this.s, value, lower, upper };
  }

  constructor(private s: ExchangeInput) {
    this.classOf = new Int32Array(s.cells).fill(-1);
    const byKey = new Map<string, number>();
    for (let c = 0; c < s.cells; c++) {
      const groups = s.groupsOf[c] as readonly number[];
      const key = [...groups].sort((a, b) => a - b).join(',');
      let k = byKey.get(key);
      if (k === undefined) {
        k = this.classes.length;
        byKey.set(key, k);
        this.classes.push({ groups, groupSet: new Set(groups), unknown: [] });
      }
      this.classOf[c] = k;
      if (!s.known[c]) (this.classes[k] as CellClass & { unknown: number[] }).unknown.push(c);
    }
  }

  /** Whether moving students between cells of class a and class b touches only unknown rollups. */
  private compat(a: number, b: number): boolean {
    if (a === b) return true;
    const key = a < b ? a * 65536 + b : b * 65536 + a;
    let ok = this.compatible.get(key);
    if (ok === undefined) {
      const A = this.classes[a] as CellClass;
      const B = this.classes[b] as CellClass;
      ok =
        A.groups.every((g) => B.groupSet.has(g) || !this.s.known[g]) &&
        B.groups.every((g) => A.groupSet.has(g) || !this.s.known[g]);
      this.compatible.set(key, ok);
    }
    return ok;
  }

  /** Move `+1` on cell a (and every rollup of a), `-1` on cell b (and its rollups); shared rollups cancel. */
  private pair(a: number, b: number): Move {
    const A = this.classes[this.classOf[a] as number] as CellClass;
    const B = this.classes[this.classOf[b] as number] as CellClass;
    const m: [number, number][] = [
      [a, 1],
      [b, -1],
    ];
    if (A !== B) {
      for (const g of A.groups) if (!B.groupSet.has(g)) m.push([g, 1]);
      for (const g of B.groups) if (!A.groupSet.has(g)) m.push([g, -1]);
    }
    return m;
  }

  /** Move `+1` on cell a and every rollup of a (only valid when all of them are unknown). */
  private lone(a: number): Move | null {
    const groups = this.s.groupsOf[a] as readonly number[];
    if (groups.some((g) => this.s.known[g])) return null;
    return [[a, 1], ...groups.map((g) => [g, 1] as const)];
  }

  /**
   * Known-rollup difference of two classes (indicator of a's rollups minus b's, over known
   * rollups only), as a key; equal keys mean a 4-cycle `a+1, b-1, d+1, c-1` with
   * `key(a, b) = key(c, d)` changes no known rollup.
   */
  private diffKey(a: number, b: number): string {
    const A = this.classes[a] as CellClass;
    const B = this.classes[b] as CellClass;
    const out: string[] = [];
    for (const g of A.groups) if (!B.groupSet.has(g) && this.s.known[g]) out.push(`+${g}`);
    for (const g of B.groups) if (!A.groupSet.has(g) && this.s.known[g]) out.push(`-${g}`);
    return out.sort().join(',');
  }

  /** Ordered class pairs (with unknown cells) by their {@link diffKey}, built on first use. */
  private cyclePairs: Map<string, [number, number][]> | null = null;

  private pairsByDiff(): Map<string, [number, number][]> {
    if (this.cyclePairs) return this.cyclePairs;
    const m = new Map<string, [number, number][]>();
    const live = this.classes.flatMap((c, j) => (c.unknown.length > 0 ? [j] : []));
    for (const x of live) {
      for (const y of live) {
        if (x === y) continue;
        const k = this.diffKey(x, y);
        if (k === '') continue;
        const l = m.get(k);
        if (l) l.push([x, y]);
        else m.set(k, [[x, y]]);
      }
    }
    this.cyclePairs = m;
    return m;
  }

  /** Net change of every rollup when one cell of each class in `plus` gains 1 and one of each in `minus` loses 1. */
  private netGroups(plus: readonly number[], minus: readonly number[]): [number, number][] {
    const net = new Map<number, number>();
    for (const k of plus) for (const g of (this.classes[k] as CellClass).groups) net.set(g, (net.get(g) ?? 0) + 1);
    for (const k of minus) for (const g of (this.classes[k] as CellClass).groups) net.set(g, (net.get(g) ?? 0) - 1);
    return [...net].filter(([, x]) => x !== 0);
  }

  /**
   * Candidate moves that change entry `u` by +1, in a useful order (cheap, local ones first):
   * pairs of cells with the same known rollups, a cell alone when all its rollups are unknown,
   * pairs whose differing rollups are unknown, and 4-cycles over two classes each
   * (`u+1, a-1, b+1, c-1`, e.g. two leerwegen in two sectorkamer × niveau groups). `ok(e, sign)`
   * tells whether a cell still has room in that direction, so that useless moves are skipped.
   */
  private *movesUp(u: number, ok: (e: number, sign: number) => boolean): Generator<Move | null> {
    const { cells } = this.s;
    const unknown = (k: number) => (this.classes[k] as CellClass).unknown;
    if (u < cells) {
      const k = this.classOf[u] as number;
      for (const b of unknown(k)) if (b !== u) yield ok(b, -1) ? this.pair(u, b) : null;
      const l = this.lone(u);
      if (l) yield l;
      for (let j = 0; j < this.classes.length; j++) {
        if (j === k || !this.compat(k, j)) continue;
        for (const b of unknown(j)) yield ok(b, -1) ? this.pair(u, b) : null;
      }
      const byDiff = this.pairsByDiff();
      for (let ka = 0; ka < this.classes.length; ka++) {
        if (ka === k || unknown(ka).length === 0 || this.compat(k, ka)) continue;
        for (const [kc, kb] of byDiff.get(this.diffKey(k, ka)) ?? []) {
          if (kc === k) continue;
          const groups = this.netGroups([k, kb], [ka, kc]);
          for (const a of unknown(ka)) {
            if (!ok(a, -1)) {
              yield null;
              continue;
            }
            for (const c of unknown(kc)) {
              if (c === u || c === a || !ok(c, -1)) {
                yield null;
                continue;
              }
              for (const b of unknown(kb))
                yield b !== a && b !== u && ok(b, 1) ? [[u, 1], [b, 1], [a, -1], [c, -1], ...groups] : null;
            }
          }
        }
      }
      return;
    }
    // A rollup: a cell inside it up, a cell outside down (or alone when all its rollups are unknown).
    const inside: number[] = [];
    const outside: number[] = [];
    this.classes.forEach((c, j) => {
      if (c.unknown.length > 0) (c.groupSet.has(u) ? inside : outside).push(j);
    });
    for (const i of inside) {
      for (const a of unknown(i)) {
        const l = ok(a, 1) ? this.lone(a) : null;
        if (l) yield l;
      }
    }
    for (const i of inside) {
      for (const j of outside) {
        if (!this.compat(i, j)) continue;
        for (const a of unknown(i)) for (const b of unknown(j)) yield ok(a, 1) && ok(b, -1) ? this.pair(a, b) : null;
      }
    }
  }

  private current(d: Delta, e: number): number {
    return (this.s.value[e] as number) + (d.get(e) ?? 0);
  }

  /** How far entry e may still move in direction `sign` from the table `d`. */
  private room(d: Delta, e: number, sign: number): number {
    if (this.s.known[e]) return 0;
    const x = this.current(d, e);
    return sign > 0 ? (this.s.upper[e] as number) - x : x - (this.s.lower[e] as number);
  }

  /**
   * A table with `x_u = v_u + dir * t`, `t` as large as found up to `want`: elementary moves
   * applied greedily, each as far as every entry it touches allows. Returns the change and `t`.
   */
  push(u: number, dir: 1 | -1, want: number): { delta: Delta; reached: number } {
    const d: Delta = new Map();
    let reached = 0;
    let tries = 0;
    if (want <= 0) return { delta: d, reached };
    const ok = (e: number, sign: number) => this.room(d, e, sign * dir) > 0;
    for (const move of this.movesUp(u, ok)) {
      if (++tries > (this.s.maxTries ?? MAX_TRIES)) break;
      if (!move) continue;
      let step = want - reached;
      for (const [e, sg] of move) {
        step = Math.min(step, this.room(d, e, sg * dir));
        if (step <= 0) break;
      }
      if (step <= 0) continue;
      for (const [e, sg] of move) {
        const x = (d.get(e) ?? 0) + sg * dir * step;
        if (x === 0) d.delete(e);
        else d.set(e, x);
      }
      reached += step;
      if (reached >= want) break;
    }
    return { delta: d, reached };
  }

  /**
   * Whether `value + delta` is a table the attacker must hold possible: integer changes of
   * unknown entries only, within their bounds, and `rollup = sum of its cells` for every rollup
   * that contains a changed cell or is changed itself (all others are untouched).
   */
  verify(delta: Delta): boolean {
    const acc = new Map<number, number>();
    for (const [e, x] of delta) {
      if (!Number.isSafeInteger(x) || this.s.known[e]) return false;
      const v = (this.s.value[e] as number) + x;
      if (v < (this.s.lower[e] as number) || v > (this.s.upper[e] as number)) return false;
      if (e < this.s.cells) for (const g of this.s.groupsOf[e] as readonly number[]) acc.set(g, (acc.get(g) ?? 0) + x);
      else if (!acc.has(e)) acc.set(e, 0);
    }
    for (const [g, sum] of acc) if ((delta.get(g) ?? 0) !== sum) return false;
    return true;
  }
}
