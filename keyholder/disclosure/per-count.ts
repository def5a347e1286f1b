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
