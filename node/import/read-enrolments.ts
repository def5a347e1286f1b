import { readCsv, type CsvHeader, type CsvReadOptions } from '../../shared/csv/read-csv.js';
import type { EnrolmentsMapping } from '../../schemas/mapping-file.js';
import { DateColumn } from './date-column.js';
import { emptyEnrolmentTable, type EnrolmentTable } from './enrolment-table.js';
import type { ProblemLog } from './problems.js';
import { shapeOf } from './value-shape.js';
import { locateColumns, widthProblem } from './columns.js';

export interface EnrolmentsRead {
  table: EnrolmentTable;
  header: CsvHeader;
  records: number;
  /** enrolment_id -> index in table */
  byId: Map<string, number>;
  /** enrolment ids of rows that were rejected (their observations are dropped with them). */
  rejectedIds: Set<string>;
  hasBirthDate: boolean;
  /** Latest date in the file (start or end), for the "export looks old" warning. */
  maxDate: number | null;
}

const COLS = [
  { name: 'student_id', required: true },
  { name: 'enrolment_id', required: true },
  { name: 'birth_date', required: false },
  { name: 'crebo', required: true },
  { name: 'niveau', required: true },
  { name: 'leerweg', required: true },
  { name: 'start_date', required: true },
  { name: 'end_date', required: false },
  { name: 'exit_reason', required: false },
] as const;
type Col = (typeof COLS)[number]['name'];

function lowerKeys<V>(o: Record<string, V> | undefined): Map<string, V> {
  return new Map(Object.entries(o ?? {}).map(([k, v]) => [k.trim().toLowerCase(), v]));
}

/** What checking a row consults: the mapping's spellings, the date columns, the ids seen so far. */
interface EnrolmentRowContext {
  file: string;
  problems: ProblemLog;
  /** enrolment_id -> line it was first seen on (also for rows refused later). */
  firstLine: Map<string, number>;
  niveauMap: Map<string, string>;
  leerwegMap: Map<string, string>;
  dates: Record<DateCol, DateColumn>;
}

type DateCol = 'birth_date' | 'start_date' | 'end_date';

/** The values of a valid row (trimmed, mapped, dates as day numbers). */
interface EnrolmentRow {
  studentId: string;
  enrolmentId: string;
  birth: number | null;
  crebo: string;
  niveau: number;
  leerweg: 'BOL' | 'BBL';
  start: number;
  end: number | null;
}

/** Reports one problem of a row (and marks the row as refused). */
type RowProblem = (column: Col, reason: string) => void;

/**
 * Check one row of the usual width; every problem is logged (never with its value, only its
 * shape). Returns the row's values, or null when it is refused.
 */
function checkEnrolmentRow(get: (c: Col) => string, line: number, ctx: EnrolmentRowContext): EnrolmentRow | null {
  let bad = false;
  const problem: RowProblem = (column, reason) => {
    bad = true;
    ctx.problems.add({ file: ctx.file, line, column, reason });
  };
  const studentId = get('student_id');
  if (!studentId) problem('student_id', 'is empty');
  const enrolmentId = get('enrolment_id');
  if (!enrolmentId) problem('enrolment_id', 'is empty');
  else if (ctx.firstLine.has(enrolmentId))
    problem('enrolment_id', `is a duplicate: the same enrolment_id is on line ${ctx.firstLine.get(enrolmentId)}`);
  else ctx.firstLine.set(enrolmentId, line);
  const { crebo, niveau, leerweg } = checkCodes(get, ctx, problem);
  const date = (c: DateCol, required: boolean): number | null => checkDate(get(c), c, required, ctx, problem);
  const birth = date('birth_date', false);
  const start = date('start_date', true);
  const end = date('end_date', false);
  if (start !== null && end !== null && end < start) problem('end_date', 'is before start_date');
  if (bad || start === null || leerweg === null) return null;
  return { studentId, enrolmentId, birth, crebo, niveau, leerweg, start, end };
}

/** crebo (5 digits), niveau (1..4) and leerweg (BOL/BBL) after the mapping's spellings; null leerweg when refused. */
function checkCodes(
  get: (c: Col) => string,
  ctx: EnrolmentRowContext,
  problem: RowProblem,
): { crebo: string; niveau: number; leerweg: 'BOL' | 'BBL' | null } {
  const crebo = get('crebo');
  if (!/^\d{5}$/.test(crebo)) problem('crebo', crebo ? `${shapeOf(crebo)} is not a 5-digit crebo code` : 'is empty');
  const niveauText = get('niveau');
  const niveauCanon = ctx.niveauMap.get(niveauText.toLowerCase()) ?? niveauText;
  if (!['1', '2', '3', '4'].includes(niveauCanon))
    problem(
      'niveau',
      `${niveauText ? shapeOf(niveauText) : 'empty'} is not 1, 2, 3 or 4 (map other spellings in the mapping file)`,
    );
  const lwText = get('leerweg');
  const lw = ctx.leerwegMap.get(lwText.toLowerCase()) ?? lwText;
  const leerweg = lw === 'BOL' || lw === 'BBL' ? lw : null;
  if (leerweg === null)
    problem(
      'leerweg',
      `${lwText ? shapeOf(lwText) : 'empty'} is not BOL or BBL (map other spellings in the mapping file)`,
    );
  return { crebo, niveau: Number(niveauCanon), leerweg };
}

