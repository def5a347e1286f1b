import type { RoundManifest } from '../../schemas/manifest.js';
import type { Release, ReleaseRow } from '../../schemas/release.js';
import { fingerprint } from '../../shared/crypto/identity.js';
import { DERIVED, type DerivedFigure } from '../../shared/metrics/derived.js';
import { escapeHtml } from './html.js';
import { distributionsSection, protectionSection } from './render-disclosure.js';

export { escapeHtml };

/** Dutch labels of the suppression rules. */
export const RULE_LABELS: Readonly<Record<string, string>> = Object.freeze({
  min_institutions: 'te weinig instellingen',
  min_population: 'te kleine populatie',
  dominance: 'één instelling domineert',
  min_institutions_distribution: 'te weinig instellingen voor een verdeling',
  secondary: 'secundaire onderdrukking',
  keyholder_only: 'alleen bij de sleutelhouder',
});

type Figure = { kind: 'value'; value: number } | { kind: 'suppressed'; rule: string } | { kind: 'missing' };

function slot(row: ReleaseRow, name: string): Figure {
  if (!(name in row.slots)) return { kind: 'missing' };
  const v = row.slots[name];
  if (v === null || v === undefined) return { kind: 'suppressed', rule: row.suppressed[name]?.rule ?? 'secondary' };
  return { kind: 'value', value: v };
}

