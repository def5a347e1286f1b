/**
 * The comparison as downloads beside its page: JSON, machine CSV (`,`, decimal point) and a
 * CSV for Dutch Excel (`;`, decimal comma, UTF-8 BOM). One line per row and figure.
 */
import { type CsvValue, excelCsv, machineCsv } from '../../shared/pages/csv.js';
import type { Comparison } from './comparison.js';

const MACHINE_HEADER = [
  'kind',
  'key',
  'figure',
  'own',
  'without_us',
  'sector',
  'own_population',
  'limit95_low',
  'limit95_high',
  'limit998_low',
  'limit998_high',
  'verdict',
  'sector_suppressed_rule',
  'own_enrolments',
  'own_starters',
  'sector_institutions_a',
  'sector_institutions_b',
  'label',
] as const;

const EXCEL_HEADER = [
  'soort',
  'sleutel',
  'cijfer',
  'eigen',
  'sector zonder ons',
  'hele sector',
  'eigen populatie',
  '95%-grens onder',
  '95%-grens boven',
  '99,8%-grens onder',
  '99,8%-grens boven',
  'oordeel',
  'sectorcijfer niet gepubliceerd (regel)',
  'eigen inschrijvingen',
  'eigen starters',
  'instellingen verzuim (sector)',
  'instellingen uitval (sector)',
  'opleiding of groep',
] as const;

function lines(c: Comparison): CsvValue[][] {
  const out: CsvValue[][] = [];
  for (const r of c.rows) {
    for (const f of r.figures) {
      out.push([
        r.kind,
        r.key,
        f.id,
        f.own,
        f.withoutUs,
        f.sector,
        f.ownN,
        f.limits?.lo95,
        f.limits?.hi95,
        f.limits?.lo998,
        f.limits?.hi998,
        f.verdict,
        f.sectorRule,
        r.own.enrolments,
        r.own.starters,
        r.sector.institutions.a,
        r.sector.institutions.b,
        `${r.label} — ${f.label}`,
      ]);
    }
  }
  return out;
}

const round6 = (v: CsvValue): CsvValue => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v);

/** Machine CSV: RFC 4180, `,` separator, numbers with a decimal point (6 decimals). */
export function comparisonCsv(c: Comparison): string {
  return machineCsv(
    MACHINE_HEADER,
    lines(c).map((l) => l.map(round6)),
  );
}

/** CSV for Dutch Excel: `;`, decimal comma, UTF-8 with BOM, Dutch column names. */
export function comparisonExcelCsv(c: Comparison): string {
  return excelCsv(
    EXCEL_HEADER,
    lines(c).map((l) => l.map(round6)),
  );
}

/** The comparison as JSON (the same figures as the page; local file, never sent). */
export function comparisonJson(c: Comparison): string {
  const { names: _names, ...rest } = c;
  return `${JSON.stringify({ type: 'sectorbench.comparison', version: 1, ...rest }, null, 2)}\n`;
}
