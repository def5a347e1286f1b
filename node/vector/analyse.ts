import type { RoundCalendar } from '../../shared/metrics/calendar.js';
import { type Codebook, cellKey } from '../../shared/metrics/codebook.js';
import type { EnrolmentTable } from '../import/enrolment-table.js';
import { W } from '../import/week-table.js';
import { addAt, getAt, itemAt } from '../../shared/arrays/checked-index.js';

/** Minutes of unauthorized absence in 4 consecutive lesson weeks that raise the signal. */
export const SIGNAL16_MINUTES = 960;
/** Lesson weeks that make up early attendance. */
export const EARLY_WEEKS = 6;

/**
 * Per-enrolment sums over the counted observations of studiejaar S (METRICS.md "Time frame"),
 * column-wise, plus what the quality report needs.
 */
export interface EnrolmentSums {
  planned: Float64Array;
  registered: Float64Array;
  present: Float64Array;
  absAuth: Float64Array;
  absUnauth: Float64Array;
  unregistered: Float64Array;
  nRegistered: Float64Array;
  nLate: Float64Array;
  nCounted: Float64Array;
  /** Observations dated in S, any status. */
  nInYear: Float64Array;
  /** Observations outside the enrolment's period, any date. */
  nOutside: Float64Array;
  signal16: Uint8Array;
  /** present and registered minutes over the first 6 lesson weeks in S. */
  earlyPresent: Float64Array;
  earlyRegistered: Float64Array;
  lessonWeeks: Uint16Array;
}

/**
 * One streaming pass over the weekly rows (ordered by enrolment, then Monday) computing
 * {@link EnrolmentSums} for studiejaar `cal.year`.
 *
 * @see ../../../shared/spec/METRICS.md "Time frame", A10 (`a_signal16`) and "Early attendance"
 */
export function sumEnrolments(n: number, weeks: Iterable<ArrayLike<number>>, cal: RoundCalendar): EnrolmentSums {
  const s: EnrolmentSums = {
    planned: new Float64Array(n),
    registered: new Float64Array(n),
    present: new Float64Array(n),
    absAuth: new Float64Array(n),
    absUnauth: new Float64Array(n),
    unregistered: new Float64Array(n),
    nRegistered: new Float64Array(n),
    nLate: new Float64Array(n),
    nCounted: new Float64Array(n),
    nInYear: new Float64Array(n),
    nOutside: new Float64Array(n),
    signal16: new Uint8Array(n),
    earlyPresent: new Float64Array(n),
    earlyRegistered: new Float64Array(n),
    lessonWeeks: new Uint16Array(n),
  };
  let cur = -1;
  // Unauthorized minutes of the current enrolment's last 3 lesson weeks, and the running total
  // over all of them (for enrolments with fewer than 4 lesson weeks).
  let u1 = 0,
    u2 = 0,
    u3 = 0,
    uAll = 0,
    k = 0;
  const finish = () => {
    if (cur >= 0 && k > 0 && k < 4 && uAll >= SIGNAL16_MINUTES) s.signal16[cur] = 1;
  };
  for (const r of weeks) {
    const e = getAt(r, W.enrolment);
    if (e !== cur) {
      finish();
      cur = e;
      u1 = u2 = u3 = uAll = k = 0;
    }
    addAt(s.nOutside, e, getAt(r, W.n_outside));
    if (r[W.sy] !== cal.year) continue;
    addAt(s.nInYear, e, getAt(r, W.n_all));
    if (getAt(r, W.n_counted) === 0) continue; // only not_applicable: no lesson week
    const present = getAt(r, W.min_present);
    const aa = getAt(r, W.min_abs_auth);
    const au = getAt(r, W.min_abs_unauth);
    const un = getAt(r, W.min_unregistered);
    const reg = present + aa + au;
    addAt(s.present, e, present);
    addAt(s.absAuth, e, aa);
    addAt(s.absUnauth, e, au);
    addAt(s.unregistered, e, un);
    addAt(s.registered, e, reg);
    addAt(s.planned, e, reg + un);
    addAt(s.nRegistered, e, getAt(r, W.n_registered));
    addAt(s.nLate, e, getAt(r, W.n_late));
    addAt(s.nCounted, e, getAt(r, W.n_counted));
    k++;
    s.lessonWeeks[e] = Math.min(k, 65535);
    if (k <= EARLY_WEEKS) {
      addAt(s.earlyPresent, e, present);
      addAt(s.earlyRegistered, e, reg);
    }
    uAll += au;
    if (k >= 4 && u1 + u2 + u3 + au >= SIGNAL16_MINUTES) s.signal16[e] = 1;
    u1 = u2;
    u2 = u3;
    u3 = au;
  }
  finish();
  return s;
}

/** A student's enrolments, and the main-enrolment rule of METRICS.md. */
export class Students {
  /** enrolment indexes per student, in table order */
  readonly byStudent = new Map<string, number[]>();

  constructor(
    private readonly t: EnrolmentTable,
    private readonly inCodebook: Uint8Array,
  ) {
    for (const [i, id] of t.studentId.entries()) {
      const list = this.byStudent.get(id);
      if (list) list.push(i);
      else this.byStudent.set(id, [i]);
    }
  }

  active(i: number, d: number): boolean {
    const end = itemAt(this.t.endDate, i);
    return itemAt(this.t.startDate, i) <= d && (end === null || end >= d);
  }

  /**
   * Main enrolment on day d: among active enrolments with a codebook crebo, the earliest
   * start_date; ties go to the smallest enrolment_id as UTF-8 bytes. -1 when there is none.
   */
  main(list: readonly number[], d: number): number {
    let best = -1;
    for (const i of list) {
      if (!this.inCodebook[i] || !this.active(i, d)) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const a = itemAt(this.t.startDate, i);
      const b = itemAt(this.t.startDate, best);
      if (
        a < b ||
        (a === b &&
          Buffer.compare(Buffer.from(itemAt(this.t.enrolmentId, i)), Buffer.from(itemAt(this.t.enrolmentId, best))) < 0)
      ) {
        best = i;
      }
    }
    return best;
  }

  anyActive(list: readonly number[], d: number): boolean {
    return list.some((i) => this.active(i, d));
  }
}

/** Which enrolments have a crebo of the codebook, and which contradict its niveau. */
export function codebookMembership(
  t: EnrolmentTable,
  codebook: Codebook,
): { inCodebook: Uint8Array; cell: Int32Array; mismatches: number[] } {
  const n = t.crebo.length;
  const inCodebook = new Uint8Array(n);
  const cell = new Int32Array(n).fill(-1);
  const mismatches: number[] = [];
  const cellIndex = new Map(codebook.cellKeys.map((k, i) => [k, i]));
  for (const [i, crebo] of t.crebo.entries()) {
    const e = codebook.byCrebo.get(crebo);
    if (!e) continue;
    inCodebook[i] = 1;
    if (e.niveau !== t.niveau[i]) {
      mismatches.push(i);
      continue;
    }
    // The codebook has a BOL and a BBL cell for each of its crebos (buildCodebook).
    const c = cellIndex.get(cellKey(crebo, e.niveau, itemAt(t.leerweg, i)));
    if (c === undefined) throw new RangeError(`crebo ${crebo} has no cell in the codebook`);
    cell[i] = c;
  }
  return { inCodebook, cell, mismatches };
}
