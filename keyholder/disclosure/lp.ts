import GLPK, { type GLPK as Glpk, type LP } from 'glpk.js/node';

let instance: Promise<Glpk> | null = null;

/** The GLPK solver (glpk.js, WebAssembly), loaded once per process. */
export function glpk(): Promise<Glpk> {
  instance ??= GLPK();
  return instance;
}

/** A linear program over named variables: equality rows (or `>=` rows) and per-variable bounds. */
export interface BoundedSystem {
  vars: readonly string[];
  /** `sum coefs = rhs`, or `sum coefs >= rhs` when `ge` is set. */
  rows: readonly { name: string; coefs: readonly { v: number; c: number }[]; rhs: number; ge?: boolean }[];
  lower: readonly number[];
  /** Upper bound per variable, or Infinity. */
  upper: readonly number[];
}

/** A linear objective: variable index -> coefficient. */
export type Objective = readonly { v: number; c: number }[];

/**
 * Minimise or maximise one variable, the sum of several, or a linear {@link Objective} over the system. Returns the optimum and the solution
 * (floating point; callers round conservatively), or null when the system is infeasible or
 * the variable unbounded (`Infinity` for an unbounded maximum).
 */
export function optimise(
  g: Glpk,
  sys: BoundedSystem,
  target: number | readonly number[] | { objective: Objective },
  direction: 'max' | 'min',
): { z: number; x: Float64Array } | null {
  const terms: Objective =
    typeof target === 'number'
      ? [{ v: target, c: 1 }]
      : 'objective' in target
        ? target.objective
        : target.map((v) => ({ v, c: 1 }));
  const lp: LP = {
    name: 'interval',
    objective: {
      direction: direction === 'max' ? g.GLP_MAX : g.GLP_MIN,
      name: 'z',
      vars: terms.map((t) => ({ name: sys.vars[t.v] as string, coef: t.c })),
    },
    subjectTo: sys.rows.map((r) => ({
      name: r.name,
      vars: r.coefs.map((t) => ({ name: sys.vars[t.v] as string, coef: t.c })),
      bnds: r.ge ? { type: g.GLP_LO, lb: r.rhs, ub: 0 } : { type: g.GLP_FX, lb: r.rhs, ub: r.rhs },
    })),
    bounds: sys.vars.map((name, i) => {
      const ub = sys.upper[i] as number;
      const lb = sys.lower[i] as number;
      return Number.isFinite(ub)
        ? { name, type: ub === lb ? g.GLP_FX : g.GLP_DB, lb, ub }
        : { name, type: g.GLP_LO, lb, ub: 0 };
    }),
  };
  let res = g.solve(lp, { msglev: g.GLP_MSG_OFF, presol: true });
  // The presolver reports an unbounded or infeasible problem without a status; ask the simplex.
  if (res.result.status !== g.GLP_OPT) res = g.solve(lp, { msglev: g.GLP_MSG_OFF, presol: false });
  if (res.result.status === g.GLP_UNBND) return { z: Infinity, x: new Float64Array(0) };
  if (res.result.status !== g.GLP_OPT) return null;
  const x = new Float64Array(sys.vars.length);
  sys.vars.forEach((name, i) => {
    x[i] = res.result.vars[name] ?? 0;
  });
  return { z: res.result.z, x };
}

/**
 * Relative tolerance for reading GLPK's floating-point optima: a coordinate within it of an
 * integer is that integer (vertices of these systems are rationals with small denominators);
 * any other is rounded inward, since the true values are integers.
 */
export const LP_TOL = 1e-6;

/** An LP optimum read inward: an integer within {@link LP_TOL} is that integer, else floor (max) or ceil (min). */
export function readInward(z: number, dir: 'max' | 'min'): number {
  const r = Math.round(z);
  if (Math.abs(z - r) <= LP_TOL * Math.max(1, Math.abs(z))) return r;
  return dir === 'max' ? Math.floor(z) : Math.ceil(z);
}
