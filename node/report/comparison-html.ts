/**
 * The comparison page (Dutch, static HTML with server-rendered SVG charts, no script): an
 * overview of every programme and group with our figure, the sector without us and the funnel
 * verdict for absence and dropout; then per group and per programme all derived figures of
 * METRICS.md with their funnel limits, funnel plots, the institution's place among
 * institutions, dropout per early-attendance band and Pearson r with Cohen's reading.
 */
import { cohenReading, EARLY_BANDS } from '../../shared/metrics/derived.js';
import { figureHtml } from '../../shared/pages/chart.js';
import { nlDec1, nlDec2, nlInt, nlPct } from '../../shared/pages/format-nl.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';
import { htmlPage, scrollTable } from '../../shared/pages/page.js';
import { ruleSentence, WIDEN_NL } from '../../shared/pages/rules-nl.js';
import { ABS_BIN_EDGES, DROP_BIN_EDGES, binLabel } from '../../shared/pages/bins.js';
import { earlyBandChartSvg, funnelChartSvg } from './charts.js';
import type { Comparison, ComparisonRow, FigureComparison, Position } from './comparison.js';
import type { FunnelVerdict } from './funnel.js';
import { earlyBandId, PEARSON_ID } from './withheld.js';

/** Programmes (largest first) that get funnel plots; every programme gets the table and verdicts. */
export const MAX_CHARTED_PROGRAMMES = 12;

/** Page meta that is not in the comparison itself. */
export interface ComparisonMeta {
  keyHolderFingerprint: string;
  generatedAt: string;
  /** The series over studiejaren (node/report/comparison-trend.ts), HTML; absent: no series section. */
  trendHtml?: string;
  /** What this release version changed against the one it replaces (shared/pages/version-changes.ts), HTML. */
  versionHtml?: string;
}

/** A figure's value in its unit: `12,3%` or `4,2 per 100`. */
export function figureText(unit: 'share' | 'per100', x: number | null): string {
  if (x === null) return '—';
  return unit === 'share' ? nlPct(x) : `${nlDec1(100 * x)} per 100`;
}

const VERDICT: Record<FunnelVerdict, { sym: string; words: string; cls: string }> = {
  inside: { sym: '●', words: 'binnen de grenzen: past bij de spreiding in de sector', cls: 'flag-in' },
  above95: { sym: '▲', words: 'hoger dan verwacht (boven de 95%-grens)', cls: 'flag-hi' },
  above998: { sym: '▲▲', words: 'duidelijk hoger (boven de 99,8%-grens)', cls: 'flag-hi' },
  below95: { sym: '▼', words: 'lager dan verwacht (onder de 95%-grens)', cls: 'flag-lo' },
  below998: { sym: '▼▼', words: 'duidelijk lager (onder de 99,8%-grens)', cls: 'flag-lo' },
};

/** The verdict in words and a symbol (never colour alone); adds whether it is (un)favourable. */
export function verdictText(f: FigureComparison): { sym: string; words: string; cls: string } | null {
  if (!f.verdict) return null;
  const v = VERDICT[f.verdict];
  if (f.verdict === 'inside' || f.higherIsBetter === null) return v;
  const higher = f.verdict.startsWith('above');
  return { ...v, words: `${v.words}, ${higher === f.higherIsBetter ? 'gunstig' : 'ongunstig'}` };
}

const SHORT: Record<FunnelVerdict, string> = {
  inside: 'binnen de grenzen',
  above95: 'hoger (95%)',
  above998: 'duidelijk hoger (99,8%)',
  below95: 'lager (95%)',
  below998: 'duidelijk lager (99,8%)',
};

/** The short verdict of the overview table: the band, and whether it is (un)favourable. */
function shortVerdict(f: FigureComparison, verdict: FunnelVerdict): string {
  if (verdict === 'inside' || f.higherIsBetter === null) return SHORT[verdict];
  return `${SHORT[verdict]}${verdict.startsWith('above') === f.higherIsBetter ? ', gunstig' : ', ongunstig'}`;
}

