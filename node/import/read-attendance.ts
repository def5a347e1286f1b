import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { CsvReader, readCsv, type CsvHeader, type CsvReadOptions } from '../../shared/csv/read-csv.js';
import type { AttendanceMapping } from '../../schemas/mapping-file.js';
import { LessonKeys } from './attendance/lesson-keys.js';
import type { PartResult } from './attendance/part.js';
import { type RunningPart, splitPoint, startPart } from './attendance/part-host.js';
import { AttendanceSink } from './attendance/sink.js';
import { AttendanceRowParser, type EnrolmentIndex } from './attendance/row-parser.js';
import { WeekFold } from './attendance/week-fold.js';
import type { EnrolmentTable } from './enrolment-table.js';
import type { ProblemLog } from './problems.js';
import { addWeekRows, lessonKey, WeekTable } from './week-table.js';

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
 * Parallel reading of attendance.csv (issue 15): a file of at least `minBytes` is split at the
 * first line end after `fraction` of its size; the main thread reads the first part and a worker
 * thread the second, each into its own weekly sums and lesson keys, which are then added
 * together. Defaults: 32 MiB, 0.5; never on a single-core machine unless `minBytes` is given.
 */
export interface ParallelRead {
  minBytes?: number;
  fraction?: number;
  /**
   * Told how the file was read: `split` (two threads), `sequential-after-split` (split, but the
   * main thread read the second part itself; see {@link readAttendance}), `whole` (one thread).
   */
  onRead?: (how: 'split' | 'sequential-after-split' | 'whole') => void;
}

/** Files smaller than this are read on one thread: a worker's start costs more than it saves. */
const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Read attendance.csv and fold every observation into weekly sums per enrolment
 * ({@link WeekTable}); observations themselves are never stored. Validates each row
 * (INPUT.md "attendance.csv"), including unique (enrolment_id, date, start_time) when the
 * column exists (METRICS.md "Time frame"): keys are collected as numbers and sorted, and only
 * when duplicates exist is the file read a second time to name their lines.
 * The parts: attendance/row-parser.ts (validation), week-fold.ts (weekly sums),
 * lesson-keys.ts (uniqueness), sink.ts (one row through all three).
 *
 * A large file is read in two parts on two threads ({@link ParallelRead}); the result is the
 * one a sequential read gives, problems with the same lines in the same order. The worker's part
 * starts once the main thread knows the header and the date column's format; whatever in the
 * second part would be reported with a line number other than a row problem's (a CSV error, a
 * warning, a record crossing the split), or a worker that fails, makes the main thread read the
 * second part itself, continuing its own read, so such reports are exactly the sequential ones.
 */
