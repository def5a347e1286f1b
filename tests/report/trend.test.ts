// Issue 16, item 1 (Trends): a series breaks where the metric specification or the codebook
// changed between studiejaren, and at a year without a figure: the chart never joins points
// across it (no line path runs through it), a dashed rule marks a break, the table says so on
// the year, and the text names what changed. Expected values are written out by hand.
import t from 'tap';
import { trendBreak, trendSectionHtml, type TrendYear } from '../../shared/pages/trend.js';

const CB1 = 'a'.repeat(64);
const CB2 = 'b'.repeat(64);
const year = (s: number, spec = 'v1', cb = CB1): TrendYear => ({
  studiejaar: `${s}-${s + 1}`,
  roundId: `${s}-${s + 1}-r1`,
  releaseVersion: 1,
  metricSpec: spec,
  codebookDigest: cb,
});
// Absence 100/1000 = 10,0%, 110/1000 = 11,0%, 120/1000 = 12,0%.
const sums = (absent: number) => ({ a_min_registered: 1000, a_min_abs_auth: absent - 20, a_min_abs_unauth: 20 });

/** Points per line path of the vega line marks in an SVG (the number of M/L commands of each path). */
function linePathPoints(html: string): number[] {
  const out: number[] = [];
  for (const g of html.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/g))
    for (const p of (g[1] as string).matchAll(/ d="([^"]*)"/g))
      out.push(((p[1] as string).match(/[ML]/g) ?? []).length);
  return out;
}

t.test('trendBreak names what changed', async (t) => {
  t.equal(trendBreak([year(2022), year(2023)], 1), null, 'same spec and codebook: no break');
  t.match(trendBreak([year(2022), year(2023, 'v2')], 1), /metriekspecificatie is gewijzigd \(v1 → v2\)/);
  t.match(
    trendBreak([year(2022), year(2023, 'v1', CB2)], 1),
    /codeboek is gewijzigd \(digest aaaaaaaaaaaa… → bbbbbbbbbbbb…\)/,
  );
  t.match(trendBreak([year(2022), year(2023, 'v2', CB2)], 1), /metriekspecificatie .* en het codeboek/);
  t.equal(trendBreak([year(2022)], 0), null, 'the first year continues nothing');
});

t.test('continuous series: one line through every year, said so', async (t) => {
  const html = await trendSectionHtml({
    years: [year(2022), year(2023), year(2024)],
    lines: [{ name: 'Hele sector', sums: [sums(100), sums(110), sums(120)] }],
    figureIds: ['absence_rate'],
    subject: 'hele sector',
    id: 'reeks-tabel',
  });
  t.same(linePathPoints(html), [3], 'one path through the three years');
  t.match(html, /de reeks is doorlopend vergelijkbaar/);
  t.notMatch(html, /stroke-dasharray="4,3"/, 'no break rule');
  t.match(html, /<th scope="row">2022-2023<\/th><td class="num">10,0%<\/td>/);
  t.match(html, /<th scope="row">2024-2025<\/th><td class="num">12,0%<\/td>/);
});

t.test('codebook changed before the third year: not joined, marked, said', async (t) => {
  const html = await trendSectionHtml({
    years: [year(2022), year(2023), year(2024, 'v1', CB2)],
    lines: [
      { name: 'Instelling', sums: [sums(100), sums(110), sums(120)] },
      { name: 'Sector zonder ons', sums: [sums(120), sums(110), sums(100)] },
    ],
    figureIds: ['absence_rate'],
    subject: 'test',
    id: 'reeks-tabel',
  });
  t.same(
    linePathPoints(html).sort(),
    [1, 1, 2, 2],
    'per line a path over 2022-2023 and a separate one-point path for 2024',
  );
  t.match(html, /stroke-dasharray="4,3"/, 'a dashed rule marks the break');
  t.match(html, /De reeks heeft een breuk: vóór 2024-2025: het codeboek is gewijzigd/);
  t.match(html, /niet met elkaar verbonden/);
  t.match(html, /<th scope="row">2024-2025<br><span class="sup">breuk: het codeboek is gewijzigd/);
  t.match(html, /Instelling: 2022-2023 10,0%, 2023-2024 11,0%, 2024-2025 12,0% \(na breuk\)/, 'caption in words');
});

t.test('a year without a figure leaves a gap, not a line across it', async (t) => {
  const html = await trendSectionHtml({
    years: [year(2022), year(2023), year(2024)],
    lines: [{ name: 'Hele sector', sums: [sums(100), null, sums(120)], missing: 'niet gepubliceerd' }],
    figureIds: ['absence_rate'],
    subject: 'hele sector',
    id: 'reeks-tabel',
  });
  t.same(linePathPoints(html), [1, 1], 'two one-point paths, nothing joins 2022 and 2024');
  t.match(html, /<th scope="row">2023-2024<\/th><td class="sup">niet gepubliceerd<\/td>/);
  t.match(html, /laat een gat in de lijn/);
});

t.test('one studiejaar: a table and no chart', async (t) => {
  const html = await trendSectionHtml({
    years: [year(2024)],
    lines: [{ name: 'Hele sector', sums: [sums(120)] }],
    figureIds: ['absence_rate'],
    subject: 'hele sector',
    id: 'reeks-tabel',
  });
  t.notMatch(html, /<svg/);
  t.match(html, /Er is één studiejaar gepubliceerd \(2024-2025\)/);
  t.match(html, /<td class="num">12,0%<\/td>/);
});
