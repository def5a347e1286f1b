/**
 * Weekly sums per enrolment: what the node stores of attendance instead of observations. One row
 * per (enrolment, ISO week, studiejaar part): the ISO week holding 1 August is split, so that
 * only its days inside a studiejaar count for it (sample README, choice 4).
 *
 * @see ../../../shared/spec/METRICS.md "Time frame"
 */
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
