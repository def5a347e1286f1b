import type { Release, ReleaseRow } from '../../schemas/release.js';
import { DERIVED, type DerivedFigure } from '../../shared/metrics/derived.js';
import { figureRule, publishedSlot } from '../../shared/metrics/withheld.js';
import { type CsvValue, excelCsv } from '../../shared/pages/csv.js';
import { cellShortLabel, groupLabel, type Names } from '../../shared/pages/labels.js';
import { ruleSentence } from '../../shared/pages/rules-nl.js';

const FIELDS = ['row_type', 'key', 'slot', 'value', 'suppressed_rule', 'institutions_a', 'institutions_b'] as const;

function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A release as CSV (RFC 4180, UTF-8, `\r\n`), one line per published figure:
 * `row_type,key,slot,value,suppressed_rule,institutions_a,institutions_b`; `row_type` is `cell`
 * or `group`, a suppressed figure has an empty value and its rule (a slot of a block withheld as a
 * whole, i.e. with a null population slot, has the block's rule). A row's distributions of
 * institutions' rates follow its slots as `c_abs_bin_0..9` / `c_drop_bin_0..9` (number of
 * institutions per bin of METRICS.md block C; empty with the rule when withheld). The signed JSON
 * stays the authoritative document; this rendering is for spreadsheets.
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 5
 */
export function renderReleaseCsv(release: Release): string {
  const lines = [FIELDS.join(',')];
  const emit = (type: 'cell' | 'group', key: string, row: ReleaseRow) => {
    for (const slot of Object.keys(row.slots).sort()) {
      const { value, rule } = publishedSlot(row, slot);
      lines.push([type, key, slot, value, rule, row.institutions.a, row.institutions.b].map(csvField).join(','));
    }
    const dist = row.distributions;
    if (!dist) return;
    for (const which of ['c_abs_bin', 'c_drop_bin'] as const) {
      const h = dist[which];
      for (let k = 0; k < 10; k++)
        lines.push(
          [
            type,
            key,
            `${which}_${k}`,
            h ? (h[k] as number) : null,
            h ? null : (dist.suppressed[which]?.rule ?? null),
            row.institutions.a,
            row.institutions.b,
          ]
            .map(csvField)
            .join(','),
        );
    }
  };
  for (const [key, row] of Object.entries(release.cells).sort(byKey)) emit('cell', key, row);
  for (const [key, row] of Object.entries(release.rollups).sort(byKey)) emit('group', key, row);
  return `${lines.join('\r\n')}\r\n`;
}

/** Entries in the order `Object.keys(...).sort()` gives their keys (UTF-16 code units). */
function byKey([a]: readonly [string, unknown], [b]: readonly [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A derived figure's value and rule for the Excel CSV: withheld (empty, with the rule) when its
 * block is withheld or it needs a singly withheld slot, so a missing sum never enters a rate;
 * otherwise its value (empty without a rule when it has no denominator).
 */
function derivedCells(row: ReleaseRow, d: DerivedFigure): [number | null, string | null] {
  const rule = figureRule(row, d.id, d.block);
  return rule ? [null, rule] : [d.compute(row.slots), null];
}

/**
 * The release for Dutch Excel (`;`, decimal comma, UTF-8 BOM): one line per row and published
 * figure — first the derived rates of METRICS.md (as fractions, e.g. `0,125`), then the sums —
 * with the programme or group name, and the reason in Dutch where a figure was withheld.
 */
export function renderReleaseExcelCsv(release: Release, names: Names): string {
  const header = [
    'soort',
    'sleutel',
    'naam',
    'cijfer',
    'waarde',
    'niet gepubliceerd omdat',
    'instellingen verzuim',
    'instellingen uitval',
  ];
  const rows: CsvValue[][] = [];
  const emit = (type: 'opleiding' | 'groep', key: string, name: string, row: ReleaseRow) => {
    const why = (rule: string | null | undefined) => (rule ? ruleSentence(rule, release.thresholds) : null);
    const base = [type, key, name] as const;
    for (const d of DERIVED) {
      const [v, rule] = derivedCells(row, d);
      rows.push([...base, d.label, v, why(rule), row.institutions.a, row.institutions.b]);
    }
    for (const slot of Object.keys(row.slots).sort()) {
      const { value, rule } = publishedSlot(row, slot);
      rows.push([...base, slot, value, why(rule), row.institutions.a, row.institutions.b]);
    }
  };
  for (const [key, row] of Object.entries(release.cells).sort(byKey))
    emit('opleiding', key, cellShortLabel(key, names), row);
  for (const [key, row] of Object.entries(release.rollups).sort(byKey))
    emit('groep', key, groupLabel(key, names, 'Hele sector'), row);
  return excelCsv(header, rows);
}