function verdictCell(f: FigureComparison | undefined, t: Comparison['thresholds'], short = false): string {
  if (!f) return '<td>—</td>';
  const v = verdictText(f);
  if (v && f.verdict) {
    const words = short ? shortVerdict(f, f.verdict) : v.words;
    return `<td><span class="flag ${v.cls}"><span aria-hidden="true">${v.sym}</span> ${esc(words)}</span></td>`;
  }
  const rule = f.sectorRule;
  if (rule)
    return short
      ? '<td class="sup">sectorcijfer niet gepubliceerd</td>'
      : `<td class="sup">geen vergelijking: sectorcijfer niet gepubliceerd (${esc(ruleSentence(rule, t))})</td>`;
  return '<td class="none">geen vergelijking</td>';
}

const slug = (k: string) => k.replace(/[^A-Za-z0-9]+/g, '-');
const rowId = (r: ComparisonRow) => `${r.kind === 'cell' ? 'c' : 'g'}-${slug(r.key)}`;

function fig(r: ComparisonRow, id: string): FigureComparison | undefined {
  return r.figures.find((f) => f.id === id);
}

function overviewTable(c: Comparison, rows: ComparisonRow[], caption: string): string {
  const head =
    '<tr><th scope="col" rowspan="2">Opleiding of groep</th><th scope="colgroup" colspan="4">Verzuim ' +
    '(afwezige minuten van geregistreerde minuten)</th><th scope="colgroup" colspan="4">Uitval ' +
    `in jaar 1 (starters zonder diploma vertrokken)</th></tr>
<tr><th scope="col" class="num">Inschrijvingen</th><th scope="col" class="num">Eigen</th><th ` +
    'scope="col" class="num">Sector zonder ons</th><th scope="col">Oordeel</th><th scope="col" ' +
    'class="num">Starters</th><th scope="col" class="num">Eigen</th><th scope="col" class="num">' +
    'Sector zonder ons</th><th scope="col">Oordeel</th></tr>';
  const body = rows
    .map((r) => {
      const a = fig(r, 'absence_rate');
      const d = fig(r, 'dropout_share');
      return (
        `<tr><th scope="row"><a href="#${rowId(r)}">${esc(r.label)}</a></th><td class="num">${nlInt(r.own.enrolments)}</td>` +
        `<td class="num">${figureText('share', a?.own ?? null)}</td><td class="num">${figureText('share', a?.withoutUs ?? null)}</td>` +
        `${verdictCell(a, c.thresholds, true)}<td class="num">${nlInt(r.own.starters)}</td><td class="num">` +
        `${figureText('share', d?.own ?? null)}</td><td class="num">${figureText('share', d?.withoutUs ?? null)}</td>` +
        `${verdictCell(d, c.thresholds, true)}</tr>`
      );
    })
    .join('\n');
  return scrollTable(caption, head, body);
}

function limitsText(f: FigureComparison, lo: 'lo95' | 'lo998', hi: 'hi95' | 'hi998'): string {
  if (!f.limits) return '—';
  return `${figureText(f.unit, f.limits[lo])} – ${figureText(f.unit, f.limits[hi])}`;
}

/** A sector value of the figure table: the figure, or "niet gepubliceerd" when it is withheld. */
function sectorValueCell(f: FigureComparison, x: number | null): string {
  return f.sectorRule ? '<td class="sup">niet gepubliceerd</td>' : `<td class="num">${figureText(f.unit, x)}</td>`;
}

function figureTable(c: Comparison, r: ComparisonRow): string {
  const head =
    `<tr><th scope="col">Cijfer</th><th scope="col" class="num">${esc(c.institution.name)}</th>` +
    '<th scope="col" class="num">Aantal (n)</th><th scope="col" class="num">Sector zonder ons</th>' +
    '<th scope="col" class="num">Hele sector</th><th scope="col" class="num">95%-grenzen bij n</th>' +
    '<th scope="col" class="num">99,8%-grenzen bij n</th><th scope="col">Oordeel</th></tr>';
  const body = r.figures
    .map(
      (f) =>
        `<tr><th scope="row">${esc(f.label)}</th><td class="num">${figureText(f.unit, f.own)}</td><td ` +
        `class="num">${nlInt(f.ownN)}</td>${sectorValueCell(f, f.withoutUs)}${sectorValueCell(f, f.sector)}` +
        `<td class="num">${limitsText(f, 'lo95', 'hi95')}</td>` +
        `<td class="num">${limitsText(f, 'lo998', 'hi998')}</td>${verdictCell(f, c.thresholds)}</tr>`,
    )
    .join('\n');
  return scrollTable(`Alle cijfers: ${r.label}`, head, body);
}

