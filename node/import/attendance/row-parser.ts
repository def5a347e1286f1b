import type { CsvHeader } from '../../../shared/csv/read-csv.js';
import type { AttendanceMapping } from '../../../schemas/mapping-file.js';
import { locateColumns, widthProblem } from '../columns.js';
import { DateColumn, type DateFormat } from '../date-column.js';
import { STATUS, StatusResolver, type StatusCode } from '../mapping.js';
import type { ProblemLog } from '../problems.js';
import { shapeOf } from '../value-shape.js';
import { minutesOf, timeCode } from './lesson-values.js';

const CANONICAL = new Map<string, StatusCode>(Object.entries(STATUS) as [string, StatusCode][]);
const STATUS_NAMES = Object.keys(STATUS).join(', ');

/** One valid observation: enrolment index, day number, minutes, status and start-time code (-1: none). */
export interface Observation {
  idx: number;
  day: number;
  minutes: number;
  status: StatusCode;
  time: number;
}

/** The enrolments an attendance file refers to. */
export interface EnrolmentIndex {
  byId: Map<string, number>;
  /** Ids of enrolment rows rejected under --max-errors: their observations are dropped with them. */
  rejectedIds: Set<string>;
}

/**
 * Validates attendance rows (INPUT.md "attendance.csv") against the columns found in the header
 * and the mapping file. Problems name file, line and column and show values by shape only.
 */
export class AttendanceRowParser {
  private readonly dateCol = new DateColumn();
  private readonly fromTimes: { start: string; end: string } | undefined;
  private readonly renames: Record<string, string>;
  private readonly resolver: StatusResolver | undefined;
  private col = { enr: -1, date: -1, min: -1, status: -1, time: -1, from: -1, to: -1 };
  private statusIdx: number[] = [];
  private width = 0;
  /** State of the row being parsed (see {@link parse}). */
  private bad = false;
  private rowLine = 0;
  private rowProblems: ProblemLog | null = null;

  constructor(
    private readonly file: string,
    private readonly enrolments: EnrolmentIndex,
    private readonly mapping: AttendanceMapping | undefined,
  ) {
    const minutesSpec = mapping?.columns?.minutes;
    this.fromTimes = typeof minutesSpec === 'object' ? minutesSpec : undefined;
    const renames: Record<string, string> = {};
    for (const [k, v] of Object.entries(mapping?.columns ?? {})) if (typeof v === 'string') renames[k] = v;
    this.renames = renames;
    this.resolver = mapping?.status ? new StatusResolver(mapping.status.codes, mapping.status.from.length) : undefined;
  }

  /**
   * Format of the date column, learnt from its first valid value (undefined before). A parser
   * for a later part of the file (parallel import) is given the format of the first part, so
   * it judges every date exactly as one sequential read would.
   */
  get dateFormat(): DateFormat | undefined {
    return this.dateCol.format;
  }

  set dateFormat(f: DateFormat | undefined) {
    this.dateCol.format = f;
  }

  /** True when the file has a start_time column (lessons must then be unique). */
  get hasStartTime(): boolean {
    return this.col.time >= 0;
  }

  /** Find the columns; throws `SB_ERR_IMPORT_COLUMNS` naming what is missing. */
  onHeader(h: CsvHeader): void {
    const c = locateColumns(
      h,
      this.file,
      [
        { name: 'enrolment_id', required: true },
        { name: 'date', required: true },
        { name: 'minutes', required: !this.fromTimes },
        { name: 'status', required: !this.resolver },
        { name: 'start_time', required: false },
      ],
      this.renames,
    );
    this.width = h.names.length;
    this.col.enr = c.enrolment_id;
    this.col.date = c.date;
    this.col.min = c.minutes;
    this.col.status = c.status;
    this.col.time = c.start_time;
    if (this.fromTimes) {
      const t = locateColumns(
        h,
        this.file,
        [
          { name: 'start', required: true },
          { name: 'end', required: true },
        ],
        this.fromTimes,
      );
      this.col.from = t.start;
      this.col.to = t.end;
    }
    const from = this.mapping?.status?.from;
    if (from) {
      const s = locateColumns(
        h,
        this.file,
        from.map((_, k) => ({ name: `s${k}`, required: true })),
        Object.fromEntries(from.map((name, k) => [`s${k}`, name])),
      );
      this.statusIdx = from.map((_, k) => s[`s${k}`] as number);
    }
  }