/** One date cell as a day number; null when empty (a problem if required) or refused. */
function checkDate(
  s: string,
  c: DateCol,
  required: boolean,
  ctx: EnrolmentRowContext,
  problem: RowProblem,
): number | null {
  if (!s) {
    if (required) problem(c, 'is empty');
    return null;
  }
  const r = ctx.dates[c].parse(s);
  if (typeof r === 'string') {
    problem(c, `${shapeOf(s)} ${r}`);
    return null;
  }
  return r;
}

/** Append a valid row to the table and index it by enrolment_id. */
function addEnrolment(
  t: EnrolmentTable,
  byId: Map<string, number>,
  row: EnrolmentRow,
  diploma: boolean,
  line: number,
): void {
  byId.set(row.enrolmentId, t.enrolmentId.length);
  t.studentId.push(row.studentId);
  t.enrolmentId.push(row.enrolmentId);
  t.birthDate.push(row.birth);
  t.crebo.push(row.crebo);
  t.niveau.push(row.niveau);
  t.leerweg.push(row.leerweg);
  t.startDate.push(row.start);
  t.endDate.push(row.end);
  t.diploma.push(diploma);
  t.line.push(line);
}

/**
 * Read enrolments.csv into an {@link EnrolmentTable}, validating every row (INPUT.md,
 * "enrolments.csv" and "Bad input"). Problems are logged, never thrown, so one run reports them all.
 * No value is ever echoed in problems, only its shape ({@link shapeOf}): a shifted row can put
 * an id, a birth date or a name in any column.
 */
export async function readEnrolments(
  path: string,
  file: string,
  problems: ProblemLog,
  mapping: EnrolmentsMapping | undefined,
  csv: CsvReadOptions,
): Promise<EnrolmentsRead> {
  const t = emptyEnrolmentTable();
  const byId = new Map<string, number>();
  const rejectedIds = new Set<string>();
  const ctx: EnrolmentRowContext = {
    file,
    problems,
    firstLine: new Map<string, number>(),
    niveauMap: lowerKeys(mapping?.values?.niveau),
    leerwegMap: lowerKeys(mapping?.values?.leerweg),
    dates: { birth_date: new DateColumn(), start_date: new DateColumn(), end_date: new DateColumn() },
  };
  const diplomaReasons = new Set(['diploma', ...(mapping?.diploma ?? []).map((d) => d.trim().toLowerCase())]);
  // Until the header is read no column is present.
  let col: Record<Col, number> = {
    student_id: -1,
    enrolment_id: -1,
    birth_date: -1,
    crebo: -1,
    niveau: -1,
    leerweg: -1,
    start_date: -1,
    end_date: -1,
    exit_reason: -1,
  };
  let width = 0;
  let maxDate: number | null = null;

  const summary = await readCsv(
    path,
    (h) => {
      col = locateColumns(h, file, [...COLS], mapping?.columns ?? {});
      width = h.names.length;
    },
    (f, line) => {
      const get = (c: Col) => (col[c] >= 0 ? (f[col[c]] ?? '').trim() : '');
      // A row of another width is shifted or glued to the next one: report that alone.
      const w = widthProblem(f, width);
      if (w) problems.add({ file, line, column: '(row)', reason: w });
      const row = w ? null : checkEnrolmentRow(get, line, ctx);
      if (!row) {
        problems.rowsRejected++;
        const id = get('enrolment_id');
        if (id) rejectedIds.add(id);
        return;
      }
      if (maxDate === null || row.start > maxDate) maxDate = row.start;
      if (row.end !== null && row.end > maxDate) maxDate = row.end;
      addEnrolment(t, byId, row, diplomaReasons.has(get('exit_reason').toLowerCase()), line);
    },
    csv,
  );
  // A duplicate enrolment_id (refused unless --max-errors) keeps the first row; observations go to it.
  return {
    table: t,
    header: summary.header,
    records: summary.records,
    byId,
    rejectedIds,
    hasBirthDate: col.birth_date >= 0,
    maxDate,
  };
}
