/**
 * Dutch (nl-NL) number formatting for pages and Excel CSV, through `Intl.NumberFormat` only.
 */
const intFmt = new Intl.NumberFormat('nl-NL', { maximumFractionDigits: 0 });
const pct1 = new Intl.NumberFormat('nl-NL', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dec1 = new Intl.NumberFormat('nl-NL', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dec2 = new Intl.NumberFormat('nl-NL', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
// Made once: constructing a formatter per cell was the largest item of writing the comparison CSVs.
const excelFmt = new Intl.NumberFormat('nl-NL', { useGrouping: false, maximumFractionDigits: 6 });

/** A whole number with Dutch grouping (`12.345`), or `—` for null. */
export function nlInt(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : intFmt.format(x);
}

/** A share 0..1 as a Dutch percentage with one decimal (`12,3%`), or `—` for null. */
export function nlPct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : pct1.format(x).replace(/\u00a0/g, '');
}

/** A number with one decimal (`4,2`), or `—`. */
export function nlDec1(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : dec1.format(x);
}

/** A number with two decimals (`0,31`; correlation coefficients), or `—`. */
export function nlDec2(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : dec2.format(x);
}

/** A number for a Dutch Excel cell: decimal comma, no grouping, full precision; empty for null. */
export function excelNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '';
  return excelFmt.format(x);
}
