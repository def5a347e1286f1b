import { readCsv, type CsvHeader, type CsvReadOptions } from '../../shared/csv/read-csv.js';
import { isoMonday, studiejaarOf } from '../../shared/metrics/calendar.js';
import type { AttendanceMapping } from '../../schemas/mapping-file.js';
import { locateColumns } from './columns.js';
import { DateColumn } from './date-column.js';
import type { EnrolmentTable } from './enrolment-table.js';
import { STATUS, StatusResolver, type StatusCode } from './mapping.js';
import type { ProblemLog } from './problems.js';
import { lessonKey, W, WEEK_WIDTH, WeekTable, weekKey } from './week-table.js';

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

const CANONICAL = new Map<string, StatusCode>(Object.entries(STATUS) as [string, StatusCode][]);
const STATUS_NAMES = Object.keys(STATUS).join(', ');

/** Parse `HH:MM` or `H:MM`; returns a code that is equal iff the trimmed texts are equal, or -1. */
export function timeCode(s: string): number {
  const n = s.length;
  if (n !== 4 && n !== 5) return -1;
  const c = s.indexOf(':');
  if (c !== n - 3) return -1;
  let h = 0;
  for (let i = 0; i < c; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    h = h * 10 + d;
  }
  const m1 = s.charCodeAt(c + 1) - 48;
  const m2 = s.charCodeAt(c + 2) - 48;
  if (m1 < 0 || m1 > 5 || m2 < 0 || m2 > 9 || h > 23) return -1;
  return (h * 60 + m1 * 10 + m2) * 2 + (n === 4 ? 1 : 0);
}

/** Parse a whole number of minutes 1..720, or -1. */
function minutesOf(s: string): number {
  const n = s.length;
  if (n === 0 || n > 3) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v >= 1 && v <= 720 ? v : -1;
}

/**
 * Read attendance.csv and fold every observation into weekly sums per enrolment
 * ({@link WeekTable}); observations themselves are never stored. Validates each row
 * (INPUT.md "attendance.csv"), including unique (enrolment_id, date, start_time) when the
 * column exists (METRICS.md "Time frame"): keys are collected as numbers and sorted, and only
 * when duplicates exist is the file read a second time to name their lines.
 */
