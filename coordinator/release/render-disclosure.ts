/**
 * The protection parts of the benchmark page (Dutch, static HTML, escaped): the key holder's
 * disclosure outcome of a release ("Bescherming") and the distributions of institutions'
 * rates for the total and niveau rollups.
 *
 * @see ../../../shared/spec/METRICS.md block C (bins); docs/DISCLOSURE.md
 */
import type { Release, ReleaseRow } from '../../schemas/release.js';
import { ABS_BIN_EDGES, DROP_BIN_EDGES, binLabel } from '../../shared/pages/bins.js';
import { escapeHtml } from './html.js';

const nl = new Intl.NumberFormat('nl-NL');
const pctNl = new Intl.NumberFormat('nl-NL', { style: 'percent', maximumFractionDigits: 1 });

export { ABS_BIN_EDGES, DROP_BIN_EDGES, binLabel } from '../../shared/pages/bins.js';

/** Why a block or a distribution was withheld, in plain Dutch (with the round's thresholds). */
export function ruleSentence(rule: string, t: Release['thresholds']): string {
  switch (rule) {
    case 'min_institutions':
      return `minder dan ${t.min_institutions} instellingen`;
    case 'min_population':
      return `minder dan ${t.min_population} studenten`;
    case 'dominance':
      return `één instelling heeft meer dan ${pctNl.format(t.dominance_share)} van de studenten`;
    case 'secondary':
      return 'weggelaten zodat een ander weggelaten cijfer niet terug te rekenen is';
    case 'min_institutions_distribution':
      return `minder dan ${t.min_institutions_distribution} instellingen in de verdeling`;
    case 'keyholder_only':
      return 'alleen bij de sleutelhouder';
    default:
      return rule;
  }
}

/**
 * The "Bescherming" section: the key holder's Dutch summary, the withheld blocks and
 * distributions per rule, and the audit's verdict and method in one sentence. Empty for a
 * release without a disclosure outcome (earlier versions of the key holder).
 */
export function protectionSection(release: Release): string {
  const d = release.disclosure;
  if (!d) return '';
  const t = release.thresholds;
  const rows = Object.entries(d.rules)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
    .map(
      ([rule, n]) => `<tr><td>${escapeHtml(ruleSentence(rule, t))}</td><td class="num">${nl.format(n ?? 0)}</td></tr>`,
    );
  const withheld = Object.entries(d.distributions.withheld)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([rule, n]) => `${nl.format(n ?? 0)} wegens ${ruleSentence(rule, t)}`);
  const iv = d.audit.intervals;
  const versions =
    d.audit.versions.compared.length > 0
      ? ` en met eerdere versies (${d.audit.versions.compared.join(', ')}) vergeleken`
      : '';
  const audit =
    `De sleutelhouder heeft deze publicatie vóór ondertekening gecontroleerd en goedgekeurd: van alle ${nl.format(d.audit.checked_blocks)} weggelaten blokken is met exacte rekenkunde (breuken, geen afronding) bewezen dat geen enkel cijfer terug te rekenen is uit totalen en gepubliceerde delen, ` +
    `en voor ${nl.format(iv.checked)} om privacy weggelaten aantallen studenten dat ze alleen binnen een marge van minstens ${nl.format(d.protection.min_width)} en ${d.protection.ratio_num}/${d.protection.ratio_den} van de waarde te schatten zijn (met gehele voorbeeldtabellen of lineaire programmering)${versions}.`;
  return `<h2 id="bescherming">Bescherming</h2>
<p>${escapeHtml(d.summary_nl)}</p>
<table class="small">
<caption>Weggelaten blokken per reden (een blok is het verzuimdeel A of het startersdeel B van een rij)</caption>
<thead><tr><th>Reden</th><th>Blokken</th></tr></thead>
<tbody>
${rows.join('\n') || '<tr><td colspan="2">geen</td></tr>'}
<tr><th scope="row">Gepubliceerd</th><td class="num">${nl.format(d.blocks.published)}</td></tr>
</tbody>
</table>
<p>Verdelingen van instellingen: ${nl.format(d.distributions.published)} gepubliceerd${withheld.length ? `; weggelaten: ${escapeHtml(withheld.join(', '))}` : ''}.</p>
<p class="audit"><strong>Controle: geslaagd.</strong> ${escapeHtml(audit)}</p>`;
}

type DistKey = 'c_abs_bin' | 'c_drop_bin';

function distributionTable(
  release: Release,
  groups: readonly { key: string; label: string }[],
  which: DistKey,
  caption: string,
  edges: readonly number[],
): string {
  const rows = groups.map((g) => ({ ...g, row: release.rollups[g.key] as ReleaseRow }));
  const head = rows.map((r) => `<th scope="col">${escapeHtml(r.label)}</th>`).join('');
  const body: string[] = [];
  for (let k = 0; k < 10; k++) {
    const cells = rows
      .map((r) => {
        const dist = r.row.distributions;
        const h = dist?.[which];
        if (h) return `<td class="num">${nl.format(h[k] as number)}</td>`;
        if (k > 0) return '';
        const rule = dist?.suppressed[which]?.rule;
        const reason = rule ? ruleSentence(rule, release.thresholds) : 'niet beschikbaar in deze versie';
        return `<td class="sup" rowspan="11">niet gepubliceerd (${escapeHtml(reason)})</td>`;
      })
      .join('');
    body.push(`<tr><th scope="row">${escapeHtml(binLabel(edges, k))}</th>${cells}</tr>`);
  }
  const totals = rows.map((r) => {
    const h = r.row.distributions?.[which];
    return h ? `<td class="num"><strong>${nl.format(h.reduce((a, b) => a + b, 0))}</strong></td>` : '';
  });
  body.push(`<tr><th scope="row">Instellingen in de verdeling</th>${totals.join('')}</tr>`);
  return `<table class="small dist">
<caption>${escapeHtml(caption)}</caption>
<thead><tr><th scope="col">Percentage</th>${head}</tr></thead>
<tbody>
${body.join('\n')}
</tbody>
</table>`;
}

/**
 * The distributions of institutions' rates (block C histograms) for the total and niveau
 * rollups: per bin the number of institutions, or "niet gepubliceerd (reden)". Empty when the
 * release has none of those rollups.
 */
export function distributionsSection(release: Release): string {
  const niveaus = Object.keys(release.rollups)
    .filter((k) => k.startsWith('niveau|'))
    .sort();
  const groups = [
    ...(release.rollups.total ? [{ key: 'total', label: 'Totaal sector' }] : []),
    ...niveaus.map((k) => ({ key: k, label: `Niveau ${k.slice('niveau|'.length)}` })),
  ];
  if (groups.length === 0) return '';
  return `<h2 id="verdelingen">Verdelingen van instellingen</h2>
<p>Hoeveel instellingen vallen in elke klasse van hun eigen percentage? Zo kan een instelling zich plaatsen zonder dat andere instellingen herkenbaar zijn.
Verzuim telt alleen mee bij minstens 10 beoordeelde studenten, uitval bij minstens 10 starters.</p>
<div class="dists">
${distributionTable(release, groups, 'c_abs_bin', 'Verdeling van instellingen naar verzuimpercentage (geoorloofd en ongeoorloofd afwezige minuten / geregistreerde minuten)', ABS_BIN_EDGES)}
${distributionTable(release, groups, 'c_drop_bin', 'Verdeling van instellingen naar uitvalpercentage (starters zonder diploma vertrokken / starters)', DROP_BIN_EDGES)}
</div>`;
}
