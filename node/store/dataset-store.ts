import type { EnrolmentTable } from '../import/enrolment-table.js';
import { W, WEEK_COLUMNS, WEEK_WIDTH, type WeekTable } from '../import/week-table.js';
import type { NodeDb } from './node-db.js';
import { z } from 'zod';

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
    for (let k = 0; k < order.length; k++) {
      const o = (order[k] as number) * WEEK_WIDTH;
      for (let c = 0; c < WEEK_WIDTH; c++) vals[c] = a[o + c] as number;
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
      ((a[o + W.enrolment] as number) * 131_072 + ((a[o + W.monday] as number) + 25_600)) * 512 +
      ((a[o + W.sy] as number) - 1900);
  }
  const idx = new Uint32Array(n);
  for (let r = 0; r < n; r++) idx[r] = r;
  idx.sort((x, y) => (keys[x] as number) - (keys[y] as number));
  return idx;
}

export interface StoredDataset {
  meta: DatasetMeta;
  enrolments: EnrolmentTable;
}

/** Read the dataset metadata and enrolments; null when nothing was imported yet. */
export function loadDataset(db: NodeDb): StoredDataset | null {
  const m = db.prepare('SELECT * FROM dataset WHERE id = 1').get() as Record<string, unknown> | undefined;
  if (!m) return null;
  const meta: DatasetMeta = {
    importedAt: m.imported_at as string,
    enrolmentsFile: m.enrolments_file as string,
    enrolmentsSha256: m.enrolments_sha256 as string,
    enrolmentsRecords: m.enrolments_records as number,
    enrolmentsEncoding: m.enrolments_encoding as string,
    attendanceFile: m.attendance_file as string,
    attendanceSha256: m.attendance_sha256 as string,
    attendanceRecords: m.attendance_records as number,
    attendanceEncoding: m.attendance_encoding as string,
    rowsSkipped: m.rows_skipped as number,
    observationsDropped: m.observations_dropped as number,
    problemsTotal: m.problems_total as number,
    hasBirthDate: m.has_birth_date === 1,
    hasStartTime: m.has_start_time === 1,
    maxDate: (m.max_date as number | null) ?? null,
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
  const rows = db.prepare('SELECT * FROM enrolment ORDER BY idx').raw().iterate() as IterableIterator<unknown[]>;
  for (const r of rows) {
    t.studentId.push(r[1] as string);
    t.enrolmentId.push(r[2] as string);
    t.birthDate.push(r[3] as number | null);
    t.crebo.push(r[4] as string);
    t.niveau.push(r[5] as number);
    t.leerweg.push(r[6] as 'BOL' | 'BBL');
    t.startDate.push(r[7] as number);
    t.endDate.push(r[8] as number | null);
    t.diploma.push(r[9] === 1);
    t.line.push(r[10] as number);
  }
  return { meta, enrolments: t };
}

/**
 * The weekly rows (in enrolment, monday order) as arrays of WEEK_COLUMNS. Lazy: the statement
 * runs only when iterated, and for-of closes it on early exit, so the connection never stays busy.
 */
export function iterateWeeks(db: NodeDb): Iterable<number[]> {
  const stmt = db.prepare(`SELECT ${WEEK_COLUMNS.join(', ')} FROM enrolment_week ORDER BY rowid`).raw();
  return { [Symbol.iterator]: () => stmt.iterate() as IterableIterator<number[]> };
}

const ImportSummaryRow = z.object({ imported_at: z.string(), enrolments_records: z.number().int() });

/** When the dataset was imported and how many enrolment records it has; null before any import. */
export function datasetImportSummary(db: NodeDb): { importedAt: string; enrolmentRecords: number } | null {
  const r = db.prepare('SELECT imported_at, enrolments_records FROM dataset WHERE id = 1').get();
  if (r === undefined) return null;
  const p = ImportSummaryRow.parse(r);
  return { importedAt: p.imported_at, enrolmentRecords: p.enrolments_records };
}
