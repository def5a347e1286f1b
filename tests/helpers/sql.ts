/**
 * The `n` of a `SELECT count(*) AS n …` row as better-sqlite3's `.get()` returns it (`unknown`);
 * undefined when the row is missing or not of that shape, so an assertion on it fails.
 */
export function countOf(row: unknown): number | undefined {
  return row && typeof row === 'object' && 'n' in row && typeof row.n === 'number' ? row.n : undefined;
}
