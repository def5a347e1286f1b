/**
 * Weekly sums per enrolment: what the node stores of attendance instead of observations. One row
 * per (enrolment, ISO week, studiejaar part): the ISO week holding 1 August is split, so that
 * only its days inside a studiejaar count for it (sample README, choice 4).
 *
 * @see ../../../shared/spec/METRICS.md "Time frame"
 */
import { studiejaarOf } from '../../shared/metrics/calendar.js';

export const WEEK_COLUMNS = [
  'enrolment', // index into the EnrolmentTable
  'monday', // day number of the ISO week's Monday
  'sy', // studiejaar S of the days in this row
  'min_present', // present + late minutes
  'min_abs_auth',
  'min_abs_unauth',
  'min_unregistered',
  'n_registered', // observations present/late/absent_*
  'n_late',
  'n_counted', // observations other than not_applicable
  'n_all', // every observation, not_applicable included
  'n_outside', // observations dated outside the enrolment's [start, end]
] as const;

export const W = Object.fromEntries(WEEK_COLUMNS.map((c, i) => [c, i])) as {
  [K in (typeof WEEK_COLUMNS)[number]]: number;
};
export const WEEK_WIDTH = WEEK_COLUMNS.length;

/** Growable column store keyed by (enrolment, week, part). */
export class WeekTable {
  data: Int32Array;
  rows = 0;
  private readonly index = new Map<number, number>();
  private lastKey = -1;
  private lastRow = -1;

  constructor(capacity = 1 << 16) {
    this.data = new Int32Array(capacity * WEEK_WIDTH);
  }

  /** Row for the key, created on first use. `key` packs enrolment, Monday and part. */
  row(key: number, enrolment: number, monday: number, sy: number): number {
    if (key === this.lastKey) return this.lastRow;
    let r = this.index.get(key);
    if (r === undefined) {
      r = this.rows++;
      if (r * WEEK_WIDTH >= this.data.length) {
        const bigger = new Int32Array(this.data.length * 2);
        bigger.set(this.data);
        this.data = bigger;
      }
      const o = r * WEEK_WIDTH;
      this.data[o + W.enrolment] = enrolment;
      this.data[o + W.monday] = monday;
      this.data[o + W.sy] = sy;
      this.index.set(key, r);
    }
    this.lastKey = key;
    this.lastRow = r;
    return r;
  }
}

/**
 * Add the rows of another table (the weekly sums of a later part of the same file, read on
 * another thread) into `into`: rows with the same (enrolment, week, part) are summed, new ones
 * appended in their order, which is the table one sequential read would have built.
 */
export function addWeekRows(into: WeekTable, data: Int32Array, rows: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * WEEK_WIDTH;
    const enrolment = data[o + W.enrolment] as number;
    const monday = data[o + W.monday] as number;
    const sy = data[o + W.sy] as number;
    // The part as WeekFold derives it: 1 for the days of a split week that belong to the next studiejaar.
    const part = studiejaarOf(monday) === sy ? 0 : 1;
    const t = into.row(weekKey(enrolment, monday, part), enrolment, monday, sy) * WEEK_WIDTH;
    const a = into.data;
    for (let c = W.min_present; c < WEEK_WIDTH; c++) a[t + c] = (a[t + c] as number) + (data[o + c] as number);
  }
}

/** Offset that keeps packed keys positive for dates from 1900 on. */
const DAY_OFFSET = 25_600;

/** Pack (enrolment, Monday, part) into one safe integer key. */
export function weekKey(enrolment: number, monday: number, part: number): number {
  return enrolment * 262_144 + (monday + DAY_OFFSET) * 2 + part;
}

/** Pack (enrolment, day, start-time code < 4096) for the duplicate-lesson check. */
export function lessonKey(enrolment: number, day: number, timeCode: number): number {
  return (enrolment * 131_072 + (day + DAY_OFFSET)) * 4096 + timeCode;
}
