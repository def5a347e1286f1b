/**
 * The per-count proof of audit step 4, for the (target, count) pairs the whole-model proof of
 * `pinning.ts` leaves open: each count on its own, as an outsider sees it. The attacker's system
 * for count f is the relations (the same for every slot, and additive for slacks too), the
 * published values of f and f >= 0 for every suppressed entry. A target is safe when f can move
 * by 1 up or down: first by an exact integer table of exchange moves (verified), else by LP
 * (one LP of the sum of the open targets per direction certifies many at once, then one per
 * target), optimum read inward. This ignores the other slots of the rows (a move of f alone may
 * break a within-row inequality), so it is weaker than the whole-model proof; the audit report
 * counts the pairs proven only this way (docs/DISCLOSURE.md "Left").
 *
 * @see ./audit.ts step 4, ./exchange.ts
 */
import { ExchangeSystem } from './exchange.js';
import { type BoundedSystem, glpk, optimise, readInward } from './lp.js';

/**
 * Elementary moves tried per exchange push here (the interval step tries 4,000): a failed search
 * costs its whole budget, and what it leaves goes to the LP, whose solutions certify many
 * targets at once ({@link shiftCertify}); the verdict does not depend on this number.
 */
const PER_COUNT_TRIES = 300;

/** One block's relation system and the per-count values. */
export interface PerCountInput {
  cells: number;
  groupsOf: readonly (readonly number[])[];
  /** Per rollup entry (index − cells): its cells. */
  members: readonly (readonly number[])[];
  known: Uint8Array;
  /** Values of count k on every entry (published for known entries). */
  values: (k: number) => Float64Array;
  /** Count index -> targets left open for it. */
  open: ReadonlyMap<number, readonly number[]>;
}

/**
 * Per-count proof for the open pairs.
 *
 * @returns per count index, the targets still pinned; and the LPs solved
 */
export async function perCountCheck(s: PerCountInput): Promise<{ pinned: Map<number, number[]>; lpSolved: number }> {
  const n = s.cells + s.members.length;
  const zeros = new Float64Array(n);
  const infinite = new Float64Array(n).fill(Infinity);
  const out = new Map<number, number[]>();
  let lpSolved = 0;
  let exchange: ExchangeSystem | null = null;
  for (const [k, targets] of s.open) {
    const fValue = s.values(k);
    if (exchange) exchange.retarget(fValue, zeros, infinite);
    else
      exchange = new ExchangeSystem({
        cells: s.cells,
        groupsOf: s.groupsOf,
        known: s.known,
        value: fValue,
        lower: zeros,
        upper: infinite,
        maxTries: PER_COUNT_TRIES,
      });
    const ex = exchange;
    let held = 0;
    for (let c = 0; c < s.cells; c++) if (!s.known[c]) held += fValue[c] as number;
    const movable = (e: number, dir: 1 | -1) => {
      if (dir < 0 && (fValue[e] as number) < 1) return false;
      const d = ex.push(e, dir, 1);
      return d.reached >= 1 && ex.verify(d.delta) && (d.delta.get(e) ?? 0) === dir;
    };
    const open = held === 0 ? [...targets] : targets.filter((e) => !movable(e, -1) && !movable(e, 1));
    if (held === 0) {
      out.set(k, [...targets]);
      continue;
    }
    if (open.length === 0) continue;
    const r = await lpPass(s, fValue, open);
    lpSolved += r.lpSolved;
    if (r.left.length > 0) out.set(k, r.left);
  }
  return { pinned: out, lpSolved };
}

