/**
 * Series over studiejaren (issue 16, "Trends"): each figure of a row (the whole sector, a
 * sectorkamer, or an institution beside the sector without it) as a chart and a table over the
 * published studiejaren. Where the metric specification or the codebook changed between two
 * studiejaren the series breaks: points on either side are never joined by a line, a dashed
 * rule marks the break in the chart, the table says so on the year, and the text names what
 * changed. A year whose figure was not published (suppressed) also leaves a gap in the line.
 * Used by the coordinator's publication site and by the node's comparison.
 */
import type { TopLevelSpec } from 'vega-lite';
import { DERIVED, type DerivedFigure, type Sums } from '../metrics/derived.js';
import { figureHtml, renderChartSvg } from './chart.js';
import { nlPct } from './format-nl.js';
import { escapeHtml as esc } from './html.js';
import { scrollTable } from './page.js';

const FIG = new Map<string, DerivedFigure>(DERIVED.map((d) => [d.id, d]));

/** The figures every series shows (the columns of the site's tables): absence, then starters and dropout. */
export const TREND_FIGURES = [
  'absence_rate',
  'absence_unauthorized_rate',
  'chronic_absence_share',
  'signal16_share',
  'dropout_share',
  'startersresultaat',
  'progression_share',
] as const;

/** One published studiejaar of a series: what decides whether it is comparable with the one before. */
export interface TrendYear {
  /** `S-(S+1)`, e.g. `2024-2025`. */
  studiejaar: string;
  roundId: string;
  releaseVersion: number;
  /** The release's `metric_spec`. */
  metricSpec: string;
  /** The release's `codebook_digest` (SHA-256 hex). */
  codebookDigest: string;
}

/** One line of a series: a name (e.g. `Hele sector`) and per year the sums of its row, or null when absent. */
export interface TrendLine {
  name: string;
  sums: (Sums | null)[];
  /** Words for a year without a figure (default `niet gepubliceerd`). */
  missing?: string;
}

/** Why year `i` does not continue year `i - 1` (Dutch), or null when it does. */
export function trendBreak(years: readonly TrendYear[], i: number): string | null {
  const prev = years[i - 1];
  const cur = years[i];
  if (!prev || !cur) return null;
  const why: string[] = [];
  if (prev.metricSpec !== cur.metricSpec)
    why.push(`de metriekspecificatie is gewijzigd (${prev.metricSpec} → ${cur.metricSpec})`);
  if (prev.codebookDigest !== cur.codebookDigest)
    why.push(
      `het codeboek is gewijzigd (digest ${prev.codebookDigest.slice(0, 12)}… → ${cur.codebookDigest.slice(0, 12)}…)`,
    );
  return why.length ? why.join(' en ') : null;
}

/** The value of each figure per line and year (null: not published, or no data that year). */
export function trendValues(lines: readonly TrendLine[], figureIds: readonly string[]): (number | null)[][][] {
  return lines.map((l) =>
    figureIds.map((id) => {
      const d = FIG.get(id);
      return l.sums.map((s) => (s && d ? d.compute(s) : null));
    }),
  );
}

const CHART_WIDTH = 260;

const cap = (s: string) => `${s.slice(0, 1).toUpperCase()}${s.slice(1)}`;

/**
 * The series section: a sentence on continuity and breaks, one chart per figure (a line per
 * {@link TrendLine}, segments split at breaks and at unpublished years) and one table with every
 * figure per studiejaar. `years` are in order; every line has one entry per year.
 *
 * @param o.subject what the series describe, for captions (`de hele sector`)
 * @param o.id id prefix of the table (unique on the page)
 */
