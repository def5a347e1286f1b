/**
 * The publication site of a release (Dutch, static HTML with server-rendered SVG charts, no
 * script): an overview page, one page per sectorkamer with its programmes, and the downloads
 * (signed JSON, machine CSV, Excel CSV). All links are relative and the files sit in one
 * folder, so the site works opened from disk and served by the coordinator alike.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 5
 */
import type { TopLevelSpec } from 'vega-lite';
import { versionChanges, versionChangesNl } from '../../shared/pages/version-changes.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import type { Release, ReleaseRow } from '../../schemas/release.js';
import { fingerprint } from '../../shared/crypto/identity.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { ABS_BIN_EDGES, DROP_BIN_EDGES, binLabel } from '../../shared/pages/bins.js';
import { figureHtml, renderChartSvg } from '../../shared/pages/chart.js';
import { nlInt, nlPct } from '../../shared/pages/format-nl.js';
import { escapeHtml as esc } from '../../shared/pages/html.js';
import { cellShortLabel, groupLabel, groupRank, namesOf, type Names } from '../../shared/pages/labels.js';
import { htmlPage, scrollTable } from '../../shared/pages/page.js';
import { ruleSentence, WIDEN_NL } from '../../shared/pages/rules-nl.js';
import { amsterdamTime } from '../../shared/pages/time-nl.js';
import { TREND_FIGURES, trendSectionHtml, type TrendYear } from '../../shared/pages/trend.js';
import { renderReleaseCsv, renderReleaseExcelCsv } from './render-csv.js';
import { blockRule, figureHeader, figureRow, offered } from './site-rows.js';

/** File names of the site (one folder). */
export const SITE_FILES = {
  index: 'index.html',
  json: 'release.json',
  csv: 'release.csv',
  excel: 'release-excel.csv',
} as const;

/** File name of a sectorkamer's page. */
export function sectorkamerFile(code: string): string {
  return `sectorkamer-${code.replace(/[^A-Za-z0-9_-]/g, '_')}.html`;
}

/** Counts that every page states the same way: rows × blocks with data, published or withheld. */
export interface SiteCounts {
  programmesOffered: number;
  programmesNotOffered: number;
  blocksWithData: number;
  blocksPublished: number;
  blocksWithheld: number;
  withheldByRule: Record<string, number>;
  /** Published blocks with single slots withheld (their figures needing them are not published). */
  blocksPartlyWithheld: number;
}

/**
 * Whether a published block has single slots withheld: said on the Bescherming section so a
 * reader knows why some figures of a published row say "niet gepubliceerd".
 */
function partlyWithheld(row: ReleaseRow, b: 'A' | 'B'): boolean {
  const slots = b === 'A' ? BLOCK_A_SLOTS : BLOCK_B_SLOTS;
  return slots.some((slot) => row.slots[slot] === null);
}

/** Count blocks (a row's block A or B) where at least one institution contributed. */
export function siteCounts(release: Release): SiteCounts {
  const c: SiteCounts = {
    programmesOffered: 0,
    programmesNotOffered: 0,
    blocksWithData: 0,
    blocksPublished: 0,
    blocksWithheld: 0,
    withheldByRule: {},
    blocksPartlyWithheld: 0,
  };
  for (const row of Object.values(release.cells)) {
    if (offered(row)) c.programmesOffered++;
    else c.programmesNotOffered++;
  }
  for (const row of [...Object.values(release.cells), ...Object.values(release.rollups)]) {
    for (const b of ['A', 'B'] as const) {
      if ((b === 'A' ? row.institutions.a : row.institutions.b) === 0) continue;
      c.blocksWithData++;
      const rule = blockRule(row, b);
      if (rule) {
        c.blocksWithheld++;
        c.withheldByRule[rule] = (c.withheldByRule[rule] ?? 0) + 1;
      } else {
        c.blocksPublished++;
        if (partlyWithheld(row, b)) c.blocksPartlyWithheld++;
      }
    }
  }
  return c;
}

