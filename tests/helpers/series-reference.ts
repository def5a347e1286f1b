// The series table of a page and its reference rows computed independently of the node, the
// coordinator and the pages (issue 16, "Trends"): per studiejaar and institution the DuckDB
// rendering of METRICS.md (bench/ingest/duckdb-vector.ts) on that year's generated exports,
// summed over the cells (the total row), formatted with Intl (nl-NL).
import { join } from 'node:path';
import { duckdbVector } from '../../bench/ingest/duckdb-vector.js';
import { DERIVED, type Sums } from '../../shared/metrics/derived.js';

/** The seven figures of the series, in the column order of the pages (block A, then B). */
export const SERIES_FIGURES = [
  'absence_rate',
  'absence_unauthorized_rate',
  'chronic_absence_share',
  'signal16_share',
  'dropout_share',
  'startersresultaat',
  'progression_share',
] as const;

const pct = new Intl.NumberFormat('nl-NL', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
/** A share as the pages print it (nl-NL, one decimal), or the text of a figure not published. */
export const P = (x: number | null) => (x === null ? 'niet gepubliceerd' : pct.format(x).replace(/\u00a0/g, ''));
/** The derived figure `id` (METRICS.md) of summed slots. */
export const fig = (id: string, s: Sums): number | null => {
  const d = DERIVED.find((x) => x.id === id);
  if (!d) throw new Error(`no derived figure ${id}`);
  return d.compute(s);
};
/** Slot-wise sum of two sets of slot sums. */
export const add = (a: Sums, b: Sums): Sums => {
  const out: Sums = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + (v ?? 0);
  return out;
};

/** The body rows of the table with id `reeks-tabel`: [row header, cell texts...]. */
export function seriesTable(html: string): string[][] {
  const body = html.match(/<table id="reeks-tabel">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/)?.[1];
  if (body === undefined) return [];
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...(r[1] ?? '').matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) =>
      (c[1] ?? '').replace(/<br>[\s\S]*$/, '').trim(),
    ),
  );
}

/**
 * Per studiejaar (as given, oldest first) the expected row of one institution's comparison
 * series: the studiejaar, its own seven figures, then those of the sector without it.
 * @param years each year's data folder (synth layout: codebook.csv, <id>/enrolments.csv, …)
 */
export async function comparisonSeriesReference(
  years: readonly { year: number; data: string }[],
  ids: readonly string[],
  own: string,
): Promise<string[][]> {
  const rows: string[][] = [];
  for (const y of years) {
    let mine: Sums = {};
    let others: Sums = {};
    for (const id of ids) {
      const v = await duckdbVector({
        codebook: join(y.data, 'codebook.csv'),
        enrolments: join(y.data, id, 'enrolments.csv'),
        attendance: join(y.data, id, 'attendance.csv'),
        year: y.year,
      });
      // The total row's block A and B sums are the sums over every cell (METRICS.md, "Group rows").
      const total = Object.values(v.cells).reduce<Sums>((a, c) => add(a, c), {});
      if (id === own) mine = total;
      else others = add(others, total);
    }
    rows.push([
      `${y.year}-${y.year + 1}`,
      ...SERIES_FIGURES.map((f) => P(fig(f, mine))),
      ...SERIES_FIGURES.map((f) => P(fig(f, others))),
    ]);
  }
  return rows;
}
