import type { EnrolmentTable } from '../import/enrolment-table.js';
import { W, WEEK_COLUMNS, WEEK_WIDTH, type WeekTable } from '../import/week-table.js';
import type { NodeDb } from './node-db.js';
import { z } from 'zod';
import { getAt } from '../../shared/arrays/checked-index.js';
import { SbError } from '../../shared/errors/sb-error.js';

export interface DatasetMeta {
  importedAt: string;
  enrolmentsFile: string;
  enrolmentsSha256: string;
  enrolmentsRecords: number;
  enrolmentsEncoding: string;
  attendanceFile: string;
  attendanceSha256: string;
  attendanceRecords: number;
  attendanceEncoding: string;
  rowsSkipped: number;
  observationsDropped: number;
  problemsTotal: number;
  hasBirthDate: boolean;
  hasStartTime: boolean;
  maxDate: number | null;
}

/**
 * Replace the node's dataset in one transaction: either the whole new dataset is there, or the
 * previous one is untouched (INPUT.md "Bad input": all or nothing).
 */
export function replaceDataset(
  db: NodeDb,
  meta: DatasetMeta,
  t: EnrolmentTable,
  weeks: WeekTable,
  onRows?: (n: number) => void,
): void {
  const insEnr = db.prepare(
    'INSERT INTO enrolment (idx, student_id, enrolment_id, birth_date, crebo, niveau, leerweg, ' +
      'start_date, end_date, diploma, line) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
  );
  const insWeek = db.prepare(
    `INSERT INTO enrolment_week (${WEEK_COLUMNS.join(', ')}) VALUES (${WEEK_COLUMNS.map(() => '?').join(',')})`,
  );
  const insMeta = db.prepare(
    `INSERT INTO dataset (id, imported_at, enrolments_file, enrolments_sha256, enrolments_records, enrolments_encoding,
      attendance_file, attendance_sha256, attendance_records, attendance_encoding, rows_skipped, observations_dropped,
      problems_total, has_birth_date, has_start_time, max_date) VALUES (1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  );
  // Rows in (enrolment, monday, part) order, so readers can stream them without an index.
  const order = sortedRows(weeks);
  db.transaction(() => {
    db.exec('DELETE FROM enrolment_week; DELETE FROM enrolment; DELETE FROM dataset;');
    insMeta.run(
      meta.importedAt,
      meta.enrolmentsFile,
      meta.enrolmentsSha256,
      meta.enrolmentsRecords,
      meta.enrolmentsEncoding,
      meta.attendanceFile,
      meta.attendanceSha256,
      meta.attendanceRecords,
      meta.attendanceEncoding,
      meta.rowsSkipped,
      meta.observationsDropped,
      meta.problemsTotal,
      meta.hasBirthDate ? 1 : 0,
      meta.hasStartTime ? 1 : 0,
      meta.maxDate,
    );
    for (let i = 0; i < t.enrolmentId.length; i++) {
      insEnr.run(
        i,
        t.studentId[i],
        t.enrolmentId[i],
        t.birthDate[i],
        t.crebo[i],
        t.niveau[i],
        t.leerweg[i],
        t.startDate[i],
        t.endDate[i],
        t.diploma[i] ? 1 : 0,
        t.line[i],
      );
    }
    const a = weeks.data;
    const vals = new Array<number>(WEEK_WIDTH);
    for (const [k, row] of order.entries()) {
      const o = row * WEEK_WIDTH;
      for (let c = 0; c < WEEK_WIDTH; c++) vals[c] = getAt(a, o + c);
      if (a[o + W.n_all] === 0) continue; // emptied by a removed duplicate
      insWeek.run(vals);
      if (onRows && (k & 0x3ffff) === 0) onRows(k);
    }
  })();
}

function sortedRows(weeks: WeekTable): Uint32Array {
  const n = weeks.rows;
  const a = weeks.data;
  const keys = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const o = r * WEEK_WIDTH;
    keys[r] =
      (getAt(a, o + W.enrolment) * 131_072 + (getAt(a, o + W.monday) + 25_600)) * 512 + (getAt(a, o + W.sy) - 1900);
  }
  const idx = new Uint32Array(n);
  for (let r = 0; r < n; r++) idx[r] = r;
  idx.sort((x, y) => getAt(keys, x) - getAt(keys, y));
  return idx;
}

export interface StoredDataset {
  meta: DatasetMeta;
  enrolments: EnrolmentTable;
}

/** Read the dataset metadata and enrolments; null when nothing was imported yet. */
export function loadDataset(db: NodeDb): StoredDataset | null {
  const raw = db.prepare('SELECT * FROM dataset WHERE id = 1').get();
  if (raw === undefined) return null;
  const parsed = DatasetRow.safeParse(raw);
  if (!parsed.success) throw corrupt('dataset', 'its import record');
  const m = parsed.data;
  const meta: DatasetMeta = {
    importedAt: m.imported_at,
    enrolmentsFile: m.enrolments_file,
    enrolmentsSha256: m.enrolments_sha256,
    enrolmentsRecords: m.enrolments_records,
    enrolmentsEncoding: m.enrolments_encoding,
    attendanceFile: m.attendance_file,
    attendanceSha256: m.attendance_sha256,
    attendanceRecords: m.attendance_records,
    attendanceEncoding: m.attendance_encoding,
    rowsSkipped: m.rows_skipped,
    observationsDropped: m.observations_dropped,
    problemsTotal: m.problems_total,
    hasBirthDate: m.has_birth_date === 1,
    hasStartTime: m.has_start_time === 1,
    maxDate: m.max_date ?? null,
  };
  const t: EnrolmentTable = {
    studentId: [],
    enrolmentId: [],
    birthDate: [],
    crebo: [],
    niveau: [],
    leerweg: [],
    startDate: [],
    endDate: [],
    diploma: [],
    line: [],
  };
  for (const r of db.prepare('SELECT * FROM enrolment ORDER BY idx').raw().iterate()) {
    if (!Array.isArray(r)) throw corrupt('enrolment', 'a row');
    t.studentId.push(textAt(r, 1));
    t.enrolmentId.push(textAt(r, 2));
    t.birthDate.push(intOrNullAt(r, 3));
    t.crebo.push(textAt(r, 4));
    t.niveau.push(intAt(r, 5));
    const leerweg = r[6];
    if (leerweg !== 'BOL' && leerweg !== 'BBL') throw corrupt('enrolment', 'column 6 (leerweg)');
    t.leerweg.push(leerweg);
    t.startDate.push(intAt(r, 7));
    t.endDate.push(intOrNullAt(r, 8));
    t.diploma.push(r[9] === 1);
    t.line.push(intAt(r, 10));
  }
  return { meta, enrolments: t };
}

/** The `dataset` row as node-db.ts declares it (one row, id 1). */
const DatasetRow = z.object({
  imported_at: z.string(),
  enrolments_file: z.string(),
  enrolments_sha256: z.string(),
  enrolments_records: z.number(),
  enrolments_encoding: z.string(),
  attendance_file: z.string(),
  attendance_sha256: z.string(),
  attendance_records: z.number(),
  attendance_encoding: z.string(),
  rows_skipped: z.number(),
  observations_dropped: z.number(),
  problems_total: z.number(),
  has_birth_date: z.number(),
  has_start_time: z.number(),
  max_date: z.number().nullable().optional(),
});

/** `SB_ERR_STORE_CORRUPT` for a stored dataset value of the wrong type (names the table and column, never a value). */
function corrupt(table: string, where: string): SbError {
  return new SbError(
    'SB_ERR_STORE_CORRUPT',
    `the stored ${table} table in node.sqlite is damaged (${where} has the wrong type); restore the ` +
      "node's database from a backup (sectorbench node restore) or import the exports again.",
    { table },
  );
}

/** Column `i` of an enrolment row, a TEXT NOT NULL column. */
function textAt(r: readonly unknown[], i: number): string {
  const x = r[i];
  if (typeof x !== 'string') throw corrupt('enrolment', `column ${i}`);
  return x;
}

/** Column `i` of an enrolment row, an INTEGER NOT NULL column. */
function intAt(r: readonly unknown[], i: number): number {
  const x = r[i];
  if (typeof x !== 'number') throw corrupt('enrolment', `column ${i}`);
  return x;
}

/** Column `i` of an enrolment row, a nullable INTEGER column. */
function intOrNullAt(r: readonly unknown[], i: number): number | null {
  const x = r[i];
  if (x !== null && typeof x !== 'number') throw corrupt('enrolment', `column ${i}`);
  return x;
}

/**
 * The weekly rows (in enrolment, monday order) as arrays of WEEK_COLUMNS. Lazy: the statement
 * runs only when iterated, and for-of closes it on early exit, so the connection never stays busy.
 */
export function iterateWeeks(db: NodeDb): Iterable<number[]> {
  // Every enrolment_week column is INTEGER NOT NULL (node-db.ts) and replaceDataset writes only
  // numbers, so a raw row is a number[]; a per-row check would cost on the hottest read path.
  const stmt = db.prepare<[], number[]>(`SELECT ${WEEK_COLUMNS.join(', ')} FROM enrolment_week ORDER BY rowid`).raw();
  return { [Symbol.iterator]: () => stmt.iterate() };
}

const ImportSummaryRow = z.object({ imported_at: z.string(), enrolments_records: z.number().int() });

/** When the dataset was imported and how many enrolment records it has; null before any import. */
export function datasetImportSummary(db: NodeDb): { importedAt: string; enrolmentRecords: number } | null {
  const r = db.prepare('SELECT imported_at, enrolments_records FROM dataset WHERE id = 1').get();
  if (r === undefined) return null;
  const p = ImportSummaryRow.parse(r);
  return { importedAt: p.imported_at, enrolmentRecords: p.enrolments_records };
}