async function distributionCharts(release: Release, row: ReleaseRow | undefined, label: string): Promise<string> {
  const dist = row?.distributions;
  if (!row || !dist) return '';
  const out: string[] = [];
  for (const [which, edges, what] of [
    ['c_abs_bin', ABS_BIN_EDGES, 'verzuimpercentage'],
    ['c_drop_bin', DROP_BIN_EDGES, 'uitvalpercentage'],
  ] as const) {
    const h = dist[which];
    if (!h) {
      const rule = dist.suppressed[which]?.rule;
      if ((which === 'c_abs_bin' ? row.institutions.a : row.institutions.b) > 0 && rule)
        out.push(
          `<p class="sup">Verdeling van instellingen naar ${what} (${esc(label)}): niet gepubliceerd, ${esc(ruleSentence(rule, release.thresholds))}.</p>`,
        );
      continue;
    }
    const values = h.map((n, k) => ({ klasse: binLabel(edges, k), k, n }));
    const spec: TopLevelSpec & { description: string } = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      description: `Verdeling van instellingen naar ${what}, ${label}`,
      data: { values },
      width: 340,
      height: 180,
      mark: { type: 'bar', color: '#3b4f66' },
      encoding: {
        x: {
          field: 'klasse',
          type: 'ordinal',
          sort: { field: 'k' },
          axis: { title: `${what[0]?.toUpperCase()}${what.slice(1)} van de instelling`, labelAngle: -40 },
        },
        y: { field: 'n', type: 'quantitative', axis: { title: 'Aantal instellingen', tickMinStep: 1, format: 'd' } },
      },
    };
    const total = h.reduce((a, b) => a + b, 0);
    const words = values
      .filter((v) => v.n > 0)
      .map((v) => `${v.klasse}: ${nlInt(v.n)}`)
      .join('; ');
    out.push(
      figureHtml(
        await renderChartSvg(spec),
        `Verdeling van ${nlInt(total)} instellingen naar ${what}, ${label}. ${words}.`,
      ),
    );
  }
  return out.length ? `<div class="charts">${out.join('')}</div>` : '';
}

function downloadsList(): string {
  return (
    `<ul class="downloads">
<li><a href="${SITE_FILES.json}">Ondertekende publicatie (JSON)</a> — ` +
    `het gezaghebbende document; de handtekening van de sleutelhouder is te controleren met ` +
    `<code>sectorbench node benchmark</code></li>
<li><a href="${SITE_FILES.csv}">CSV (komma, decimale punt; voor programma's)</a></li>
<li><a href="${SITE_FILES.excel}">CSV voor Excel (puntkomma, decimale komma)</a></li>
</ul>`
  );
}

function protectionHtml(release: Release, c: SiteCounts): string {
  const t = release.thresholds;
  const rules = Object.entries(c.withheldByRule)
    .sort(([, a], [, b]) => b - a)
    .map(([rule, n]) => `<li>${nlInt(n)} omdat ${esc(ruleSentence(rule, t))}</li>`)
    .join('');
  const d = release.disclosure;
  const audit = d
    ? `<p><strong>Controle door de sleutelhouder: geslaagd.</strong> ` +
      `Vóór ondertekening is met exacte rekenkunde nagegaan dat geen weggelaten cijfer terug te rekenen is ` +
      `uit totalen en gepubliceerde delen, en dat elk om privacy weggelaten aantal studenten alleen binnen een marge ` +
      `van minstens ${nlInt(d.protection.min_width)} en ` +
      `${nlInt(d.protection.ratio_num)}/${nlInt(d.protection.ratio_den)} van de waarde te schatten is` +
      (d.audit.versions.compared.length
        ? `; vergeleken met eerdere versies ${esc(d.audit.versions.compared.join(', '))}`
        : '') +
      '.</p>'
    : '';
  return (
    `<p>Een cijfer wordt alleen gepubliceerd als minstens ${nlInt(t.min_institutions)} instellingen en ${nlInt(t.min_population)} studenten erachter staan ` +
    `en geen instelling meer dan ${nlPct(t.dominance_share)} ervan kan hebben; ` +
    `een verdeling van instellingen alleen met minstens ${nlInt(t.min_institutions_distribution)} instellingen erin.</p>
<p>Van de ${nlInt(c.blocksWithData)} blokken met gegevens (verzuim of starters van een opleiding of groep) ` +
    `zijn er ${nlInt(c.blocksPublished)} gepubliceerd en ${nlInt(c.blocksWithheld)} weggelaten:</p>
<ul>${rules || '<li>geen</li>'}</ul>
${partlyHtml(c)}<p>${nlInt(c.programmesNotOffered)} van de ${nlInt(c.programmesOffered + c.programmesNotOffered)} opleidingen (per leerweg) ` +
    `worden door geen enkele deelnemende instelling aangeboden; ` +
    `daar is niets weggelaten, er is niets.</p>
<p class="note">${esc(WIDEN_NL)}</p>
${audit}`
  );
}