const nl = new Intl.NumberFormat('nl-NL');
const pct = new Intl.NumberFormat('nl-NL', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

function suppressedCell(rule: string): string {
  return `<td class="sup" title="${escapeHtml(RULE_LABELS[rule] ?? rule)}">onderdrukt <small>(${escapeHtml(rule)})</small></td>`;
}

function countCell(f: Figure): string {
  if (f.kind === 'suppressed') return suppressedCell(f.rule);
  if (f.kind === 'missing') return '<td class="na">—</td>';
  return `<td class="num">${nl.format(f.value)}</td>`;
}

const FIGURES = new Map<string, DerivedFigure>(DERIVED.map((d) => [d.id, d]));

/** A derived rate (shared/metrics/derived.ts); its block is suppressed or published as a whole. */
function rateCell(row: ReleaseRow, id: string): string {
  const d = FIGURES.get(id) as DerivedFigure;
  const population = slot(row, d.block === 'A' ? 'a_enrolments' : 'b_starters');
  if (population.kind === 'suppressed') return suppressedCell(population.rule);
  const value = population.kind === 'missing' ? null : d.compute(row.slots);
  return value === null ? '<td class="na">—</td>' : `<td class="num">${pct.format(value)}</td>`;
}

/** The published figures and derived rates of one row (METRICS.md "Derived figures"). */
function figureCells(row: ReleaseRow): string {
  return [
    `<td class="num">${nl.format(row.institutions.a)} / ${nl.format(row.institutions.b)}</td>`,
    countCell(slot(row, 'a_enrolments')),
    rateCell(row, 'attendance_rate'),
    rateCell(row, 'absence_unauthorized_rate'),
    countCell(slot(row, 'b_starters')),
    rateCell(row, 'startersresultaat'),
    rateCell(row, 'dropout_share'),
  ].join('');
}

const HEAD =
  '<th>Instellingen (A / B)</th><th>Inschrijvingen</th><th>Aanwezigheid</th><th>Ongeoorloofd verzuim</th><th>Starters</th><th>Startersresultaat</th><th>Uitval</th>';

function groupLabel(key: string, names: Map<string, string>): string {
  const p = key.split('|');
  switch (p[0]) {
    case 'total':
      return 'Totaal sector';
    case 'niveau':
      return `Niveau ${p[1]}`;
    case 'leerweg':
      return `Leerweg ${p[1]}`;
    case 'sectorkamer':
      return `Sectorkamer ${names.get(p[1] as string) || p[1]}`;
    case 'sectorkamer_niveau':
      return `Sectorkamer ${names.get(p[1] as string) || p[1]}, niveau ${p[2]}`;
    default:
      return key;
  }
}

/**
 * The benchmark page of a release, in Dutch: per opleiding (cell) and per rollup group the
 * published sector figures and derived rates (aanwezigheid = a_min_present / a_min_registered,
 * ongeoorloofd verzuim = a_min_abs_unauth / a_min_registered, startersresultaat =
 * (b_retained + b_left_diploma) / b_starters, uitval = dropouts / b_starters), "onderdrukt" with
 * the rule where a figure was withheld, the number of institutions, the thresholds and the key
 * holder's fingerprint; the key holder's disclosure outcome ("Bescherming": summary, withheld
 * blocks per rule, the audit's verdict) and the distributions of institutions' rates for the
 * total and niveau rollups (render-disclosure.ts). Static HTML and CSS, no scripts; every text
 * is escaped.
 * @see ../../../shared/spec/METRICS.md "Derived figures"
 */
export function renderReleaseHtml(
  release: Release,
  manifest: RoundManifest,
  meta: { digest: string; versions: number[] },
): string {
  const crebo = new Map(manifest.codebook.entries.map((e) => [e.crebo, e]));
  const skNames = new Map(
    manifest.codebook.entries.map((e) => [
      e.sectorkamer_code,
      e.sectorkamer_name ? `${e.sectorkamer_code} (${e.sectorkamer_name})` : e.sectorkamer_code,
    ]),
  );
  const khKey = new Uint8Array(Buffer.from(manifest.key_holder_endorsement.ed25519_public_key, 'base64'));
  const t = release.thresholds;
  const cellRows = Object.keys(release.cells)
    .sort()
    .map((key) => {
      const [c, niveau, leerweg] = key.split('|') as [string, string, string];
      const name = crebo.get(c)?.name ?? '';
      return `<tr><th scope="row">${escapeHtml(c)} ${escapeHtml(name)}</th><td>${escapeHtml(niveau)}</td><td>${escapeHtml(leerweg)}</td>${figureCells(release.cells[key] as ReleaseRow)}</tr>`;
    })
    .join('\n');
  const groupOrder = (k: string) =>
    ['total', 'niveau', 'leerweg', 'sectorkamer', 'sectorkamer_niveau'].indexOf(k.split('|')[0] as string);
  const groupRows = Object.keys(release.rollups)
    .sort((a, b) => groupOrder(a) - groupOrder(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(
      (key) =>
        `<tr><th scope="row">${escapeHtml(groupLabel(key, skNames))}</th>${figureCells(release.rollups[key] as ReleaseRow)}</tr>`,
    )
    .join('\n');
  const base = `/v1/rounds/${encodeURIComponent(release.round_id)}`;
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Benchmark verzuim en uitval ${escapeHtml(release.studiejaar)} — ronde ${escapeHtml(release.round_id)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;line-height:1.4}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
thead th{background:#eef2f6;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.sup{color:#8a4b00;background:#fff6e8}td.na{color:#888;text-align:center}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
code{font-size:.85em;word-break:break-all}footer{margin-top:2rem;font-size:.85rem;color:#555}
caption{text-align:left;font-weight:600;padding:.25rem 0;caption-side:top}table.small{font-size:.85rem;margin:.5rem 0 1rem}
.dists{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}table.dist td.sup{vertical-align:top;max-width:9rem}p.audit{max-width:60rem}
</style>
</head>
<body>
<h1>Benchmark verzuim en uitval, studiejaar ${escapeHtml(release.studiejaar)}</h1>
<p>Sectorcijfers van ronde <strong>${escapeHtml(release.round_id)}</strong>, berekend uit versleutelde bijdragen van ${nl.format(release.institutions)} instellingen.
Geen enkele instelling en geen enkele student is hierin herkenbaar: cijfers die de drempels niet halen zijn <em>onderdrukt</em>.</p>
<dl>
<dt>Versie</dt><dd>${release.release_version} (van ${meta.versions.length}), gepubliceerd ${escapeHtml(release.published_at)}</dd>
<dt>Metriekspecificatie</dt><dd>${escapeHtml(release.metric_spec)}</dd>
<dt>Aantal instellingen</dt><dd>${nl.format(release.institutions)}</dd>
<dt>Drempels</dt><dd>minimaal ${t.min_institutions} instellingen en ${t.min_population} studenten per cijfer; één instelling hoogstens ${pct.format(t.dominance_share)} van de populatie; verdelingen vanaf ${t.min_institutions_distribution} instellingen</dd>
<dt>Sleutelhouder (vingerafdruk)</dt><dd><code>${escapeHtml(fingerprint(khKey))}</code></dd>
<dt>Digest van deze publicatie</dt><dd><code>${escapeHtml(meta.digest)}</code></dd>
<dt>Downloads</dt><dd><a href="${base}/release?version=${release.release_version}">JSON (ondertekend)</a> · <a href="${base}/release.csv?version=${release.release_version}">CSV</a></dd>
</dl>
${protectionSection(release)}
<h2>Totalen en groepen</h2>
<table>
<thead><tr><th>Groep</th>${HEAD}</tr></thead>
<tbody>
${groupRows}
</tbody>
</table>
${distributionsSection(release)}
<h2>Per opleiding</h2>
<table>
<thead><tr><th>Opleiding</th><th>Niveau</th><th>Leerweg</th>${HEAD}</tr></thead>
<tbody>
${cellRows}
</tbody>
</table>
<footer>
<p>Aanwezigheid = aanwezige minuten / geregistreerde minuten; ongeoorloofd verzuim = ongeoorloofd afwezige minuten / geregistreerde minuten;
startersresultaat = (nog ingeschreven + met diploma vertrokken) / starters; uitval = starters zonder diploma vertrokken / starters.
Instellingen A / B: aantal instellingen achter de verzuim- (A) en startercijfers (B).
Controleer de handtekening van de sleutelhouder in de JSON-versie met <code>sectorbench node</code>.</p>
</footer>
</body>
</html>
`;
}
