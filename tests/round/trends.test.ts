// Issue 16, item 1 (Trends): three studiejaren on one coordinator give series equal to the
// reference per year. The expected figures are computed independently of the node, the
// coordinator and the pages: per year and institution the DuckDB rendering of METRICS.md
// (bench/ingest/duckdb-vector.ts) on that year's generated exports, summed over the cells
// (the total row) and over the institutions, and formatted with Intl (nl-NL). They are compared with the series table of
// the publication site (the newest round's site, served by the coordinator and saved by the
// demo) and of each institution's comparison (own figures beside the sector without it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { duckdbVector } from '../../bench/ingest/duckdb-vector.js';
import type { Sums } from '../../shared/metrics/derived.js';
import type { Release } from '../../schemas/release.js';
import { add, fig, P, SERIES_FIGURES as FIGURES, seriesTable } from '../helpers/series-reference.js';
import { runTrendDemo, TREND_YEARS } from '../helpers/trend-demo.js';

t.setTimeout(20 * 60 * 1000);

t.test('three studiejaren: the series on the site and in every comparison equal the reference per year', async (t) => {
  const dir = t.testdir({});
  const demo = await runTrendDemo(dir);
  t.same(
    demo.rounds.map((r) => r.year),
    [...TREND_YEARS],
    'one round per studiejaar, oldest first',
  );
  // Reference: per year, each institution's total from DuckDB, and the sector sum.
  const perYear: { studiejaar: string; inst: Record<string, number>[]; sector: Sums }[] = [];
  for (const r of demo.rounds) {
    const data = r.data as string;
    const inst: Record<string, number>[] = [];
    for (const id of ['inst-1', 'inst-2', 'inst-3']) {
      const v = await duckdbVector({
        codebook: join(data, 'codebook.csv'),
        enrolments: join(data, id, 'enrolments.csv'),
        attendance: join(data, id, 'attendance.csv'),
        year: r.year,
      });
      // The total row's block A and B sums are the sums over every cell (METRICS.md, "Group rows").
      inst.push(
        Object.values(v.cells).reduce<Record<string, number>>((a, c) => add(a, c) as Record<string, number>, {}),
      );
    }
    const sector = inst.reduce<Sums>((a, b) => add(a, b), {});
    perYear.push({ studiejaar: `${r.year}-${r.year + 1}`, inst, sector });
    // The signed release of that round holds exactly the reference sums (the figures on the pages come from it).
    const release = JSON.parse(readFileSync(r.release, 'utf8')) as Release;
    t.equal(release.studiejaar, `${r.year}-${r.year + 1}`, `${r.roundId}: studiejaar`);
    for (const slot of [
      'a_min_registered',
      'a_min_abs_auth',
      'a_min_abs_unauth',
      'a_enrolments',
      'b_starters',
      'b_retained',
    ])
      t.equal(release.rollups.total?.slots[slot], sector[slot], `${r.roundId}: total ${slot} equals the DuckDB sum`);
  }
  // The years really drift: not three copies of one year.
  const absence = perYear.map((y) => fig('absence_rate', y.sector));
  t.ok(new Set(absence.map((x) => x?.toFixed(6))).size === 3, `absence differs per year (${absence.join(', ')})`);

  const site = readFileSync(demo.benchmarkHtml, 'utf8');
  const rows = seriesTable(site);
  t.equal(rows.length, 3, 'site: one series row per studiejaar');
  for (const [i, y] of perYear.entries()) {
    t.same(
      rows[i],
      [y.studiejaar, ...FIGURES.map((f) => P(fig(f, y.sector)))],
      `site: series row ${y.studiejaar} equals the reference`,
    );
  }
  t.match(site, /de reeks is doorlopend vergelijkbaar/, 'site: same spec and codebook every year, said so');
  const section = site.slice(site.indexOf('<h2 id="reeks">'), site.indexOf('<h2', site.indexOf('<h2 id="reeks">') + 4));
  t.equal(section.split('<svg').length - 1, 7, 'site: a chart per figure in the series section');

  for (const [k, id] of ['inst-1', 'inst-2', 'inst-3'].entries()) {
    const html = readFileSync(join(demo.out, 'nodes', id, 'benchmark', 'benchmark.html'), 'utf8');
    const crow = seriesTable(html);
    t.equal(crow.length, 3, `${id}: one series row per studiejaar`);
    for (const [i, y] of perYear.entries()) {
      const own = y.inst[k] as Record<string, number>;
      const others = y.inst.filter((_, j) => j !== k).reduce<Sums>((a, b) => add(a, b), {});
      t.same(
        crow[i],
        [y.studiejaar, ...FIGURES.map((f) => P(fig(f, own))), ...FIGURES.map((f) => P(fig(f, others)))],
        `${id}: series row ${y.studiejaar} (own, sector without us) equals the reference`,
      );
    }
  }
});