/** LP over the unknowns of count f (relations with known entries on the right, f >= 0). */
async function lpPass(
  s: PerCountInput,
  fValue: Float64Array,
  open: readonly number[],
): Promise<{ left: number[]; lpSolved: number }> {
  const n = s.cells + s.members.length;
  const vars: number[] = [];
  for (let e = 0; e < n; e++) if (!s.known[e]) vars.push(e);
  const vcol = new Map(vars.map((e, c) => [e, c]));
  const rows: BoundedSystem['rows'][number][] = [];
  s.members.forEach((members, j) => {
    const coefs = new Map<number, number>();
    let rhs = 0;
    const add = (e: number, c: number) => {
      const k = vcol.get(e);
      if (k === undefined) rhs -= c * (fValue[e] as number);
      else coefs.set(k, (coefs.get(k) ?? 0) + c);
    };
    add(s.cells + j, 1);
    for (const m of members) add(m, -1);
    for (const [k, v] of coefs) if (v === 0) coefs.delete(k);
    if (coefs.size > 0) rows.push({ name: `r${rows.length}`, coefs: [...coefs].map(([v, c]) => ({ v, c })), rhs });
  });
  const sys: BoundedSystem = {
    vars: vars.map((_, c) => `x${c}`),
    rows,
    lower: vars.map(() => 0),
    upper: vars.map(() => Infinity),
  };
  const g = await glpk();
  let lpSolved = 0;
  const left = new Set(open);
  const absorb = (x: Float64Array) => {
    for (const e of left) {
      const z = x[vcol.get(e) as number] as number;
      const v = fValue[e] as number;
      if (readInward(z, 'max') >= v + 1 || readInward(z, 'min') <= v - 1) left.delete(e);
    }
    shiftCertify(s, x, vcol, fValue, left);
  };
  for (const dir of ['max', 'min'] as const) {
    if (left.size === 0) break;
    const r = optimise(
      g,
      sys,
      [...left].map((e) => vcol.get(e) as number),
      dir,
    );
    lpSolved++;
    if (r && r.z !== Infinity) absorb(r.x);
  }
  for (const e of [...left]) {
    const c = vcol.get(e) as number;
    for (const dir of ['max', 'min'] as const) {
      if (!left.has(e) || (dir === 'min' && (fValue[e] as number) < 1)) break;
      const r = optimise(g, sys, c, dir);
      lpSolved++;
      if (r && r.z === Infinity) left.delete(e);
      else if (r) absorb(r.x);
    }
  }
  return { left: [...left], lpSolved };
}

/**
 * More certificates from one LP solution x, without an LP: for an open cell target t with
 * `x_t >= v_t` (read inward), a cell u with `x_u >= 1` (read inward) whose differing rollups
 * (those containing exactly one of t and u) are all unknown gives the table
 * `x' = x + e_t - e_u + sum(e_r, r contains t only) - sum(e_r, r contains u only)`.
 * Every relation `rollup = sum of its cells` holds in x' as in x (each rollup touched changes by
 * the same amount on both sides; known entries are not touched), and every lower bound too:
 * only u and rollups containing u decrease, by 1, and each is at least `x_u >= 1` in x (a rollup
 * is the sum of its non-negative cells). Upper bounds are infinite in this system. So x' is a
 * point of the same relaxation with `f_t = x_t + 1 >= v_t + 1`: t is not pinned, by the same
 * reading of an LP point as x itself. This is an exchange move applied to an LP solution instead
 * of the true table: it matters for rare counts, where the LP has to bring a unit from far away
 * once and the targets around the unit's new place can then take it by one move each.
 * Removes the certified targets from `left` (in place).
 */
function shiftCertify(
  s: PerCountInput,
  x: Float64Array,
  vcol: ReadonlyMap<number, number>,
  fValue: Float64Array,
  left: Set<number>,
): void {
  if (left.size === 0) return;
  const donors: number[] = [];
  for (let c = 0; c < s.cells; c++) {
    const k = vcol.get(c);
    if (k !== undefined && readInward(x[k] as number, 'max') >= 1) donors.push(c);
  }
  if (donors.length === 0) return;
  const compatible = (t: number, u: number) => {
    const gt = s.groupsOf[t] as readonly number[];
    const gu = s.groupsOf[u] as readonly number[];
    for (const r of gt) if (!gu.includes(r) && s.known[r]) return false;
    for (const r of gu) if (!gt.includes(r) && s.known[r]) return false;
    return true;
  };
  for (const t of [...left]) {
    if (t >= s.cells) continue;
    const k = vcol.get(t);
    if (k === undefined || readInward(x[k] as number, 'max') < (fValue[t] as number)) continue;
    if (donors.some((u) => u !== t && compatible(t, u))) left.delete(t);
  }
}