export async function trendSectionHtml(o: {
  years: readonly TrendYear[];
  lines: readonly TrendLine[];
  figureIds: readonly string[];
  subject: string;
  id: string;
}): Promise<string> {
  const { years, lines, figureIds } = o;
  const values = trendValues(lines, figureIds);
  const breaks = years.map((_, i) => trendBreak(years, i));
  const breakIdx = breaks.flatMap((b, i) => (b ? [i] : []));
  const intro = trendIntro(years, breaks, breakIdx);
  const gapNote = values.some((l) => l.some((f) => f.some((v) => v === null)))
    ? '<p class="note">Een jaar zonder cijfer (niet gepubliceerd omdat er te weinig instellingen ' +
      'of studenten achter staan of om een ander weggelaten cijfer te beschermen, of geen gegevens) ' +
      'laat een gat in de lijn: ook daar zijn de punten ' +
      'niet met elkaar verbonden.</p>'
    : '';
  const charts: string[] = [];
  if (years.length >= 2) {
    for (const [f, id] of figureIds.entries()) {
      const d = FIG.get(id);
      if (d) charts.push(await trendChart({ ...o, values, breaks, breakIdx, f, label: d.label }));
    }
  }
  const table = trendTable(o, values, breaks);
  return `${intro}
${charts.length ? `<div class="charts trend">${charts.join('')}</div>` : ''}
${gapNote}
${table}`;
}

/** The sentence on continuity: one year only, one comparable series, or where the breaks are. */
function trendIntro(
  years: readonly TrendYear[],
  breaks: readonly (string | null)[],
  breakIdx: readonly number[],
): string {
  return years.length < 2
    ? `<p>Er is één studiejaar gepubliceerd (${esc(years[0]?.studiejaar ?? '')}); een reeks ontstaat zodra er een volgend studiejaar is gepubliceerd.</p>`
    : breakIdx.length === 0
      ? `<p>${years.length} studiejaren (${esc(years[0]?.studiejaar ?? '')} tot en met ${esc(years[years.length - 1]?.studiejaar ?? '')}),` +
        ` alle berekend met dezelfde metriekspecificatie (${esc(years[0]?.metricSpec ?? '')}) en hetzelfde ` +
        'codeboek: de reeks is doorlopend vergelijkbaar.</p>'
      : `<p>${years.length} studiejaren. De reeks heeft ${breakIdx.length === 1 ? 'een breuk' : `${breakIdx.length} breuken`}: ` +
        `${breakIdx.map((i) => `vóór ${esc(years[i]?.studiejaar ?? '')}: ${esc(breaks[i] ?? '')}`).join('; ')}. ` +
        'Cijfers vóór en na een breuk zijn niet zonder meer vergelijkbaar; in de grafieken zijn ze ' +
        'niet met elkaar verbonden en een gestippelde lijn markeert de breuk.</p>';
}

/** What one chart needs: the series, its values per line, figure and year, and where it breaks. */
interface TrendChartInput {
  years: readonly TrendYear[];
  lines: readonly TrendLine[];
  subject: string;
  values: (number | null)[][][];
  breaks: readonly (string | null)[];
  breakIdx: readonly number[];
  /** Index of the figure in `figureIds`. */
  f: number;
  label: string;
}

/**
 * One figure's chart: a line per {@link TrendLine}, split into segments at breaks and at
 * unpublished years, a dotted rule at each break, and a caption that says every point in words.
 */