export async function readAttendance(
  path: string,
  file: string,
  problems: ProblemLog,
  enrolments: { table: EnrolmentTable; byId: Map<string, number>; rejectedIds: Set<string> },
  mapping: AttendanceMapping | undefined,
  csv: CsvReadOptions,
  sizeHint: number,
): Promise<AttendanceRead> {
  const { table, byId, rejectedIds } = enrolments;
  const weeks = new WeekTable(1 << 16);
  const dateCol = new DateColumn();
  const minutesSpec = mapping?.columns?.minutes;
  const fromTimes = typeof minutesSpec === 'object' ? minutesSpec : undefined;
  const renames = {
    ...(mapping?.columns ?? {}),
    minutes: typeof minutesSpec === 'string' ? minutesSpec : undefined,
  } as Record<string, string | undefined>;
  for (const k of Object.keys(renames)) if (renames[k] === undefined) delete renames[k];
  const statusFrom = mapping?.status?.from;
  const resolver = mapping?.status ? new StatusResolver(mapping.status.codes, mapping.status.from.length) : undefined;
  const start = Int32Array.from(table.startDate);
  const end = Int32Array.from(table.endDate, (e) => (e === null ? 2 ** 31 - 1 : e));

  let iEnr = -1,
    iDate = -1,
    iMin = -1,
    iStatus = -1,
    iTime = -1,
    iFrom = -1,
    iTo = -1;
  let statusIdx: number[] = [];
  let hasStartTime = false;
  // Sized for ~32 bytes per row (canonical rows are 30-40); grows by doubling if needed.
  let keys = new Float64Array(Math.max(1024, Math.ceil(sizeHint / 32)));
  let nKeys = 0;
  let dropped = 0;
  let maxDate: number | null = null;
  // Cache of the last date's derived values (files repeat dates on consecutive rows).
  let lastDay = NaN,
    lastMonday = 0,
    lastSy = 0,
    lastPart = 0;
  const d = weeks; // alias for the hot loop

  const fold = (idx: number, day: number, minutes: number, status: StatusCode, sign: 1 | -1) => {
    if (day !== lastDay) {
      lastDay = day;
      lastMonday = isoMonday(day);
      lastSy = studiejaarOf(day);
      lastPart = studiejaarOf(lastMonday) === lastSy ? 0 : 1;
    }
    const r = d.row(weekKey(idx, lastMonday, lastPart), idx, lastMonday, lastSy);
    const a = d.data;
    const o = r * WEEK_WIDTH;
    a[o + W.n_all] += sign;
    if (day < (start[idx] as number) || day > (end[idx] as number)) a[o + W.n_outside] += sign;
    switch (status) {
      case 0: // present
        a[o + W.min_present] += sign * minutes;
        a[o + W.n_registered] += sign;
        a[o + W.n_counted] += sign;
        break;
      case 1: // late
        a[o + W.min_present] += sign * minutes;
        a[o + W.n_registered] += sign;
        a[o + W.n_late] += sign;
        a[o + W.n_counted] += sign;
        break;
      case 2:
        a[o + W.min_abs_auth] += sign * minutes;
        a[o + W.n_registered] += sign;
        a[o + W.n_counted] += sign;
        break;
      case 3:
        a[o + W.min_abs_unauth] += sign * minutes;
        a[o + W.n_registered] += sign;
        a[o + W.n_counted] += sign;
        break;
      case 4: // not_applicable: ignored everywhere but the record counts
        break;
      default: // unregistered
        a[o + W.min_unregistered] += sign * minutes;
        a[o + W.n_counted] += sign;
    }
  };

  type Row = { idx: number; day: number; minutes: number; status: StatusCode; time: number } | null;
  /** Validate one row; logs problems and returns null when it is rejected. */
  const parseRow = (f: string[], line: number, log: boolean): Row | 'dropped' => {
    let bad = false;
    const problem = (column: string, reason: string) => {
      bad = true;
      if (log) problems.add({ file, line, column, reason });
    };
    const enr = (f[iEnr] ?? '').trim();
    let idx = byId.get(enr);
    if (idx === undefined) {
      if (enr && rejectedIds.has(enr)) return 'dropped';
      problem('enrolment_id', enr ? 'refers to an enrolment that is not in enrolments.csv' : 'is empty');
      idx = -1;
    }
    const ds = (f[iDate] ?? '').trim();
    const day = ds ? dateCol.parse(ds) : 'is empty';
    if (typeof day === 'string') problem('date', ds ? `'${ds}' ${day}` : day);
    let minutes: number;
    if (fromTimes) {
      const a = timeCode((f[iFrom] ?? '').trim());
      const b = timeCode((f[iTo] ?? '').trim());
      minutes = a < 0 || b < 0 ? -1 : (b >> 1) - (a >> 1);
      if (minutes < 1 || minutes > 720) {
        problem(fromTimes.start, 'begin and end time do not give a lesson of 1 to 720 minutes (expected HH:MM)');
      }
    } else {
      const ms = (f[iMin] ?? '').trim();
      minutes = minutesOf(ms);
      if (minutes < 0) problem('minutes', `'${ms}' is not a whole number of minutes from 1 to 720`);
    }
    let status: StatusCode | null;
    if (resolver) {
      status = resolver.resolve(statusIdx.map((i) => (f[i] ?? '').trim()));
      if (status === null)
        problem(
          statusFrom!.join('|'),
          `'${statusIdx.map((i) => (f[i] ?? '').trim()).join('|')}' has no status in the mapping file`,
        );
    } else {
      const ss = (f[iStatus] ?? '').trim();
      status = CANONICAL.get(ss) ?? null;
      if (status === null)
        problem('status', `'${ss}' is not a status code (${STATUS_NAMES}); map SIS codes in a mapping file`);
    }
    let time = -1;
    if (iTime >= 0) {
      const ts = (f[iTime] ?? '').trim();
      if (ts) {
        time = timeCode(ts);
        if (time < 0) problem('start_time', `'${ts}' is not a time HH:MM`);
      }
    }
    if (bad) return null;
    return { idx: idx as number, day: day as number, minutes, status: status as StatusCode, time };
  };

  const onHeader = (h: CsvHeader) => {
    const wanted = [
      { name: 'enrolment_id', required: true },
      { name: 'date', required: true },
      { name: 'minutes', required: !fromTimes },
      { name: 'status', required: !resolver },
      { name: 'start_time', required: false },
    ];
    const c = locateColumns(h, file, wanted, renames);
    iEnr = c.enrolment_id as number;
    iDate = c.date as number;
    iMin = c.minutes as number;
    iStatus = c.status as number;
    iTime = c.start_time as number;
    hasStartTime = iTime >= 0;
    if (fromTimes) {
      const t = locateColumns(
        h,
        file,
        [
          { name: 'start', required: true },
          { name: 'end', required: true },
        ],
        fromTimes,
      );
      iFrom = t.start;
      iTo = t.end;
    }
    if (statusFrom) {
      const cols = statusFrom.map((name, k) => ({ name: `s${k}`, required: true }));
      const ren = Object.fromEntries(statusFrom.map((name, k) => [`s${k}`, name]));
      const s = locateColumns(h, file, cols, ren);
      statusIdx = statusFrom.map((_, k) => s[`s${k}`] as number);
    }
  };

  const summary = await readCsv(
    path,
    onHeader,
    (f, line) => {
      const r = parseRow(f, line, true);
      if (r === 'dropped') {
        dropped++;
        return;
      }
      if (r === null) {
        problems.rowsRejected++;
        return;
      }
      if (maxDate === null || r.day > maxDate) maxDate = r.day;
      fold(r.idx, r.day, r.minutes, r.status, 1);
      if (r.time >= 0) {
        if (nKeys === keys.length) {
          const bigger = new Float64Array(keys.length * 2);
          bigger.set(keys);
          keys = bigger;
        }
        keys[nKeys++] = lessonKey(r.idx, r.day, r.time);
      }
    },
    csv,
  );

  // Duplicate lessons: sort the keys, find equal neighbours.
  let duplicates = 0;
  if (nKeys > 1) {
    const sorted = keys.subarray(0, nKeys).sort();
    const dup = new Set<number>();
    for (let i = 1; i < nKeys; i++) if (sorted[i] === sorted[i - 1]) dup.add(sorted[i] as number);
    keys = new Float64Array(0);
    if (dup.size > 0) {
      // Second pass, only on this error path: name the lines and undo the extra rows.
      const firstSeen = new Map<number, number>();
      await readCsv(
        path,
        () => {},
        (f, line) => {
          const r = parseRow(f, line, false);
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
          fold(r.idx, r.day, r.minutes, r.status, -1);
        },
        { ...csv, onProgress: undefined, onChunk: undefined },
      );
    }
  }
  return {
    header: summary.header,
    records: summary.records,
    weeks,
    hasStartTime,
    droppedWithEnrolment: dropped,
    duplicates,
    maxDate,
  };
}
