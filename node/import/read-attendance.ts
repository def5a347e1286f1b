import { readCsv, type CsvHeader, type CsvReadOptions } from '../../shared/csv/read-csv.js';
import type { AttendanceMapping } from '../../schemas/mapping-file.js';
import { LessonKeys } from './attendance/lesson-keys.js';
import { AttendanceRowParser, type EnrolmentIndex } from './attendance/row-parser.js';
import { WeekFold } from './attendance/week-fold.js';
import type { EnrolmentTable } from './enrolment-table.js';
import type { ProblemLog } from './problems.js';
import { lessonKey, WeekTable } from './week-table.js';

export { timeCode } from './attendance/lesson-values.js';

export interface AttendanceRead {
  header: CsvHeader;
  records: number;
  weeks: WeekTable;
  hasStartTime: boolean;
  /** Observations dropped because their enrolment row was rejected (under --max-errors). */
  droppedWithEnrolment: number;
  /** Rows rejected as duplicate lessons (under --max-errors). */
  duplicates: number;
  maxDate: number | null;
}

/**
 * Read attendance.csv and fold every observation into weekly sums per enrolment
 * ({@link WeekTable}); observations themselves are never stored. Validates each row
 * (INPUT.md "attendance.csv"), including unique (enrolment_id, date, start_time) when the
 * column exists (METRICS.md "Time frame"): keys are collected as numbers and sorted, and only
 * when duplicates exist is the file read a second time to name their lines.
 * The parts: attendance/row-parser.ts (validation), week-fold.ts (weekly sums),
 * lesson-keys.ts (uniqueness).
 */
export async function readAttendance(
  path: string,
  file: string,
  problems: ProblemLog,
  enrolments: EnrolmentIndex & { table: EnrolmentTable },
  mapping: AttendanceMapping | undefined,
  csv: CsvReadOptions,
  sizeHint: number,
): Promise<AttendanceRead> {
  const rows = new AttendanceRowParser(file, enrolments, mapping);
  const fold = new WeekFold(new WeekTable(1 << 16), enrolments.table.startDate, enrolments.table.endDate);
  const keys = new LessonKeys(sizeHint);
  let dropped = 0;
  let maxDate: number | null = null;

  const summary = await readCsv(
    path,
    (h) => rows.onHeader(h),
    (f, line) => {
      const r = rows.parse(f, line, problems);
      if (r === 'dropped') {
        dropped++;
        return;
      }
      if (r === null) {
        problems.rowsRejected++;
        return;
      }
      if (maxDate === null || r.day > maxDate) maxDate = r.day;
      fold.add(r.idx, r.day, r.minutes, r.status, 1);
      if (r.time >= 0) keys.add(lessonKey(r.idx, r.day, r.time));
    },
    csv,
  );

  const dup = keys.duplicates();
  const duplicates = dup.size > 0 ? await removeDuplicateLessons(path, file, problems, rows, fold, dup, csv) : 0;
  return {
    header: summary.header,
    records: summary.records,
    weeks: fold.weeks,
    hasStartTime: rows.hasStartTime,
    droppedWithEnrolment: dropped,
    duplicates,
    maxDate,
  };
}

/**
 * Second pass, only on this error path: name the lines of duplicate lessons (each after the
 * first) and take them out of the weekly sums again. Returns how many rows were duplicates.
 */
async function removeDuplicateLessons(
  path: string,
  file: string,
  problems: ProblemLog,
  rows: AttendanceRowParser,
  fold: WeekFold,
  dup: Set<number>,
  csv: CsvReadOptions,
): Promise<number> {
  const firstSeen = new Map<number, number>();
  let duplicates = 0;
  await readCsv(
    path,
    () => {},
    (f, line) => {
      const r = rows.parse(f, line, null);
      if (r === null || r === 'dropped' || r.time < 0) return;
      const k = lessonKey(r.idx, r.day, r.time);
      if (!dup.has(k)) return;
      const first = firstSeen.get(k);
      if (first === undefined) {
        firstSeen.set(k, line);
        return;
      }
      duplicates++;
      problems.rowsRejected++;
      problems.add({
        file,
        line,
        column: 'start_time',
        reason: `duplicate lesson: the same enrolment_id, date and start_time are on line ${first}`,
      });
      fold.add(r.idx, r.day, r.minutes, r.status, -1);
    },
    { ...csv, onProgress: undefined, onChunk: undefined, onWarning: undefined },
  );
  return duplicates;
}