/** The sentence on published blocks with single figures withheld; empty when there are none. */
function partlyHtml(c: SiteCounts): string {
  if (c.blocksPartlyWithheld === 0) return '';
  const n = c.blocksPartlyWithheld;
  return (
    `<p>In ${nlInt(n)} ${n === 1 ? 'gepubliceerd blok is' : 'gepubliceerde blokken zijn'} daarnaast losse ` +
    'deelcijfers weggelaten; de cijfers die ze nodig hebben staan in de tabellen als niet gepubliceerd, ' +
    'met de reden, de andere cijfers van die blokken wel.</p>\n'
  );
}

interface SiteMeta {
  digest: string;
  versions: number[];
  /**
   * The series: the newest release of each published studiejaar up to and including this
   * release's, oldest first (this release itself among them). Absent: this release alone.
   */
  trend?: readonly Release[];
  /** The version this release replaces (version 2 or later): the meta list says what changed. */
  previous?: Release;
}

/** The studiejaren of a series, from their releases. */
export function trendYears(releases: readonly Release[]): TrendYear[] {
  return releases.map((r) => ({
    studiejaar: r.studiejaar,
    roundId: r.round_id,
    releaseVersion: r.release_version,
    metricSpec: r.metric_spec,
    codebookDigest: r.codebook_digest,
  }));
}

/** The series section of one group row (`total`, `sectorkamer|<code>`) over the studiejaren. */
async function trendHtml(release: Release, meta: SiteMeta, key: string, name: string, subject: string, id: string) {
  const releases = meta.trend?.length ? meta.trend : [release];
  const rows = releases.map((r) => r.rollups[key]?.slots ?? null);
  const rounds = releases.map((r) => `${r.studiejaar}: ronde ${r.round_id}, versie ${r.release_version}`).join('; ');
  return (
    `${await trendSectionHtml({
      years: trendYears(releases),
      lines: [{ name, sums: rows, missing: 'niet gepubliceerd' }],
      figureIds: TREND_FIGURES,
      subject,
      id,
    })}
<p class="muted">Bronnen van de reeks (voor studiejaar ${esc(release.studiejaar)} deze publicatie, ` +
    `voor eerdere studiejaren de nieuwste gepubliceerde versie op het moment van deze pagina): ` +
    `${esc(rounds)}.</p>`
  );
}

function metaList(release: Release, manifest: RoundManifest, meta: SiteMeta): string {
  const kh = new Uint8Array(Buffer.from(manifest.key_holder_endorsement.ed25519_public_key, 'base64'));
  return `<dl class="meta">
<dt>Ronde</dt><dd>${esc(release.round_id)}, studiejaar ${esc(release.studiejaar)}</dd>
<dt>Versie</dt><dd>${nlInt(release.release_version)} (van ${nlInt(meta.versions.length)}), gepubliceerd ${esc(amsterdamTime(release.published_at))}</dd>
${
  meta.previous
    ? `<dt>Wijzigingen</dt><dd>${esc(versionChangesNl(versionChanges(meta.previous, release)))} ` +
      `Een nieuwe versie volgt op late of gecorrigeerde bijdragen; ` +
      `vóór ondertekening is nagegaan dat geen cijfer door vergelijking met eerdere versies de bijdrage van te weinig instellingen prijsgeeft.</dd>\n`
    : ''
}<dt>Instellingen</dt><dd>${nlInt(release.institutions)}</dd>
<dt>Sleutelhouder (vingerafdruk)</dt><dd><code>${esc(fingerprint(kh))}</code></dd>
<dt>Digest van deze publicatie</dt><dd><code>${esc(meta.digest)}</code></dd>
</dl>`;
}