function positionText(p: Position | null, rule: string | undefined, c: Comparison, what: string): string {
  const edges = p?.which === 'c_drop_bin' ? DROP_BIN_EDGES : ABS_BIN_EDGES;
  if (!p) {
    return rule
      ? `<li>Verdeling van instellingen naar ${what}: niet gepubliceerd (${esc(ruleSentence(rule, c.thresholds))}).</li>`
      : '';
  }
  if (p.ownBin === null) {
    return (
      `<li>Verdeling van instellingen naar ${what}: ${nlInt(p.inHistogram)} instellingen; ${esc(c.institution.name)} ` +
      `telt hier niet mee (minder dan 10 ${p.which === 'c_drop_bin' ? 'starters' : 'beoordeelde inschrijvingen'}).</li>`
    );
  }
  return (
    `<li><strong>${nlInt(p.lower)} van ${nlInt(p.inHistogram)} instellingen hebben een lager ${what}</strong>` +
    `; ${nlInt(p.sameBin)} andere zitten in dezelfde klasse als ${esc(c.institution.name)} (${esc(binLabel(edges, p.ownBin))}) ` +
    `en ${nlInt(p.higher)} hebben een hoger ${what}.</li>`
  );
}

/** Whether the sector's dropout rate of early-attendance band `i` is withheld (its block or singly). */
function bandWithheld(r: ComparisonRow, i: number): boolean {
  return r.sector.suppressed.B !== undefined || r.sector.withheld[earlyBandId(i)] !== undefined;
}

/** A sector rate of the early-attendance table: the share, or "niet gepubliceerd" when withheld. */
function sectorBandCell(r: ComparisonRow, i: number, rate: number | null | undefined): string {
  return bandWithheld(r, i) ? '<td class="sup">niet gepubliceerd</td>' : `<td class="num">${nlPct(rate)}</td>`;
}

function earlyTable(r: ComparisonRow): string {
  const head =
    '<tr><th scope="col">Aanwezigheid eerste 6 lesweken</th><th scope="col" class="num">Starters ' +
    '(eigen)</th><th scope="col" class="num">Uitval (eigen)</th><th scope="col" class="num">Uitval ' +
    'sector zonder ons</th><th scope="col" class="num">Uitval hele sector</th></tr>';
  const body = EARLY_BANDS.map(
    (b, i) =>
      `<tr><th scope="row">${esc(b)}</th><td class="num">${nlInt(r.early.own[i]?.total)}</td><td ` +
      `class="num">${nlPct(r.early.own[i]?.rate)}</td>${sectorBandCell(r, i, r.early.withoutUs[i]?.rate)}` +
      `${sectorBandCell(r, i, r.early.sector[i]?.rate)}</tr>`,
  ).join('\n');
  return scrollTable(`Uitval per klasse van vroege aanwezigheid: ${r.label}`, head, body);
}

/** Why the sector's Pearson r is not published (its block or a slot it needs), or null. */
function pearsonRule(r: ComparisonRow): string | null {
  return r.sector.suppressed.B ?? r.sector.withheld[PEARSON_ID] ?? null;
}

function pearsonText(r: ComparisonRow, c: Comparison): string {
  const item = (who: string, x: number | null) => `${esc(who)}: r = ${nlDec2(x)} (${esc(cohenReading(x))})`;
  const rule = pearsonRule(r);
  const sector =
    rule === null
      ? `${item('sector zonder ons', r.pearson.withoutUs)}; ${item('hele sector', r.pearson.sector)}`
      : `sector zonder ons en hele sector: niet gepubliceerd (${esc(ruleSentence(rule, c.thresholds))})`;
  return (
    '<p>Samenhang tussen aanwezigheid in de eerste zes lesweken en uitval (Pearson r; Cohen: zwak ' +
    'vanaf 0,10, middelmatig vanaf 0,30, sterk vanaf 0,50; negatief betekent: wie vaker aanwezig ' +
    `is, valt minder vaak uit). ${item(c.institution.name, r.pearson.own)}; ${sector}.</p>`
  );
}

