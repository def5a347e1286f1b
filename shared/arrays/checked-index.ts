/**
 * Checked element access for fixed-width numeric rows (plain arrays and typed arrays).
 *
 * With `noUncheckedIndexedAccess` every `row[i]` may be `undefined`; for a row whose width is
 * fixed by METRICS.md or a storage layout an index outside it is a programming error, so these
 * helpers throw instead of silently reading `undefined` (or writing NaN).
 */

/** A numeric row: `number[]`, `Float64Array`, `Uint32Array`, … */
export interface NumericRow {
  readonly length: number;
  [index: number]: number;
}

/**
 * `row[index]`.
 *
 * @throws RangeError when `index` is outside `0 .. row.length - 1`.
 */
export function getAt(row: Readonly<NumericRow> | readonly number[], index: number): number {
  const x = row[index];
  if (x === undefined) throw new RangeError(`index ${index} is outside a row of length ${row.length}`);
  return x;
}

/**
 * `row[index] += delta` (delta defaults to 1).
 *
 * @throws RangeError when `index` is outside `0 .. row.length - 1`.
 */
export function addAt(row: NumericRow, index: number, delta = 1): void {
  const x = row[index];
  if (x === undefined) throw new RangeError(`index ${index} is outside a row of length ${row.length}`);
  row[index] = x + delta;
}

/**
 * `items[index]` for any array whose index is known to be inside it (a row of a vector, one
 * column of a table read in step with another).
 *
 * @throws RangeError when `index` is outside `0 .. items.length - 1`.
 */
export function itemAt<T>(items: readonly T[], index: number): T {
  const x = items[index];
  if (x === undefined) throw new RangeError(`index ${index} is outside an array of length ${items.length}`);
  return x;
}
