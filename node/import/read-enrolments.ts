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
  const firstLine = new Map<string, number>();
  const niveauMap = lowerKeys(mapping?.values?.niveau);
  const leerwegMap = lowerKeys(mapping?.values?.leerweg);
  const diplomaReasons = new Set(['diploma', ...(mapping?.diploma ?? []).map((d) => d.trim().toLowerCase())]);
  const dates = { birth_date: new DateColumn(), start_date: new DateColumn(), end_date: new DateColumn() };
  let col = {} as Record<Col, number>;
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
      let bad = false;
      const problem = (column: Col, reason: string) => {
        bad = true;
        problems.add({ file, line, column, reason });
      };
      // A row of another width is shifted or glued to the next one: report that alone.
      const w = widthProblem(f, width);
      if (w) {
        problems.add({ file, line, column: '(row)', reason: w });
        problems.rowsRejected++;
        const id = get('enrolment_id');
        if (id) rejectedIds.add(id);
        return;
      }
      const studentId = get('student_id');
      if (!studentId) problem('student_id', 'is empty');
      const enrolmentId = get('enrolment_id');
      if (!enrolmentId) problem('enrolment_id', 'is empty');
      else if (firstLine.has(enrolmentId))
        problem('enrolment_id', `is a duplicate: the same enrolment_id is on line ${firstLine.get(enrolmentId)}`);
      else firstLine.set(enrolmentId, line);
      const crebo = get('crebo');
      if (!/^\d{5}$/.test(crebo))
        problem('crebo', crebo ? `${shapeOf(crebo)} is not a 5-digit crebo code` : 'is empty');
      const niveauText = get('niveau');
      const niveauCanon = niveauMap.get(niveauText.toLowerCase()) ?? niveauText;
      if (!['1', '2', '3', '4'].includes(niveauCanon))
        problem(
          'niveau',
          `${niveauText ? shapeOf(niveauText) : 'empty'} is not 1, 2, 3 or 4 (map other spellings in the mapping file)`,
        );
      const lwText = get('leerweg');
      const lw = leerwegMap.get(lwText.toLowerCase()) ?? lwText;
      if (lw !== 'BOL' && lw !== 'BBL')
        problem(
          'leerweg',
          `${lwText ? shapeOf(lwText) : 'empty'} is not BOL or BBL (map other spellings in the mapping file)`,
        );
      const date = (c: 'birth_date' | 'start_date' | 'end_date', required: boolean): number | null => {
        const s = get(c);
        if (!s) {
          if (required) problem(c, 'is empty');
          return null;
        }
        const r = dates[c].parse(s);
        if (typeof r === 'string') {
          problem(c, `${shapeOf(s)} ${r}`);
          return null;
        }
        return r;
      };
      const birth = date('birth_date', false);
      const start = date('start_date', true);
      const end = date('end_date', false);
      if (start !== null && end !== null && end < start) problem('end_date', 'is before start_date');
      if (bad) {
        problems.rowsRejected++;
        if (enrolmentId) rejectedIds.add(enrolmentId);
        return;
      }
      if (maxDate === null || (start as number) > maxDate) maxDate = start;
      if (end !== null && end > (maxDate as number)) maxDate = end;
      byId.set(enrolmentId, t.enrolmentId.length);
      t.studentId.push(studentId);
      t.enrolmentId.push(enrolmentId);
      t.birthDate.push(birth);
      t.crebo.push(crebo);
      t.niveau.push(Number(niveauCanon));
      t.leerweg.push(lw as 'BOL' | 'BBL');
      t.startDate.push(start as number);
      t.endDate.push(end);
      t.diploma.push(diplomaReasons.has(get('exit_reason').toLowerCase()));
      t.line.push(line);
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
