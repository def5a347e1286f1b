/**
 * The per-count proof of audit step 4, for the (target, count) pairs the whole-model proof of
 * `pinning.ts` leaves open, against the outsider and (with more entries known) the contributor.
 * The attacker's system for a count f is the relations `rollup = sum of its cells` (the same for
 * every slot, and additive for slacks too), the known entries at their values and `f >= 0` for
 * every unknown entry. It ignores the other slots of the rows (a move of f alone may break a
 * within-row inequality), so it is weaker than the whole-model proof; the audit report counts
 * the pairs proven only this way. It is solved on **class sums**, a system of one variable per
 * class instead of one per unknown entry (on the real-data round about 60 instead of 3,600):
 * that is what makes the contributor check (`pinning.ts`, `contributorPerCount`) cheap enough
 * to be on by default (before, exchange tables and an LP over every unknown of the block took
 * about 40 s CPU for it; docs/DISCLOSURE.md "Audit" step 4).
 *
 * **Why class sums are exact.** Call two unknown cells of the same *class* when they lie in the
 * same rollups (same sectorkamer × niveau and leerweg, hence the same sectorkamer, niveau and
 * total). Every relation contains either both or neither, so the system reads the unknown cells
 * only through their class sums `Y_K` (an unknown rollup is the sum of its cells and adds no
 * constraint: it is non-negative whenever its cells are). Any non-negative `Y` meeting the known
 * rollups' rows is the image of a table (split each `Y_K` over its cells in any non-negative
 * way), and every table maps to such a `Y`. So the range of a target's count over the tables is:
 * - a cell target with another unknown cell in its class: `[0, max Y_K]` (its classmates take
 *   any part of `Y_K`); so it is safe outright when `v >= 1` (move its units to a classmate) or
 *   when its classmates hold `f` now (`Y_K >= v + 1`, move one unit to it): exact, no LP;
 * - a cell target alone in its class: the range of `Y_K`;
 * - a rollup target: the range of `sum(Y_K, K inside it)` plus its known cells.
 * Ranges come from LPs over `Y` (one variable per class, one row per known rollup), optima read
 * inward (`readInward`); one LP of the sum of the open targets per direction first, then one per
 * target, and every LP solution point certifies whatever it moves by 1 (read inward), as an
 * optimum would. A pair is pinned when neither direction reaches 1 away from the true value.
 *
 * @see ./pinning.ts, ./audit.ts step 4, docs/DISCLOSURE.md "Audit" step 4
 */
import { type BoundedSystem, glpk, type Objective, optimise, readInward } from './lp.js';

/** One attacker's per-count system over a block (entries: cells, then rollups). */
export interface ClassSumInput {
  cells: number;
  /** Per cell: the rollup entries containing it. */
  groupsOf: readonly (readonly number[])[];
  /** Per rollup entry (index − cells): its cells. */
  members: readonly (readonly number[])[];
  /** Whether entry e is unknown to this attacker. */
  unknown: (e: number) => boolean;
  /** Values of count k on every entry (true values; the attacker knows them for known entries). */
  values: (k: number) => Float64Array;
  /** Count index -> targets (unknown entries, or guests) to prove. */
  open: ReadonlyMap<number, readonly number[]>;
  /**
   * Known cells to prove as **guests**: each for an attacker who knows exactly what this system's
   * attacker knows except that cell itself (a single-institution target whose only own row is
   * itself, for the contributor). Exact when the cell's class has an unknown cell here: the
   * guest's own system reads `Y'_K = Y_K + x_t` where this one reads `Y_K`, with the rows of its
   * rollups raised by `v_t`; for `v_t = 0` the two systems are the same, so `x_t` reaches
   * `[0, max Y_K]`, and for `v_t >= 1` it gives its units to a classmate. A guest whose class has
   * no unknown cell here is returned in `unplaced`, for a system of its own.
   */
  guests?: ReadonlySet<number>;
}

/** The class structure of one attacker's system; the right-hand sides follow per count. */
interface ClassSystem {
  /** Class of every unknown cell (-1: known or a rollup). */
  classOf: Int32Array;
  /** Unknown cells per class. */
  size: number[];
  /** Per known rollup with unknown cells: the rollup entry, the classes inside it and its known cells. */
  rows: { entry: number; classes: number[]; known: number[] }[];
  /** Per rollup entry: the classes inside it. */
  inside: Map<number, number[]>;
  /** Class by its rollups (sorted entry indexes, comma-joined). */
  byKey: Map<string, number>;
}

function classSystem(s: ClassSumInput): ClassSystem {
  const classOf = new Int32Array(s.cells).fill(-1);
  const size: number[] = [];
  const groupsOfClass: (readonly number[])[] = [];
  const byKey = new Map<string, number>();
  for (let c = 0; c < s.cells; c++) {
    if (!s.unknown(c)) continue;
    const groups = s.groupsOf[c] as readonly number[];
    const key = [...groups].sort((a, b) => a - b).join(',');
    let k = byKey.get(key);
    if (k === undefined) {
      k = size.length;
      byKey.set(key, k);
      size.push(0);
      groupsOfClass.push(groups);
    }
    classOf[c] = k;
    size[k] = (size[k] as number) + 1;
  }
  const inside = new Map<number, number[]>();
  groupsOfClass.forEach((groups, k) => {
    for (const r of groups) inside.set(r, [...(inside.get(r) ?? []), k]);
  });
  const rows: ClassSystem['rows'] = [];
  for (let j = 0; j < s.members.length; j++) {
    const entry = s.cells + j;
    const classes = inside.get(entry);
    if (!s.unknown(entry) && classes)
      rows.push({ entry, classes, known: (s.members[j] as readonly number[]).filter((c) => !s.unknown(c)) });
  }
  return { classOf, size, rows, inside, byKey };
}