/** The Dutch name of a figure that can be withheld singly (a derived figure, a band's dropout, Pearson r). */
function withheldLabel(r: ComparisonRow, id: string): string {
  const derived = r.figures.find((f) => f.id === id);
  if (derived) return derived.label;
  if (id === PEARSON_ID) return 'Samenhang tussen vroege aanwezigheid en uitval (Pearson r)';
  const band = EARLY_BANDS.findIndex((_, i) => earlyBandId(i) === id);
  return band >= 0 ? `Uitval bij aanwezigheid ${EARLY_BANDS[band]} in de eerste zes lesweken` : id;
}

/**
 * Why sector figures of a row are not published, one item per withheld block and per figure
 * withheld singly in a published block that the section shows (so the reader sees exactly which
 * figure is missing); early bands and Pearson r only where the section shows them (`withEarly`).
 */
function withheldItems(r: ComparisonRow, c: Comparison, withEarly: boolean): string[] {
  const blocks = (['A', 'B'] as const).flatMap((b) => {
    const rule = r.sector.suppressed[b];
    if (!rule) return [];
    const figures = b === 'A' ? 'Verzuimcijfers' : 'Startercijfers';
    return [`<li>${figures} van de sector: niet gepubliceerd, ${esc(ruleSentence(rule, c.thresholds))}.</li>`];
  });
  const shown = ([id]: [string, string]) => withEarly || r.figures.some((f) => f.id === id);
  const single = Object.entries(r.sector.withheld)
    .filter(shown)
    .map(
      ([id, rule]) =>
        `<li>${esc(withheldLabel(r, id))} van de sector: niet gepubliceerd, ${esc(ruleSentence(rule, c.thresholds))}.</li>`,
    );
  return [...blocks, ...single];
}

/** The early-band chart's text for screen readers, naming the bands whose sector rate is withheld. */
function earlyChartText(r: ComparisonRow, c: Comparison): string {
  const missing = EARLY_BANDS.filter((_, i) => bandWithheld(r, i));
  const gap = missing.length
    ? ` Voor ${missing.join(', ')} is het sectorcijfer niet gepubliceerd; daar staat alleen ${c.institution.name}.`
    : '';
  return (
    `Uitval in jaar 1 per klasse van aanwezigheid in de eerste zes lesweken, ${c.institution.name} ` +
    `naast de sector zonder ons.${gap} De tabel eronder geeft dezelfde cijfers.`
  );
}

