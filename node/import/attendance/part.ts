import { CsvReader, type CsvHeader } from '../../../shared/csv/read-csv.js';
import type { MultilineQuotes } from '../../../shared/csv/record-parser.js';
import type { AttendanceMapping } from '../../../schemas/mapping-file.js';
import type { DateFormat } from '../date-column.js';
import { ProblemLog, type Problem } from '../problems.js';
import { WeekTable } from '../week-table.js';
import { LessonKeys } from './lesson-keys.js';
import { AttendanceRowParser } from './row-parser.js';
import { AttendanceSink } from './sink.js';
import { WeekFold } from './week-fold.js';

/**
 * The second part of attendance.csv, read on a worker thread during a parallel import: the
 * bytes `[start, end)` to the end of the file, beginning at a line start, with the header, date format and
 * enrolments the main thread found. Plain data (structured clone).
 */
export interface PartInput {
  path: string;
  /** File name shown in problems. */
  file: string;
  start: number;
  end: number;
  header: CsvHeader;
  dateFormat: DateFormat;
  enrolments: {
    byId: [string, number][];
    rejectedIds: string[];
    startDate: number[];
    endDate: (number | null)[];
  };
  mapping: AttendanceMapping | undefined;
  chunkSize: number | undefined;
  multilineQuotes: MultilineQuotes | undefined;
}

/**
 * The part's result. Line numbers in `problems.listed` count from 1 at `start`; the main
 * thread adds the line `start` is on. `ok: false` when the part met anything whose report
 * depends on where in the file it is (a CSV error, a warning, a record crossing `end`): the
 * main thread then reads the part itself, sequentially, and reports it as always.
 */
export type PartResult =
  | {
      ok: true;
      records: number;
      weeks: Int32Array;
      weekRows: number;
      /** Lesson keys, sorted. */
      keys: Float64Array;
      dropped: number;
      maxDate: number | null;
      problems: { total: number; rowsRejected: number; listed: Problem[] };
    }
  | { ok: false; why: string };

/** Progress message of a part: records and bytes read so far. */
export interface PartProgress {
  records: number;
  bytes: number;
}

/** Read one part (see {@link PartInput}); runs in the worker, callable in-process for tests. */
export async function readAttendancePart(
  input: PartInput,
  onProgress?: (p: PartProgress) => void,
): Promise<PartResult> {
  const problems = new ProblemLog();
  const rows = new AttendanceRowParser(
    input.file,
    { byId: new Map(input.enrolments.byId), rejectedIds: new Set(input.enrolments.rejectedIds) },
    input.mapping,
  );
  rows.onHeader(input.header);
  rows.dateFormat = input.dateFormat;
  const fold = new WeekFold(new WeekTable(1 << 16), input.enrolments.startDate, input.enrolments.endDate);
  const keys = new LessonKeys(input.end - input.start);
  const sink = new AttendanceSink(rows, fold, keys, problems);
  let warned = false;
  const reader = new CsvReader(
    input.path,
    () => {},
    sink.onRecord,
    {
      displayName: input.file,
      chunkSize: input.chunkSize,
      multilineQuotes: input.multilineQuotes,
      onWarning: () => {
        warned = true;
      },
      onProgress: (records, bytes) => onProgress?.({ records, bytes }),
    },
    { header: input.header, line: 1 },
  );
  try {
    // The part runs to the end of the file: a last record without line end is complete there.
    await reader.read(input.start, input.end, true);
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message : String(e) };
  }
  if (reader.incomplete) return { ok: false, why: 'the part ends inside a record' };
  if (warned) return { ok: false, why: 'a warning names a line' };
  return {
    ok: true,
    records: reader.records,
    weeks: fold.weeks.data,
    weekRows: fold.weeks.rows,
    keys: keys.sorted(),
    dropped: sink.dropped,
    maxDate: sink.maxDate,
    problems: { total: problems.total, rowsRejected: problems.rowsRejected, listed: problems.listed },
  };
}