/** How a target reads a point `y` of class sums: its objective, a constant, and whether classmates share its class. */
interface TargetForm {
  objective: Objective;
  constant: number;
  shared: boolean;
}

function targetForm(s: ClassSumInput, sys: ClassSystem, t: number, f: Float64Array): TargetForm | null {
  if (t < s.cells && s.guests?.has(t)) {
    const k = sys.byKey.get([...(s.groupsOf[t] as readonly number[])].sort((a, b) => a - b).join(','));
    return k === undefined ? null : { objective: [{ v: k, c: 1 }], constant: 0, shared: true };
  }
  if (t < s.cells) {
    const k = sys.classOf[t] as number;
    return { objective: [{ v: k, c: 1 }], constant: 0, shared: (sys.size[k] as number) >= 2 };
  }
  let constant = 0;
  for (const c of s.members[t - s.cells] as readonly number[]) if (!s.unknown(c)) constant += f[c] as number;
  return { objective: (sys.inside.get(t) ?? []).map((k) => ({ v: k, c: 1 })), constant, shared: false };
}

/**
 * The per-count proof on class sums for the open pairs (see the module comment).
 *
 * @returns per count index, the targets still pinned; and the LPs solved
 */
export async function classSumCheck(
  s: ClassSumInput,
): Promise<{ pinned: Map<number, number[]>; lpSolved: number; unplaced: Map<number, number[]> }> {
  const sys = classSystem(s);
  const out = new Map<number, number[]>();
  const unplaced = new Map<number, number[]>();
  let lpSolved = 0;
  for (const [k, targets] of s.open) {
    const f = s.values(k);
    const y = new Float64Array(sys.size.length);
    for (let c = 0; c < s.cells; c++) {
      const K = sys.classOf[c] as number;
      if (K >= 0) y[K] = (y[K] as number) + (f[c] as number);
    }
    const forms = new Map<number, TargetForm>();
    const open: number[] = [];
    for (const t of targets) {
      const form = targetForm(s, sys, t, f);
      if (!form) {
        unplaced.set(k, [...(unplaced.get(k) ?? []), t]);
        continue;
      }
      const v = f[t] as number;
      // Exact: with a classmate, t gives its units to it (v >= 1) or takes one of the class's (Y_K >= v + 1).
      if (form.shared && (v >= 1 || (y[form.objective[0]?.v ?? -1] ?? 0) >= v + 1)) continue;
      forms.set(t, form);
      open.push(t);
    }
    if (open.length === 0) continue;
    const r = await lpPass(sys, f, forms, open);
    lpSolved += r.lpSolved;
    if (r.left.length > 0) out.set(k, r.left);
  }
  return { pinned: out, lpSolved, unplaced };
}

/** LPs over the class sums of count f: the sum of the open targets per direction, then one per target. */
async function lpPass(
  sys: ClassSystem,
  f: Float64Array,
  forms: ReadonlyMap<number, TargetForm>,
  open: readonly number[],
): Promise<{ left: number[]; lpSolved: number }> {
  const rows: BoundedSystem['rows'][number][] = sys.rows.map((r, i) => ({
    name: `r${i}`,
    coefs: r.classes.map((v) => ({ v, c: 1 })),
    rhs: r.known.reduce((a, c) => a - (f[c] as number), f[r.entry] as number),
  }));
  const system: BoundedSystem = {
    vars: sys.size.map((_, k) => `y${k}`),
    rows,
    lower: sys.size.map(() => 0),
    upper: sys.size.map(() => Infinity),
  };
  const g = await glpk();
  let lpSolved = 0;
  const left = new Set(open);
  const read = (t: number, y: Float64Array): number => {
    const form = forms.get(t) as TargetForm;
    let z = form.constant;
    for (const { v, c } of form.objective) z += c * (y[v] as number);
    return z;
  };
  const absorb = (y: Float64Array) => {
    for (const t of left) {
      const v = f[t] as number;
      const z = read(t, y);
      // A shared class reaches every value in [0, Y_K]; otherwise the target is z itself.
      const shared = (forms.get(t) as TargetForm).shared;
      if (readInward(z, 'max') >= v + 1 || (!shared && readInward(z, 'min') <= v - 1)) left.delete(t);
    }
  };
  const objectiveOf = (ts: readonly number[]): Objective => {
    const sum = new Map<number, number>();
    for (const t of ts)
      for (const { v, c } of (forms.get(t) as TargetForm).objective) sum.set(v, (sum.get(v) ?? 0) + c);
    return [...sum].map(([v, c]) => ({ v, c }));
  };
  for (const dir of ['max', 'min'] as const) {
    if (left.size === 0) break;
    const objective = objectiveOf([...left]);
    if (objective.length === 0) break;
    const r = optimise(g, system, { objective }, dir);
    lpSolved++;
    if (r && r.z !== Infinity) absorb(r.x);
  }
  for (const t of [...left]) {
    const objective = objectiveOf([t]);
    for (const dir of ['max', 'min'] as const) {
      if (!left.has(t) || objective.length === 0) break;
      if (dir === 'min' && ((forms.get(t) as TargetForm).shared || (f[t] as number) < 1)) break;
      const r = optimise(g, system, { objective }, dir);
      lpSolved++;
      if (r && r.z === Infinity) left.delete(t);
      else if (r) absorb(r.x);
    }
  }
  return { left: [...left], lpSolved };
}