  /**
   * Validate one row. Returns the observation, `'dropped'` (its enrolment was skipped under
   * --max-errors) or null (rejected; problems logged when `problems` is given).
   */
  parse(f: string[], line: number, problems: ProblemLog | null): Observation | 'dropped' | null {
    // The row's state lives on the instance rather than in a closure: this runs 15 million
    // times per import, and a closure per row is an allocation (and, under tsx, a __name call).
    this.bad = false;
    this.rowLine = line;
    this.rowProblems = problems;
    const width = widthProblem(f, this.width);
    if (width) {
      this.problem('(row)', width);
      return null;
    }
    const enr = (f[this.col.enr] ?? '').trim();
    let idx = this.enrolments.byId.get(enr);
    if (idx === undefined) {
      if (enr && this.enrolments.rejectedIds.has(enr)) return 'dropped';
      this.problem('enrolment_id', enr ? 'refers to an enrolment that is not in enrolments.csv' : 'is empty');
      idx = -1;
    }
    const ds = (f[this.col.date] ?? '').trim();
    const day = ds ? this.dateCol.parse(ds) : 'is empty';
    if (typeof day === 'string') this.problem('date', ds ? `${shapeOf(ds)} ${day}` : day);
    const minutes = this.minutes(f);
    const status = this.status(f);
    let time = -1;
    if (this.col.time >= 0) {
      const ts = (f[this.col.time] ?? '').trim();
      if (ts) {
        time = timeCode(ts);
        if (time < 0) this.problem('start_time', `${shapeOf(ts)} is not a time HH:MM`);
      }
    }
    if (this.bad) return null;
    return { idx, day: day as number, minutes, status: status as StatusCode, time };
  }

  /** Record a problem of the row being parsed. */
  private problem(column: string, reason: string): void {
    this.bad = true;
    this.rowProblems?.add({ file: this.file, line: this.rowLine, column, reason });
  }

  private minutes(f: string[]): number {
    if (this.fromTimes) {
      const a = timeCode((f[this.col.from] ?? '').trim());
      const b = timeCode((f[this.col.to] ?? '').trim());
      const minutes = a < 0 || b < 0 ? -1 : (b >> 1) - (a >> 1);
      if (minutes < 1 || minutes > 720) {
        this.problem(
          this.fromTimes.start,
          'begin and end time do not give a lesson of 1 to 720 minutes (expected HH:MM)',
        );
      }
      return minutes;
    }
    const ms = (f[this.col.min] ?? '').trim();
    const minutes = minutesOf(ms);
    if (minutes < 0)
      this.problem('minutes', `${ms ? shapeOf(ms) : 'empty'} is not a whole number of minutes from 1 to 720`);
    return minutes;
  }

  private status(f: string[]): StatusCode | null {
    if (this.resolver) {
      const parts = this.statusIdx.map((i) => (f[i] ?? '').trim());
      const status = this.resolver.resolve(parts);
      if (status === null) {
        this.problem(
          (this.mapping?.status?.from ?? []).join('|'),
          `${parts.map((p) => (p ? shapeOf(p).replace('a value shaped ', '') : '(empty)')).join('|')} (by shape) has no status in the mapping file`,
        );
      }
      return status;
    }
    const ss = (f[this.col.status] ?? '').trim();
    const status = CANONICAL.get(ss) ?? null;
    if (status === null) {
      this.problem(
        'status',
        `${ss ? shapeOf(ss) : 'empty'} is not a status code (${STATUS_NAMES}); map SIS codes in a mapping file`,
      );
    }
    return status;
  }
}
