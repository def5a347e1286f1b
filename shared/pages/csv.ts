import { excelNumber } from './format-nl.js';

/** One CSV value: a string, a number, or null (empty). */
export type CsvValue = string | number | null | undefined;

function field(s: string, sep: string): string {
  return s.includes(sep) || /["\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Machine CSV (RFC 4180): `,` separator, `.` decimal point, numbers unformatted, UTF-8 without
 * BOM, `\r\n` line ends.
 */
export function machineCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const line = (r: readonly CsvValue[]) =>
    r.map((v) => field(v === null || v === undefined ? '' : String(v), ',')).join(',');
  return `${[line(header), ...rows.map(line)].join('\r\n')}\r\n`;
}

/**
 * CSV for Dutch Excel: `;` separator, decimal comma, UTF-8 with a byte order mark (so Excel
 * reads é and ≥ correctly), `\r\n` line ends. Numbers are written without thousands grouping
 * so Excel reads them as numbers.
 */
export function excelCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const line = (r: readonly CsvValue[]) =>
    r.map((v) => field(typeof v === 'number' ? excelNumber(v) : (v ?? ''), ';')).join(';');
  return `\ufeff${[line(header), ...rows.map(line)].join('\r\n')}\r\n`;
}