async function trendChart(c: TrendChartInput): Promise<string> {
  const { years, lines, values, breaks, breakIdx, f } = c;
  const points: { jaar: string; k: number; wie: string; waarde: number; stuk: string }[] = [];
  const words: string[] = [];
  for (const [li, line] of lines.entries()) {
    let segment = 0;
    let gap = false;
    const said: string[] = [];
    for (const [i, y] of years.entries()) {
      const v = values[li]?.[f]?.[i] ?? null;
      if (breaks[i] || gap) segment++;
      gap = v === null;
      said.push(
        `${y.studiejaar} ${v === null ? (line.missing ?? 'niet gepubliceerd') : nlPct(v)}${breaks[i] ? ' (na breuk)' : ''}`,
      );
      if (v !== null) points.push({ jaar: y.studiejaar, k: i, wie: line.name, waarde: v, stuk: `${li}-${segment}` });
    }
    words.push(`${line.name}: ${said.join(', ')}`);
  }
  const multi = lines.length > 1;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `${c.label} per studiejaar, ${c.subject}`,
    width: CHART_WIDTH,
    height: 150,
    layer: [
      {
        data: { values: points },
        // aria: false: the points are in the caption and the table; vega would otherwise give
        // an empty series (every year suppressed) an image role without a name (axe svg-img-alt).
        mark: { type: 'line', point: { filled: true, size: 50, aria: false }, strokeWidth: 2, aria: false },
        encoding: {
          x: {
            field: 'jaar',
            type: 'ordinal',
            sort: years.map((y) => y.studiejaar),
            scale: { domain: years.map((y) => y.studiejaar) },
            axis: { title: 'Studiejaar', labelAngle: 0 },
          },
          y: { field: 'waarde', type: 'quantitative', axis: { title: 'Percentage', format: '.0%' } },
          detail: { field: 'stuk' },
          ...(multi
            ? {
                color: {
                  field: 'wie',
                  type: 'nominal',
                  title: null,
                  scale: { range: ['#0a4ea3', '#6b3e00'] },
                  legend: { labelLimit: 260, columns: 1 },
                },
                shape: { field: 'wie', type: 'nominal', title: null },
                strokeDash: { field: 'wie', type: 'nominal', title: null },
              }
            : { color: { value: '#0a4ea3' } }),
        },
      },
      ...(breakIdx.length
        ? [
            {
              data: { values: breakIdx.map((i) => ({ jaar: years[i]?.studiejaar, tekst: 'breuk' })) },
              // Between the two studiejaren: half a step of the point scale (padding 0.5) to the left.
              mark: {
                type: 'rule',
                aria: false,
                strokeDash: [4, 3],
                color: '#1b1b1b',
                xOffset: -CHART_WIDTH / years.length / 2,
              },
              encoding: { x: { field: 'jaar', type: 'ordinal' } },
            },
          ]
        : []),
    ],
  };
  return `<div><h3>${esc(cap(c.label))}</h3>${figureHtml(
    await renderChartSvg(spec as unknown as TopLevelSpec & { description: string }),
    `${cap(c.label)} per studiejaar, ${c.subject}. ${words.join('. ')}.`,
  )}</div>`;
}

/** The table with every figure per studiejaar, breaks named in the row headers. */
function trendTable(
  o: {
    years: readonly TrendYear[];
    lines: readonly TrendLine[];
    figureIds: readonly string[];
    subject: string;
    id: string;
  },
  values: (number | null)[][][],
  breaks: readonly (string | null)[],
): string {
  const { years, lines, figureIds } = o;
  const head = `<tr><th scope="col">Studiejaar</th>${lines
    .flatMap((l) =>
      figureIds.map(
        (id) =>
          `<th scope="col" class="num">${esc(FIG.get(id)?.label ?? id)}${multi(lines) ? `<br><span class="muted">${esc(l.name)}</span>` : ''}</th>`,
      ),
    )
    .join('')}</tr>`;
  const body = years
    .map((y, i) => {
      const cells = lines
        .flatMap((_, li) =>
          figureIds.map((_id, f) => {
            const v = values[li]?.[f]?.[i] ?? null;
            return v === null ? '<td class="sup">niet gepubliceerd</td>' : `<td class="num">${nlPct(v)}</td>`;
          }),
        )
        .join('');
      const b = breaks[i] ? `<br><span class="sup">breuk: ${esc(breaks[i] ?? '')}</span>` : '';
      return `<tr><th scope="row">${esc(y.studiejaar)}${b}</th>${cells}</tr>`;
    })
    .join('\n');
  return scrollTable(`Reeks per studiejaar, ${o.subject}`, head, body, o.id);
}

const multi = (lines: readonly TrendLine[]) => lines.length > 1;
