import type { ProblemLog } from '../problems.js';
import { lessonKey } from '../week-table.js';
import type { LessonKeys } from './lesson-keys.js';
import type { AttendanceRowParser } from './row-parser.js';
import type { WeekFold } from './week-fold.js';

/**
 * What happens to each attendance record: validated ({@link AttendanceRowParser}), folded into
 * the weekly sums ({@link WeekFold}), its lesson key kept for the uniqueness check
 * ({@link LessonKeys}). One instance per part of the file; the same code on the main thread and
 * in the parallel-import worker, so both parts treat a row alike.
 */
export class AttendanceSink {
  /** Observations dropped because their enrolment row was rejected (under --max-errors). */
  dropped = 0;
  /** Latest valid date (day number). */
  maxDate: number | null = null;

  constructor(
    private readonly rows: AttendanceRowParser,
    private readonly fold: WeekFold,
    private readonly keys: LessonKeys,
    private readonly problems: ProblemLog,
  ) {}

  /** The record handler for `readCsv`/`CsvReader`. */
  readonly onRecord = (f: string[], line: number): void => {
    const r = this.rows.parse(f, line, this.problems);
    if (r === 'dropped') {
      this.dropped++;
      return;
    }
    if (r === null) {
      this.problems.rowsRejected++;
      return;
    }
    if (this.maxDate === null || r.day > this.maxDate) this.maxDate = r.day;
    this.fold.add(r.idx, r.day, r.minutes, r.status, 1);
    if (r.time >= 0) this.keys.add(lessonKey(r.idx, r.day, r.time));
  };
}