async function rowSection(
  c: Comparison,
  r: ComparisonRow,
  level: 'h3',
  withEarly: boolean,
  withCharts = true,
): Promise<string> {
  const parts: string[] = [];
  parts.push(
    `<section id="${rowId(r)}" aria-labelledby="${rowId(r)}-h"><${level} id="${rowId(r)}-h">${esc(r.label)}</${level}>`,
  );
  const inst = r.sector.institutions;
  const counted = c.ownIncluded ? `, ${esc(c.institution.name)} meegeteld` : '';
  parts.push(
    `<p>${nlInt(r.own.enrolments)} inschrijvingen en ${nlInt(r.own.starters)} starters bij ${esc(c.institution.name)}. ` +
      `In de sector: ${nlInt(inst.a)} instellingen met verzuimcijfers en ${nlInt(inst.b)} met startercijfers${counted}.</p>`,
  );
  const sup = withheldItems(r, c, withEarly);
  const widen = r.sector.suppressed.A || r.sector.suppressed.B ? `<p class="note">${esc(WIDEN_NL)}</p>` : '';
  if (sup.length) parts.push(`<ul class="sup">${sup.join('')}</ul>${widen}`);
  parts.push(figureTable(c, r));
  const charts: string[] = [];
  for (const id of withCharts ? ['absence_rate', 'dropout_share'] : []) {
    const f = fig(r, id);
    if (!f) continue;
    const svg = await funnelChartSvg(f, c.institution.name);
    if (!svg) continue;
    const v = verdictText(f);
    charts.push(
      figureHtml(
        svg,
        `Trechterdiagram ${f.label.toLowerCase()}: ${c.institution.name} ${figureText(f.unit, f.own)} ` +
          `bij ${nlInt(f.ownN)} studenten; sector zonder ons ${figureText(f.unit, f.withoutUs)} (horizontale ` +
          `lijn); 95%-grenzen ${limitsText(f, 'lo95', 'hi95')}, 99,8%-grenzen ${limitsText(f, 'lo998', 'hi998')}. ` +
          `${v ? `Oordeel: ${v.words}.` : ''}`,
      ),
    );
  }
  if (charts.length) parts.push(`<div class="charts">${charts.join('')}</div>`);
  const pos = [
    positionText(r.positions.absence, r.distributionRules.c_abs_bin, c, 'verzuimpercentage'),
    positionText(r.positions.dropout, r.distributionRules.c_drop_bin, c, 'uitvalpercentage'),
  ].filter(Boolean);
  if (pos.length) parts.push(`<ul>${pos.join('')}</ul>`);
  if (withEarly) {
    const svg = await earlyBandChartSvg(r.early.own, r.early.withoutUs, c.institution.name);
    if (svg) parts.push(figureHtml(svg, earlyChartText(r, c)));
    parts.push(earlyTable(r));
    parts.push(pearsonText(r, c));
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** The "Zo leest u deze vergelijking" section: sector without us, funnel limits, the flags, the method. */
function readingGuideHtml(name: string, ownIncluded: boolean): string {
  const whole = ownIncluded ? '' : ' (deze node heeft niet bijgedragen, dus de sector zonder ons is de hele sector)';
  return (
    `<h2 id="lezen">Zo leest u deze vergelijking</h2>
<p>Elk cijfer van ${esc(name)} staat naast <strong>de sector zonder ons</strong>: de gepubliceerde ` +
    `sectortotalen min de eigen bijdrage, hier berekend${whole}. ` +
    `Zo trekt de eigen instelling het vergelijkingscijfer niet naar zich toe.</p>
<p>Of een verschil opvalt, hangt af van het aantal studenten: bij 5 starters is 40% uitval ` +
    'geen bijzonderheid, bij 500 wel. Daarom staan bij elk cijfer <strong>grenzen</strong> (een ' +
    'trechterdiagram, Spiegelhalter 2005): waar het cijfer van een instelling van dezelfde grootte ' +
    'zou liggen als alleen het toeval speelde. Buiten de 95%-grens gebeurt bij toeval 1 op 20 keer,' +
    ` buiten de 99,8%-grens 1 op 500 keer.</p>
<ul>
<li><span class="flag flag-in"><span aria-hidden="true">●</span> binnen de grenzen</span>: ` +
    `het verschil met de sector kan toeval zijn.</li>
<li><span class="flag flag-hi"><span aria-hidden="true">▲</span> hoger</span> / <span class="flag ` +
    'flag-lo"><span aria-hidden="true">▼</span> lager</span>: buiten de 95%-grens; <span aria-hidden="true">' +
    '▲▲ / ▼▼</span> <span class="flag">duidelijk hoger / lager</span>: buiten de 99,8%-grens. Of ' +
    `dat gunstig of ongunstig is, staat erbij.</li>
</ul>
<p class="muted">Methode: exacte binomiale kwantielen met de interpolatie van Spiegelhalter ` +
    '(2005, bijlage A.1.1), rond de sector zonder ons. Voor cijfers in minuten of lessen (verzuim,' +
    ' aanwezigheid, te laat) is n het aantal beoordeelde inschrijvingen, niet het aantal minuten;' +
    ' dat geeft ruimere grenzen, zodat gewone verschillen tussen studenten niet als opvallend gelden.</p>'
  );
}

/** The comparison as a complete HTML page. Downloads are relative links to files beside it. */
export async function comparisonHtml(
  c: Comparison,
  meta: ComparisonMeta,
  files: { json: string; csv: string; excel: string },
): Promise<string> {
  const name = c.institution.name;
  const rollups = c.rows.filter((r) => r.kind === 'rollup');
  const cells = c.rows.filter((r) => r.kind === 'cell');
  const total = rollups.find((r) => r.key === 'total');
  const others = rollups.filter((r) => r.key !== 'total');
  const sections: string[] = [];
  if (total) sections.push(await rowSection(c, total, 'h3', true));
  const groupSections: string[] = [];
  for (const r of others)
    groupSections.push(await rowSection(c, r, 'h3', r.key.startsWith('niveau|'), r.key.startsWith('niveau|')));
  // Funnel plots for the largest programmes only: rendering a chart costs tens of milliseconds
  // (more on a busy machine), and the table of every programme gives the same verdicts in words.
  const charted = new Set(
    [...cells]
      .sort((a, b) => b.own.enrolments + b.own.starters - (a.own.enrolments + a.own.starters))
      .slice(0, MAX_CHARTED_PROGRAMMES)
      .map((r) => r.key),
  );
  const cellSections: string[] = [];
  for (const r of cells) cellSections.push(await rowSection(c, r, 'h3', false, charted.has(r.key)));
  const body =
    `
<p>Ronde <strong>${esc(c.roundId)}</strong>, studiejaar ${esc(c.studiejaar)}, publicatie versie ` +
    `${nlInt(c.releaseVersion)}. De sectorcijfers zijn ondertekend door de sleutelhouder (vingerafdruk ` +
    `<code>${esc(meta.keyHolderFingerprint)}</code>) en op deze computer gecontroleerd. De eigen ` +
    `cijfers zijn hier berekend en hebben ${esc(name)} niet verlaten.</p>
${meta.versionHtml ?? ''}
<nav aria-label="Inhoud"><ul>
<li><a href="#lezen">Zo leest u deze vergelijking</a></li>
<li><a href="#overzicht">Overzicht per opleiding</a></li>
<li><a href="#geheel">${esc(name)} als geheel</a></li>
${meta.trendHtml ? '<li><a href="#reeks">Ontwikkeling over de studiejaren</a></li>\n' : ''}<li>` +
    `<a href="#groepen">Niveaus, leerwegen en sectorkamers</a></li>
<li><a href="#opleidingen">Per opleiding</a></li>
<li><a href="#downloads">Downloads</a></li>
</ul></nav>
${readingGuideHtml(name, c.ownIncluded)}
<h2 id="overzicht">Overzicht per opleiding</h2>
${overviewTable(c, [...(total ? [total] : []), ...cells], `Verzuim en uitval per opleiding van ${name}`)}
<h2 id="geheel">${esc(name)} als geheel</h2>
${sections.join('\n')}
${meta.trendHtml ? `<h2 id="reeks">Ontwikkeling over de studiejaren</h2>\n${meta.trendHtml}` : ''}
<h2 id="groepen">Niveaus, leerwegen en sectorkamers</h2>
${overviewTable(c, others, `Verzuim en uitval per groep van ${name}`)}
${groupSections.join('\n')}
<h2 id="opleidingen">Per opleiding</h2>
${cellSections.join('\n')}
<h2 id="downloads">Downloads</h2>
<ul class="downloads">
<li><a href="${esc(files.json)}">Alle cijfers als JSON</a></li>
<li><a href="${esc(files.csv)}">CSV (komma, decimale punt; voor programma's)</a></li>
<li><a href="${esc(files.excel)}">CSV voor Excel (puntkomma, decimale komma)</a></li>
</ul>
<footer><p>Gemaakt ${esc(meta.generatedAt)} door sectorbench. Alleen op deze computer; niet ` +
    `doorsturen zonder toestemming van ${esc(name)}.</p></footer>`;
  return htmlPage({
    title: `Benchmark verzuim en uitval – ${name} – ${c.studiejaar}`,
    h1: `Benchmark verzuim en uitval: ${name}`,
    body,
  });
}
