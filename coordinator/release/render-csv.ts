import type { Release, ReleaseRow } from '../../schemas/release.js';

const FIELDS = ['row_type', 'key', 'slot', 'value', 'suppressed_rule', 'institutions_a', 'institutions_b'] as const;

function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A release as CSV (RFC 4180, UTF-8, `\r\n`), one line per published figure:
 * `row_type,key,slot,value,suppressed_rule,institutions_a,institutions_b`; `row_type` is `cell`
 * or `group`, a suppressed figure has an empty value and its rule. A row's distributions of
 * institutions' rates follow its slots as `c_abs_bin_0..9` / `c_drop_bin_0..9` (number of
 * institutions per bin of METRICS.md block C; empty with the rule when withheld). The signed JSON
 * stays the authoritative document; this rendering is for spreadsheets.
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 5
 */
export function renderReleaseCsv(release: Release): string {
  const lines = [FIELDS.join(',')];
  const emit = (type: 'cell' | 'group', key: string, row: ReleaseRow) => {
    for (const slot of Object.keys(row.slots).sort()) {
      const v = row.slots[slot] ?? null;
      lines.push(
        [type, key, slot, v, row.suppressed[slot]?.rule ?? null, row.institutions.a, row.institutions.b]
          .map(csvField)
          .join(','),
      );
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
  for (const key of Object.keys(release.cells).sort()) emit('cell', key, release.cells[key] as ReleaseRow);
  for (const key of Object.keys(release.rollups).sort()) emit('group', key, release.rollups[key] as ReleaseRow);
  return `${lines.join('\r\n')}\r\n`;
}