export async function readAttendance(
  path: string,
  file: string,
  problems: ProblemLog,
  enrolments: EnrolmentIndex & { table: EnrolmentTable },
  mapping: AttendanceMapping | undefined,
  csv: CsvReadOptions,
  sizeHint: number,
  parallel: ParallelRead = {},
): Promise<AttendanceRead> {
  const rows = new AttendanceRowParser(file, enrolments, mapping);
  const fold = new WeekFold(new WeekTable(1 << 16), enrolments.table.startDate, enrolments.table.endDate);
  const minBytes = parallel.minBytes ?? (availableParallelism() > 1 ? PARALLEL_MIN_BYTES : Number.POSITIVE_INFINITY);
  const split = sizeHint > 0 && sizeHint >= minBytes ? splitPoint(path, sizeHint, parallel.fraction ?? 0.5) : null;
  const keys = new LessonKeys(split ?? sizeHint);
  const sink = new AttendanceSink(rows, fold, keys, problems);

  let part: RunningPart | null = null;
  let reader: CsvReader | null = null;
  const startSecondPart = (r: CsvReader, at: number): RunningPart | null =>
    startWorkerPart({ path, file, enrolments, mapping, csv, sizeHint }, r, rows, at);
  const onRecord =
    split === null
      ? sink.onRecord
      : (f: string[], line: number) => {
          sink.onRecord(f, line);
          if (!part && reader) part = startSecondPart(reader, split);
        };
  reader = new CsvReader(path, (h) => rows.onHeader(h), onRecord, {
    ...csv,
    onProgress: csv.onProgress
      ? (records, bytes) =>
          csv.onProgress?.(records + (part?.progress.records ?? 0), bytes + (part?.progress.bytes ?? 0))
      : undefined,
  });

  let second: Extract<PartResult, { ok: true }> | null = null;
  try {
    if (split === null) await reader.read(0, undefined, true);
    else {
      await reader.read(0, split, false);
      const running = part as RunningPart | null;
      const result = running && !reader.incomplete ? await running.result : null;
      if (result?.ok) second = result;
      else {
        running?.stop();
        await reader.read(split, undefined, true);
      }
    }
  } finally {
    (part as RunningPart | null)?.stop();
  }

  let records: number;
  let dup: Set<number>;
  if (second && split !== null) {
    addSecondPart(second, reader.lineAtEnd() - 1, problems, fold, sink);
    parallel.onRead?.('split');
    dup = keys.duplicatesWith(second.keys);
    await hashRest(path, split, csv);
    records = reader.records + second.records;
    csv.onProgress?.(records, sizeHint);
  } else {
    dup = keys.duplicates();
    records = reader.summary().records;
    parallel.onRead?.(split === null ? 'whole' : 'sequential-after-split');
  }
  const header = reader.headerFound as CsvHeader;
  const duplicates = dup.size > 0 ? await removeDuplicateLessons(path, file, problems, rows, fold, dup, csv) : 0;
  return {
    header,
    records,
    weeks: fold.weeks,
    hasStartTime: rows.hasStartTime,
    droppedWithEnrolment: sink.dropped,
    duplicates,
    maxDate: sink.maxDate,
  };
}

/**
 * Start the worker on the second part, from byte `at`, once the main thread knows the header and
 * the date column's format (null until then: the caller asks again at the next record).
 */
function startWorkerPart(
  o: {
    path: string;
    file: string;
    enrolments: EnrolmentIndex & { table: EnrolmentTable };
    mapping: AttendanceMapping | undefined;
    csv: CsvReadOptions;
    sizeHint: number;
  },
  r: CsvReader,
  rows: AttendanceRowParser,
  at: number,
): RunningPart | null {
  const header = r.headerFound;
  const dateFormat = rows.dateFormat;
  if (!header || !dateFormat) return null;
  return startPart({
    path: o.path,
    file: o.file,
    start: at,
    end: o.sizeHint,
    header,
    dateFormat,
    enrolments: {
      byId: [...o.enrolments.byId],
      rejectedIds: [...o.enrolments.rejectedIds],
      startDate: o.enrolments.table.startDate,
      endDate: o.enrolments.table.endDate,
    },
    mapping: o.mapping,
    chunkSize: o.csv.chunkSize,
    multilineQuotes: o.csv.multilineQuotes,
  });
}

/**
 * Add the worker's part to the main thread's: problems with their lines counted from the split
 * (`lineOffset`: the last line the main thread read), weekly sums, dropped rows, latest date.
 */
function addSecondPart(
  second: Extract<PartResult, { ok: true }>,
  lineOffset: number,
  problems: ProblemLog,
  fold: WeekFold,
  sink: AttendanceSink,
): void {
  for (const p of second.problems.listed) problems.add({ ...p, line: p.line + lineOffset });
  problems.total += second.problems.total - second.problems.listed.length;
  problems.rowsRejected += second.problems.rowsRejected;
  addWeekRows(fold.weeks, second.weeks, second.weekRows);
  sink.dropped += second.dropped;
  if (second.maxDate !== null && (sink.maxDate === null || second.maxDate > sink.maxDate)) {
    sink.maxDate = second.maxDate;
  }
}

/** The bytes from `from` on, to `onChunk` (the file hash) when a worker read them. */
async function hashRest(path: string, from: number, csv: CsvReadOptions): Promise<void> {
  const onChunk = csv.onChunk;
  if (!onChunk) return;
  const stream = createReadStream(path, { start: from, highWaterMark: 4 * 1024 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) onChunk(chunk);
  } finally {
    stream.destroy();
  }
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
