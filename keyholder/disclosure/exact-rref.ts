/**
 * Exact linear algebra for the disclosure audit: reduced row echelon form over the rationals,
 * computed fraction-free on BigInt rows (every row op is `a*r - b*s`, then the row is divided
 * by the gcd of its entries), so no floating point enters the proof that a suppressed value
 * is not uniquely determined.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Disclosure control" (audit)
 */

/** A sparse row: column -> non-zero integer coefficient. */
export type SparseRow = Map<number, bigint>;

const abs = (x: bigint): bigint => (x < 0n ? -x : x);
function gcd(a: bigint, b: bigint): bigint {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function normalize(r: SparseRow): void {
  let g = 0n;
  for (const v of r.values()) {
    g = gcd(g, v);
    if (g === 1n) return;
  }
  if (g > 1n) for (const [c, v] of r) r.set(c, v / g);
}

/** r := a*r - b*s, where a = s[col] and b = r[col] (eliminates col from r). */
function eliminate(r: SparseRow, s: SparseRow, col: number): void {
  const b = r.get(col);
  if (b === undefined) return;
  const a = s.get(col) as bigint;
  if (a !== 1n) for (const [c, v] of r) r.set(c, v * a);
  for (const [c, v] of s) {
    const x = (r.get(c) ?? 0n) - b * v;
    if (x === 0n) r.delete(c);
    else r.set(c, x);
  }
  normalize(r);
}

/**
 * An incrementally built basis of a row space in reduced row echelon form: each basis row has
 * a pivot column that no other basis row contains.
 *
 * With `pivotLimit`, columns from `pivotLimit` on are constant terms, never pivots: a row is
 * then the linear form `Σ coef·x_c + Σ const_s` over the variables `c < pivotLimit`, one
 * constant column per quantity (e.g. per slot), carried through every row operation. A row
 * whose variables all cancel and whose constants do not is a contradiction, counted in
 * `inconsistent` (never with true data).
 */
export class ExactBasis {
  /** Basis rows with their pivot column. */
  readonly rows: { pivot: number; row: SparseRow }[] = [];
  private readonly pivotOf = new Map<number, number>();
  /** Rows added whose variables cancelled while a constant did not (0 = c with c ≠ 0). */
  inconsistent = 0;

  constructor(readonly pivotLimit = Number.POSITIVE_INFINITY) {}

  /** Add a row (copied); returns false when it was already in the span. */
  add(input: ReadonlyMap<number, bigint>): boolean {
    const r: SparseRow = new Map();
    for (const [c, v] of input) if (v !== 0n) r.set(c, v);
    for (const c of [...r.keys()]) {
      const k = this.pivotOf.get(c);
      if (k !== undefined && r.has(c)) eliminate(r, (this.rows[k] as { row: SparseRow }).row, c);
    }
    if (r.size === 0) return false;
    normalize(r);
    // Pivot on the column with the smallest coefficient (keeps numbers small).
    let pivot = -1;
    let best = 0n;
    for (const [c, v] of r) {
      if (c >= this.pivotLimit) continue;
      if (pivot < 0 || abs(v) < best || (abs(v) === best && c < pivot)) [pivot, best] = [c, abs(v)];
    }
    if (pivot < 0) {
      this.inconsistent++;
      return false;
    }
    for (const b of this.rows) if (b.row.has(pivot)) eliminate(b.row, r, pivot);
    this.pivotOf.set(pivot, this.rows.length);
    this.rows.push({ pivot, row: r });
    return true;
  }

  get rank(): number {
    return this.rows.length;
  }

  /**
   * Columns whose unit vector lies in the row space: exactly the pivot columns whose basis row
   * has no other entry (in reduced form, any other entry is a free column).
   */
  determinedColumns(): number[] {
    return this.rows.filter((b) => this.variables(b.row) === 1).map((b) => b.pivot);
  }

  /** Whether the unit vector of a column lies in the row space. */
  determines(col: number): boolean {
    const k = this.pivotOf.get(col);
    return k !== undefined && this.variables((this.rows[k] as { row: SparseRow }).row) === 1;
  }

  /** The basis row whose pivot is `col`, if any. */
  pivotRow(col: number): SparseRow | undefined {
    const k = this.pivotOf.get(col);
    return k === undefined ? undefined : (this.rows[k] as { row: SparseRow }).row;
  }

  /** Number of variable (non-constant) columns of a row. */
  private variables(row: SparseRow): number {
    if (this.pivotLimit === Number.POSITIVE_INFINITY) return row.size;
    let n = 0;
    for (const c of row.keys()) if (c < this.pivotLimit) n++;
    return n;
  }
}

/**
 * A share such as 0.85 as an exact fraction of its shortest decimal spelling (85/100), so
 * that thresholds are compared in integers.
 */
export function decimalFraction(x: number): { num: bigint; den: bigint } {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`not a non-negative finite number: ${x}`);
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(String(x));
  if (!m) throw new RangeError(`cannot read ${x} as a decimal`);
  const frac = m[2] ?? '';
  let num = BigInt((m[1] as string) + frac);
  let den = 10n ** BigInt(frac.length);
  const e = Number(m[3] ?? 0);
  if (e > 0) num *= 10n ** BigInt(e);
  else if (e < 0) den *= 10n ** BigInt(-e);
  const g = gcd(num, den) || 1n;
  return { num: num / g, den: den / g };
}
