import { isoMonday, studiejaarOf } from '../../../shared/metrics/calendar.js';
import type { StatusCode } from '../mapping.js';
import { W, WEEK_WIDTH, type WeekTable, weekKey } from '../week-table.js';
import { addAt } from '../../../shared/arrays/checked-index.js';

/**
 * Folds observations into a {@link WeekTable}: adds (or, with sign -1, removes) one observation
 * in its enrolment's weekly row. The derived values of the last date are cached, since files
 * repeat the same date on consecutive rows. Observations outside the enrolment's
 * [start, end] are counted in `n_outside` (INPUT.md "Bad input").
 */
export class WeekFold {
  private lastDay = Number.NaN;
  private lastMonday = 0;
  private lastSy = 0;
  private lastPart = 0;
  private readonly start: Int32Array;
  private readonly end: Int32Array;

  constructor(
    readonly weeks: WeekTable,
    startDates: readonly number[],
    endDates: readonly (number | null)[],
  ) {
    this.start = Int32Array.from(startDates);
    this.end = Int32Array.from(endDates, (e) => (e === null ? 2 ** 31 - 1 : e));
  }

  add(idx: number, day: number, minutes: number, status: StatusCode, sign: 1 | -1): void {
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.lastMonday = isoMonday(day);
      this.lastSy = studiejaarOf(day);
      this.lastPart = studiejaarOf(this.lastMonday) === this.lastSy ? 0 : 1;
    }
    const d = this.weeks;
    const r = d.row(weekKey(idx, this.lastMonday, this.lastPart), idx, this.lastMonday, this.lastSy);
    const a = d.data;
    const o = r * WEEK_WIDTH;
    addAt(a, o + W.n_all, sign);
    if (day < (this.start[idx] as number) || day > (this.end[idx] as number)) addAt(a, o + W.n_outside, sign);
    switch (status) {
      case 0: // present
        addAt(a, o + W.min_present, sign * minutes);
        addAt(a, o + W.n_registered, sign);
        addAt(a, o + W.n_counted, sign);
        break;
      case 1: // late
        addAt(a, o + W.min_present, sign * minutes);
        addAt(a, o + W.n_registered, sign);
        addAt(a, o + W.n_late, sign);
        addAt(a, o + W.n_counted, sign);
        break;
      case 2: // absent_authorized
        addAt(a, o + W.min_abs_auth, sign * minutes);
        addAt(a, o + W.n_registered, sign);
        addAt(a, o + W.n_counted, sign);
        break;
      case 3: // absent_unauthorized
        addAt(a, o + W.min_abs_unauth, sign * minutes);
        addAt(a, o + W.n_registered, sign);
        addAt(a, o + W.n_counted, sign);
        break;
      case 4: // not_applicable: ignored everywhere but the record counts
        break;
      default: // unregistered
        addAt(a, o + W.min_unregistered, sign * minutes);
        addAt(a, o + W.n_counted, sign);
    }
  }
}
