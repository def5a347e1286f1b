/**
 * The reference side of the import fuzz: reads an accepted mutant's records with csv-parse (not
 * the node's reader), writes them in canonical form (comma, UTF-8, ISO dates) and computes the
 * METRICS.md vector with the independent DuckDB rendering (bench/ingest/duckdb-vector.ts).
 * Nothing here uses node/ or shared/csv, so a disagreement points at one of the two sides.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import type { VectorJson } from '../../shared/metrics/vector.js';
import { duckdbVector } from '../ingest/duckdb-vector.js';

const ENROLMENT_COLUMNS = [
  'student_id',
  'enrolment_id',
  'birth_date',
  'crebo',
  'niveau',
  'leerweg',
  'start_date',
  'end_date',
  'exit_reason',
];
const ATTENDANCE_COLUMNS = ['enrolment_id', 'date', 'minutes', 'status', 'start_time'];

/** Records of one file as INPUT.md reads it: header names lower-cased, values trimmed. */
export function referenceRecords(bytes: Buffer): { header: string[]; rows: string[][] } {
  let b = bytes;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  let text = isUtf8(b) ? b.toString('utf8') : iconv.decode(b, 'win1252');
  text = text.replace(/\r\n|\r/g, '\n').replace(/^[ \t]*\n+/, '');
  let delimiter = ',';
  const first = text.slice(0, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n'));
  const sep = /^sep=(.)\s*$/i.exec(first);
  if (sep) {
    delimiter = sep[1] as string;
    text = text.slice(first.length + 1);
  } else {
    let best = 0;
    for (const d of [',', ';', '|', '\t']) {
      const n = first.split(d).length - 1;
      if (n > best) {
        best = n;
        delimiter = d;
      }
    }
  }
  const records = parse(text, {
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    ltrim: true,
    rtrim: true,
  }) as string[][];
  const [header = [], ...rows] = records;
  return { header: header.map((h) => h.trim().toLowerCase()), rows: rows.map((r) => r.map((v) => v.trim())) };
}

/** A day-first date (D-M-YYYY) in ISO form; other values unchanged. */
function iso(v: string): string {
  const m = /^(\d{1,2})-(\d{1,2})-(\d{4})$/.exec(v);
  return m ? `${m[3]}-${(m[2] as string).padStart(2, '0')}-${(m[1] as string).padStart(2, '0')}` : v;
}

function canonical(rec: { header: string[]; rows: string[][] }, columns: string[], dates: string[]): string {
  const present = columns.filter((c) => rec.header.includes(c));
  const idx = present.map((c) => rec.header.indexOf(c));
  const q = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const out = [present.join(',')];
  for (const r of rec.rows) {
    out.push(idx.map((i, k) => q(dates.includes(present[k] as string) ? iso(r[i] ?? '') : (r[i] ?? ''))).join(','));
  }
  return `${out.join('\n')}\n`;
}

const cache = new Map<string, VectorJson>();

/**
 * The reference vector of an accepted mutant. Canonical files go to `dir`; results are cached by
 * the canonical content (many mutants have the same records as the base or as each other).
 */
export async function referenceVector(
  m: { enrolments: Buffer; attendance: Buffer },
  codebook: string,
  year: number,
  dir: string,
): Promise<VectorJson> {
  const enr = canonical(referenceRecords(m.enrolments), ENROLMENT_COLUMNS, ['birth_date', 'start_date', 'end_date']);
  const att = canonical(referenceRecords(m.attendance), ATTENDANCE_COLUMNS, ['date']);
  const key = createHash('sha256').update(enr).update('\0').update(att).digest('hex');
  const hit = cache.get(key);
  if (hit) return hit;
  const e = join(dir, 'ref-enrolments.csv');
  const a = join(dir, 'ref-attendance.csv');
  writeFileSync(e, enr);
  writeFileSync(a, att);
  const v = await duckdbVector({ codebook, enrolments: e, attendance: a, year, threads: 1 });
  cache.set(key, v);
  return v;
}

/** How many distinct record sets the reference computed (DuckDB runs). */
export function referenceRuns(): number {
  return cache.size;
}