function sectorkamers(names: Names, manifest: RoundManifest): { code: string; name: string }[] {
  const codes = [...new Set(manifest.codebook.entries.map((e) => e.sectorkamer_code))].sort();
  return codes.map((code) => ({ code, name: names.sectorkamer.get(code) ?? code }));
}

/** The names of a manifest's codebook (crebo, sectorkamer), for pages and CSVs. */
export function namesOfManifest(manifest: RoundManifest): Names {
  return namesOf(
    manifest.codebook.entries.map((e) => ({
      crebo: e.crebo,
      name: e.name,
      niveau: e.niveau,
      sectorkamerCode: e.sectorkamer_code,
      sectorkamerName: e.sectorkamer_name,
    })),
  );
}

async function indexPage(release: Release, manifest: RoundManifest, meta: SiteMeta, names: Names): Promise<string> {
  const t = release.thresholds;
  const counts = siteCounts(release);
  const top = Object.entries(release.rollups)
    .filter(([k]) => groupRank(k) <= 2)
    .sort(([a], [b]) => groupRank(a) - groupRank(b) || (a < b ? -1 : 1))
    .map(([k, row]) => figureRow(esc(groupLabel(k, names, 'Hele sector')), row, t))
    .join('\n');
  const sk = sectorkamers(names, manifest)
    .map(({ code, name }) => {
      const row = release.rollups[`sectorkamer|${code}`];
      const cells = Object.entries(release.cells).filter(
        ([k]) => manifest.codebook.entries.find((e) => e.crebo === k.split('|')[0])?.sectorkamer_code === code,
      );
      const off = cells.filter(([, r]) => offered(r)).length;
      const link =
        `<a href="${sectorkamerFile(code)}">${esc(name)}</a><br>` +
        `<span class="muted">${nlInt(off)} van ${nlInt(cells.length)} opleidingen aangeboden</span>`;
      return row
        ? figureRow(link, row, t)
        : `<tr><th scope="row">${link}</th><td colspan="11" class="none">geen groepscijfers in deze publicatie</td></tr>`;
    })
    .join('\n');
  const charts: string[] = [];
  for (const k of ['total', 'niveau|1', 'niveau|2', 'niveau|3', 'niveau|4']) {
    const html = await distributionCharts(release, release.rollups[k], groupLabel(k, names, 'hele sector'));
    if (html) charts.push(`<h3>${esc(groupLabel(k, names, 'Hele sector'))}</h3>${html}`);
  }
  const body =
    `
<p>Sectorcijfers over verzuim en uitval in jaar 1, ` +
    `berekend uit versleutelde bijdragen van ${nlInt(release.institutions)} mbo-instellingen. ` +
    `Geen instelling en geen student is hierin herkenbaar: ` +
    `cijfers die daarvoor te klein zijn, zijn weggelaten (zie <a href="#bescherming">Bescherming</a>).</p>
${metaList(release, manifest, meta)}
<nav aria-label="Inhoud"><ul>
<li><a href="#sector">De sector in één oogopslag</a></li>
<li><a href="#reeks">Ontwikkeling over de studiejaren</a></li>
<li><a href="#sectorkamers">Sectorkamers en hun opleidingen</a></li>
<li><a href="#verdelingen">Verdelingen van instellingen</a></li>
<li><a href="#bescherming">Bescherming</a></li>
<li><a href="#downloads">Downloads</a></li>
</ul></nav>
<h2 id="sector">De sector in één oogopslag</h2>
${scrollTable('Sector, niveaus en leerwegen', figureHeader('Groep'), top)}
<h2 id="reeks">Ontwikkeling over de studiejaren</h2>
${await trendHtml(release, meta, 'total', 'Hele sector', 'hele sector', 'reeks-tabel')}
<h2 id="sectorkamers">Sectorkamers en hun opleidingen</h2>
<p>Kies een sectorkamer voor de cijfers per opleiding.</p>
${scrollTable('Sectorkamers', figureHeader('Sectorkamer'), sk)}
<h2 id="verdelingen">Verdelingen van instellingen</h2>
<p>Hoeveel instellingen vallen in elke klasse van hun eigen percentage? ` +
    `Zo kan een instelling zich plaatsen zonder dat een andere instelling herkenbaar is. ` +
    `Verzuim telt mee vanaf 10 beoordeelde inschrijvingen, uitval vanaf 10 starters.</p>
${charts.join('\n') || '<p>In deze publicatie zijn geen verdelingen gepubliceerd (te weinig instellingen).</p>'}
<h2 id="bescherming">Bescherming</h2>
${protectionHtml(release, counts)}
<h2 id="downloads">Downloads</h2>
${downloadsList()}
<h2 id="uitleg">Uitleg van de cijfers</h2>
<p>Verzuim = afwezige minuten (geoorloofd en ongeoorloofd) / geregistreerde minuten. ` +
    `Chronisch verzuim = aandeel inschrijvingen met minstens 10% verzuim. ` +
    `16-uurssignaal = aandeel inschrijvingen met minstens 16 uur ongeoorloofd verzuim in 4 opeenvolgende lesweken. ` +
    `Uitval = starters die binnen een jaar zonder diploma vertrokken / starters. ` +
    `Startersresultaat = (nog ingeschreven + met diploma vertrokken) / starters. ` +
    `Doorstroom = starters die een jaar later op een hoger niveau staan. ` +
    `Instellingen: het aantal instellingen achter de verzuim- en de startercijfers.</p>`;
  return htmlPage({
    title: `Benchmark verzuim en uitval ${release.studiejaar} — sectorcijfers`,
    h1: `Benchmark verzuim en uitval, studiejaar ${release.studiejaar}`,
    body,
  });
}

