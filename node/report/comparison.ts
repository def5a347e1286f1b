import type { Release } from '../../schemas/release.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { DERIVED, formatShare, type Sums } from '../../shared/metrics/derived.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS, CELL_SLOT_INDEX } from '../../shared/metrics/slots.js';
import type { ContributionVector } from '../../shared/metrics/vector.js';

export interface ComparisonRow {
  kind: 'cell' | 'rollup';
  key: string;
  label: string;
  own: { enrolments: number; starters: number; figures: Record<string, number | null> };
  sector: {
    institutions: { a: number; b: number };
    enrolments: number | null;
    starters: number | null;
    figures: Record<string, number | null>;
    suppressed: Record<string, string>;
  };
}

const AB = [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS];

function ownSums(rows: number[][]): Sums {
  const s: Sums = {};
  for (const slot of AB) s[slot] = rows.reduce((a, r) => a + (r[CELL_SLOT_INDEX[slot] as number] as number), 0);
  return s;
}

function figures(s: Sums): Record<string, number | null> {
  return Object.fromEntries(DERIVED.map((d) => [d.id, d.compute(s)]));
}

function blockRules(suppressed: Record<string, { rule: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  const a = BLOCK_A_SLOTS.find((s) => suppressed[s]);
  const b = BLOCK_B_SLOTS.find((s) => suppressed[s]);
  if (a) out.A = (suppressed[a] as { rule: string }).rule;
  if (b) out.B = (suppressed[b] as { rule: string }).rule;
  return out;
}

/**
 * The institution's comparison (issue 4, node benchmark): its own figures beside the sector's,
 * per cell and rollup where it has enrolments or starters. Computed and written on the node
 * only; own figures never leave it.
 */
export function buildComparison(codebook: Codebook, own: ContributionVector, release: Release): ComparisonRow[] {
  const out: ComparisonRow[] = [];
  const names = new Map(codebook.entries.map((e) => [e.crebo, e.name]));
  const push = (
    kind: 'cell' | 'rollup',
    key: string,
    label: string,
    ownRows: number[][],
    sec: Release['cells'][string] | undefined,
  ) => {
    const o = ownSums(ownRows);
    if ((o.a_enrolments as number) === 0 && (o.b_starters as number) === 0) return;
    out.push({
      kind,
      key,
      label,
      own: { enrolments: o.a_enrolments as number, starters: o.b_starters as number, figures: figures(o) },
      sector: sec
        ? {
            institutions: sec.institutions,
            enrolments: sec.slots.a_enrolments ?? null,
            starters: sec.slots.b_starters ?? null,
            figures: figures(sec.slots),
            suppressed: blockRules(sec.suppressed),
          }
        : {
            institutions: { a: 0, b: 0 },
            enrolments: null,
            starters: null,
            figures: figures({}),
            suppressed: { A: 'not_released', B: 'not_released' },
          },
    });
  };
  codebook.cellKeys.forEach((k, i) => {
    const [crebo, niveau, leerweg] = k.split('|');
    push(
      'cell',
      k,
      `${names.get(crebo as string) ?? crebo} (niveau ${niveau}, ${leerweg})`,
      [own.cells[i] as number[]],
      release.cells[k],
    );
  });
  codebook.groupKeys.forEach((g) => {
    const cells = (codebook.groupCells.get(g) ?? []).map((i) => own.cells[i] as number[]);
    push('rollup', g, rollupLabel(g), cells, release.rollups[g]);
  });
  return out;
}

export function rollupLabel(g: string): string {
  const p = g.split('|');
  switch (p[0]) {
    case 'total':
      return 'Hele instelling / sector';
    case 'niveau':
      return `Niveau ${p[1]}`;
    case 'leerweg':
      return p[1] as string;
    case 'sectorkamer':
      return `Sectorkamer ${p[1]}`;
    default:
      return `Sectorkamer ${p[1]}, niveau ${p[2]}`;
  }
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const RULE_NL: Record<string, string> = {
  min_institutions: 'te weinig instellingen',
  min_population: 'te weinig studenten',
  dominance: 'één instelling domineert',
  secondary: 'beschermt een andere cel',
  min_institutions_distribution: 'te weinig instellingen in de verdeling',
  not_released: 'niet gepubliceerd',
};

/** The comparison as an HTML page (Dutch), static, no scripts. */
export function comparisonHtml(
  rows: ComparisonRow[],
  meta: {
    institutionId: string;
    roundId: string;
    studiejaar: string;
    releaseVersion: number;
    keyHolderFingerprint: string;
    generatedAt: string;
  },
): string {
  const figs = DERIVED;
  // Colour only where the difference is at least one percentage point and the direction is
  // meaningful: light red where the institution does worse than the sector, light green better.
  const cell = (own: number | null, sec: number | null, rule: string | undefined, higherIsBetter: boolean | null) => {
    const diff = own !== null && sec !== null ? own - sec : null;
    const cls =
      diff === null || higherIsBetter === null || Math.abs(diff) < 0.01
        ? ''
        : diff > 0 === higherIsBetter
          ? 'better'
          : 'worse';
    return `<td>${formatShare(own)}</td><td class="${cls}">${rule ? `<span class="sup" title="${esc(RULE_NL[rule] ?? rule)}">onderdrukt</span>` : formatShare(sec)}</td>`;
  };
  // The institution as a whole and its groups first, then the programmes.
  const ordered = [...rows.filter((r) => r.kind === 'rollup'), ...rows.filter((r) => r.kind === 'cell')];
  const body = ordered
    .map((r) => {
      const tds = figs
        .map((f) =>
          cell(
            r.own.figures[f.id] ?? null,
            r.sector.figures[f.id] ?? null,
            r.sector.suppressed[f.block],
            f.higherIsBetter,
          ),
        )
        .join('');
      return `<tr class="${r.kind}"><th scope="row">${esc(r.label)}<br><small>${esc(r.key)}</small></th><td>${r.own.enrolments}</td><td>${r.own.starters}</td><td>${r.sector.institutions.a}/${r.sector.institutions.b}</td>${tds}</tr>`;
    })
    .join('\n');
  const head = figs.map((f) => `<th colspan="2" scope="colgroup">${esc(f.label)}</th>`).join('');
  const sub = figs.map(() => '<th>eigen</th><th>sector</th>').join('');
  return `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Benchmark ${esc(meta.institutionId)} – ${esc(meta.studiejaar)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:right}th[scope=row]{text-align:left}tr.rollup{background:#f3f6fa}.sup{color:#888;font-style:italic}.worse{background:#fdecea}.better{background:#e8f5e9}small{color:#666}</style></head>
<body>
<h1>Benchmark verzuim en uitval – ${esc(meta.institutionId)}</h1>
<p>Ronde <b>${esc(meta.roundId)}</b>, studiejaar ${esc(meta.studiejaar)}, release versie ${meta.releaseVersion}. De sectorcijfers zijn ondertekend door de sleutelbeheerder (vingerafdruk ${esc(meta.keyHolderFingerprint)}) en gecontroleerd op deze computer.</p>
<p>De eigen cijfers zijn op deze computer berekend en hebben de instelling niet verlaten. "Onderdrukt" betekent dat de sleutelbeheerder het sectorcijfer niet publiceert om instellingen of kleine groepen te beschermen. Instellingen: aantal instellingen achter blok A (verzuim) / blok B (uitval). <span class="worse">Lichtrood</span>: de instelling scoort minstens 1 procentpunt ongunstiger dan de sector; <span class="better">lichtgroen</span>: gunstiger.</p>
<table><thead><tr><th rowspan="2">Opleiding of groep</th><th rowspan="2">Inschrijvingen</th><th rowspan="2">Starters</th><th rowspan="2">Instellingen</th>${head}</tr><tr>${sub}</tr></thead>
<tbody>
${body}
</tbody></table>
<p><small>Gemaakt ${esc(meta.generatedAt)} door sectorbench.</small></p>
</body></html>
`;
}

/** The comparison as CSV: one line per row and figure. */
export function comparisonCsv(rows: ComparisonRow[]): string {
  const lines = [
    'kind,key,figure,own,sector,sector_suppressed_rule,own_enrolments,own_starters,sector_institutions_a,sector_institutions_b',
  ];
  for (const r of rows) {
    for (const f of DERIVED) {
      const own = r.own.figures[f.id];
      const sec = r.sector.figures[f.id];
      lines.push(
        [
          r.kind,
          r.key,
          f.id,
          own === null || own === undefined ? '' : own.toFixed(6),
          sec === null || sec === undefined ? '' : sec.toFixed(6),
          r.sector.suppressed[f.block] ?? '',
          r.own.enrolments,
          r.own.starters,
          r.sector.institutions.a,
          r.sector.institutions.b,
        ].join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}