/** The crebo of a cell key (`crebo|niveau|leerweg`). */
function creboOf(cellKey: string): string {
  return cellKey.split('|')[0] ?? '';
}

/**
 * One programme's row on a sectorkamer page; a row with a withheld block links to its niveau's
 * row of the sectorkamer, where the figures may be published.
 */
function cellRow(k: string, row: ReleaseRow, names: Names, code: string, t: Release['thresholds']): string {
  const niveau = k.split('|')[1] ?? '';
  const widen =
    blockRule(row, 'A') || blockRule(row, 'B')
      ? `<br><a class="muted" href="#g-${esc(code)}-${esc(niveau)}">naar niveau ${esc(niveau)} van de sectorkamer</a>`
      : '';
  return figureRow(
    `${esc(cellShortLabel(k, names))} <span class="muted">(crebo ${esc(creboOf(k))})</span>${widen}`,
    row,
    t,
  );
}

async function sectorkamerPage(
  release: Release,
  manifest: RoundManifest,
  meta: SiteMeta,
  names: Names,
  code: string,
  name: string,
): Promise<string> {
  const t = release.thresholds;
  const groups = Object.entries(release.rollups)
    .filter(([k]) => k === `sectorkamer|${code}` || k.startsWith(`sectorkamer_niveau|${code}|`))
    .sort(([a], [b]) => groupRank(a) - groupRank(b) || (a < b ? -1 : 1));
  const groupRows = groups
    .map(([k, row]) =>
      figureRow(
        esc(k.startsWith('sectorkamer|') ? 'Hele sectorkamer' : `Niveau ${k.split('|')[2]}`),
        row,
        t,
        `g-${k.split('|').slice(1).join('-')}`,
      ),
    )
    .join('\n');
  const crebos = new Set(manifest.codebook.entries.filter((e) => e.sectorkamer_code === code).map((e) => e.crebo));
  const cells = Object.entries(release.cells)
    .filter(([k]) => crebos.has(creboOf(k)))
    .sort(([a], [b]) => cellShortLabel(a, names).localeCompare(cellShortLabel(b, names), 'nl'));
  const offeredCells = cells.filter(([, row]) => offered(row));
  const notOffered = cells.filter(([, row]) => !offered(row)).map(([k]) => k);
  const cellRows = offeredCells.map(([k, row]) => cellRow(k, row, names, code, t)).join('\n');
  const charts: string[] = [];
  for (const [k, row] of groups) {
    const label = k.startsWith('sectorkamer|') ? `sectorkamer ${name}` : `${name}, niveau ${k.split('|')[2]}`;
    const html = await distributionCharts(release, row, label);
    if (html) charts.push(`<h3>${esc(label[0]?.toUpperCase() + label.slice(1))}</h3>${html}`);
  }
  const body =
    `
<p>Sectorcijfers van ronde ${esc(release.round_id)} (studiejaar ${esc(release.studiejaar)}, versie ${nlInt(release.release_version)}) voor de sectorkamer ` +
    `${esc(name)}: ${nlInt(offeredCells.length)} van de ${nlInt(cells.length)} ` +
    `opleidingen (per leerweg) worden door deelnemende instellingen aangeboden.</p>
<h2 id="totaal">De sectorkamer en haar niveaus</h2>
${scrollTable(`Sectorkamer ${name}`, figureHeader('Groep'), groupRows)}
<h2 id="reeks">Ontwikkeling over de studiejaren</h2>
${await trendHtml(release, meta, `sectorkamer|${code}`, `Sectorkamer ${name}`, `sectorkamer ${name}`, 'reeks-tabel')}
<h2 id="opleidingen">Opleidingen</h2>
<p class="note">Staat er bij een opleiding "niet gepubliceerd"? ${esc(WIDEN_NL)} Elke opleiding linkt naar haar niveau in de tabel hierboven.</p>
${
  offeredCells.length
    ? scrollTable(`Opleidingen in sectorkamer ${name}`, figureHeader('Opleiding'), cellRows)
    : '<p>Geen deelnemende instelling ' + 'biedt een opleiding van deze sectorkamer aan.</p>'
}
${
  notOffered.length
    ? `<h2 id="niet-aangeboden">Niet aangeboden</h2>` +
      `<p>Deze opleidingen uit het codeboek worden door geen enkele deelnemende instelling aangeboden; ` +
      `er zijn dus geen cijfers (niets weggelaten):</p>` +
      `<ul>${notOffered.map((k) => `<li>${esc(cellShortLabel(k, names))} (crebo ${esc(creboOf(k))})</li>`).join('')}</ul>`
    : ''
}
<h2 id="verdelingen">Verdelingen van instellingen</h2>
${charts.join('\n') || '<p>Voor deze sectorkamer zijn geen verdelingen gepubliceerd.</p>'}
<h2 id="downloads">Downloads</h2>
${downloadsList()}
<footer>${metaList(release, manifest, meta)}</footer>`;
  return htmlPage({
    title: `Sectorkamer ${name} — benchmark verzuim en uitval ${release.studiejaar}`,
    h1: `Sectorkamer ${name}: verzuim en uitval ${release.studiejaar}`,
    crumbs: `<a href="${SITE_FILES.index}">Overzicht sector</a> › Sectorkamer ${esc(name)}`,
    body,
  });
}

/**
 * Every file of the site, by file name: `index.html`, `sectorkamer-<code>.html` per
 * sectorkamer, `release.json` (the stored signed bytes), `release.csv`, `release-excel.csv`.
 */
export async function renderReleaseSite(
  release: Release,
  manifest: RoundManifest,
  meta: SiteMeta & { json: string },
): Promise<Map<string, string>> {
  const names = namesOfManifest(manifest);
  const files = new Map<string, string>();
  files.set(SITE_FILES.index, await indexPage(release, manifest, meta, names));
  for (const { code, name } of sectorkamers(names, manifest))
    files.set(sectorkamerFile(code), await sectorkamerPage(release, manifest, meta, names, code, name));
  files.set(SITE_FILES.json, meta.json);
  files.set(SITE_FILES.csv, renderReleaseCsv(release));
  files.set(SITE_FILES.excel, renderReleaseExcelCsv(release, names));
  return files;
}
