import { SbError } from '../../shared/errors/sb-error.js';
import { ageOn, roundCalendar, type RoundCalendar } from '../../shared/metrics/calendar.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { CELL_SLOT_INDEX as C, GROUP_SLOT_INDEX as G } from '../../shared/metrics/slots.js';
import { emptyVector, type ContributionVector } from '../../shared/metrics/vector.js';
import type { EnrolmentTable } from '../import/enrolment-table.js';
import { codebookMembership, Students, sumEnrolments, type EnrolmentSums } from './analyse.js';
import { addAt, getAt, itemAt } from '../../shared/arrays/checked-index.js';

/** Lower bounds of the absence-share histogram A14..A21, in per cent. */
const HIST_PCT = [0, 2, 5, 10, 15, 20, 30, 50];
/** Lower bounds of the early-attendance bins B7..B11 (x in 0..1000). */
const EARLY_BINS = [0, 700, 800, 900, 950];
/** Lower bounds of the pooled absence-share bins C5..C14, per mille. */
const ABS_BINS = [0, 50, 75, 100, 125, 150, 175, 200, 250, 300];
/** Lower bounds of the dropout-share bins C15..C24, per mille. */
const DROP_BINS = [0, 50, 100, 150, 200, 250, 300, 350, 400, 500];
/** Block C bins are filled only from this many rated enrolments / starters. */
const BIN_MIN = 10;

/** Highest bin whose lower bound b satisfies scale*num >= b*den (the integer test of METRICS.md). */
function bin(bounds: readonly number[], scale: number, num: number, den: number): number {
  let k = 0;
  for (let j = 1; j < bounds.length; j++) if (scale * num >= getAt(bounds, j) * den) k = j;
  return k;
}

export interface ComputedVector {
  vector: ContributionVector;
  excludedCrebos: Record<string, number>;
  dataQuality: {
    enrolments: number;
    enrolments_excluded: number;
    observations: number;
    observations_in_year: number;
    observations_outside_enrolment: number;
  };
  sums: EnrolmentSums;
}

export interface ComputeInput {
  codebook: Codebook;
  /** studiejaar S */
  year: number;
  enrolments: EnrolmentTable;
  /** Weekly rows ordered by enrolment then Monday (node/store). */
  weeks: Iterable<ArrayLike<number>>;
  /** Record counts of the imported files (data_quality). */
  records: { enrolments: number; observations: number };
}

/**
 * The contribution vector of METRICS.md v1 for one institution: a cell row per codebook cell and
 * a group row per rollup group, plus `excluded_crebos` and `data_quality`.
 *
 * @throws SbError `SB_ERR_NIVEAU_MISMATCH` when an enrolment's niveau contradicts the codebook.
 * @see ../../../shared/spec/METRICS.md
 */
export function computeVector(input: ComputeInput): ComputedVector {
  const { codebook, enrolments: t } = input;
  const cal = roundCalendar(input.year);
  const n = t.enrolmentId.length;
  const { inCodebook, cell, mismatches } = codebookMembership(t, codebook);
  if (mismatches.length) throw niveauMismatch(t, codebook, mismatches);
  const sums = sumEnrolments(n, input.weeks, cal);
  const v = emptyVector(codebook, cal.label);
  addBlockA(v.cells, t, cell, sums, cal);
  addBlockB(v.cells, t, cell, new Students(t, inCodebook), sums, cal);
  addBlockC(v, codebook);
  const { excluded, enrolmentsExcluded, inYear, outside } = exclusions(t, inCodebook, sums, cal);
  return {
    vector: v,
    excludedCrebos: excluded,
    dataQuality: {
      enrolments: input.records.enrolments,
      enrolments_excluded: enrolmentsExcluded,
      observations: input.records.observations,
      observations_in_year: inYear,
      observations_outside_enrolment: outside,
    },
    sums,
  };
}

/** The error for enrolments whose niveau contradicts the codebook, naming the first five lines. */
function niveauMismatch(t: EnrolmentTable, codebook: Codebook, mismatches: readonly number[]): SbError {
  const first = mismatches
    .slice(0, 5)
    .map(
      (i) =>
        `line ${t.line[i]} (crebo ${t.crebo[i]} niveau ${t.niveau[i]}, codebook niveau ${codebook.byCrebo.get(itemAt(t.crebo, i))?.niveau})`,
    );
  return new SbError(
    'SB_ERR_NIVEAU_MISMATCH',
    `${mismatches.length} enrolment(s) in enrolments.csv have a niveau that contradicts the codebook: ` +
      `${first.join('; ')}${mismatches.length > 5 ? '; …' : ''}. ` +
      'Fix the export or the mapping file and import again (sectorbench node quality lists them all).',
    { count: mismatches.length },
  );
}

/** Block A: every enrolment with at least one counted observation in S adds to its cell's row. */
function addBlockA(
  rows: number[][],
  t: EnrolmentTable,
  cell: Int32Array,
  sums: EnrolmentSums,
  cal: RoundCalendar,
): void {
  for (let i = 0; i < t.enrolmentId.length; i++) {
    const c = getAt(cell, i);
    if (c < 0 || sums.nCounted[i] === 0) continue;
    const r = itemAt(rows, c);
    const reg = getAt(sums.registered, i);
    const absent = getAt(sums.absAuth, i) + getAt(sums.absUnauth, i);
    addAt(r, C.a_enrolments);
    if (reg > 0) {
      addAt(r, C.a_rated);
      addAt(r, C.a_hist_0 + bin(HIST_PCT, 100, absent, reg));
    }
    addAt(r, C.a_min_planned, getAt(sums.planned, i));
    addAt(r, C.a_min_registered, reg);
    addAt(r, C.a_min_present, getAt(sums.present, i));
    addAt(r, C.a_min_abs_auth, getAt(sums.absAuth, i));
    addAt(r, C.a_min_abs_unauth, getAt(sums.absUnauth, i));
    addAt(r, C.a_obs_registered, getAt(sums.nRegistered, i));
    addAt(r, C.a_late, getAt(sums.nLate, i));
    const signal = sums.signal16[i] === 1;
    if (signal) addAt(r, C.a_signal16);
    const birth = t.birthDate[i];
    if (birth !== null && birth !== undefined && birth <= cal.p0) {
      addAt(r, C.a_age_known);
      if (ageOn(birth, cal.p0) < 18) {
        addAt(r, C.a_enrolments_u18);
        if (signal) addAt(r, C.a_signal16_u18);
      }
    }
  }
}

/** Block B: every starter (by student) adds its outcome on P1 and its early attendance to its cell's row. */
function addBlockB(
  rows: number[][],
  t: EnrolmentTable,
  cell: Int32Array,
  students: Students,
  sums: EnrolmentSums,
  cal: RoundCalendar,
): void {
  for (const list of students.byStudent.values()) {
    const m0 = students.main(list, cal.p0);
    if (m0 < 0 || students.anyActive(list, cal.pMinus1)) continue;
    const r = itemAt(rows, getAt(cell, m0));
    addAt(r, C.b_starters);
    const retained = students.anyActive(list, cal.p1);
    let leftDiploma = false;
    if (retained) {
      addAt(r, C.b_retained);
      const m1 = students.main(list, cal.p1);
      if (m1 < 0) addAt(r, C.b_switched);
      else if (getAt(t.niveau, m1) > getAt(t.niveau, m0)) addAt(r, C.b_progressed);
      else if (t.crebo[m1] !== t.crebo[m0]) addAt(r, C.b_switched);
    } else {
      leftDiploma = list.some((i) => {
        const end = t.endDate[i];
        return t.diploma[i] && end !== null && end !== undefined && end >= cal.p0 && end < cal.p1;
      });
      if (leftDiploma) addAt(r, C.b_left_diploma);
    }
    addEarlyAttendance(r, sums, m0, !retained && !leftDiploma);
  }
}

/** A starter's early attendance x (per mille of registered minutes) into the B7..B11 bins and sums. */
function addEarlyAttendance(r: number[], sums: EnrolmentSums, m0: number, dropout: boolean): void {
  const er = getAt(sums.earlyRegistered, m0);
  if (er <= 0) return;
  const x = Math.floor((1000 * getAt(sums.earlyPresent, m0)) / er);
  const b = bin(EARLY_BINS, 1, x, 1);
  addAt(r, C.b_early_n);
  addAt(r, C.b_early_total_0 + b);
  addAt(r, C.b_sum_x, x);
  addAt(r, C.b_sum_x2, x * x);
  if (dropout) {
    addAt(r, C.b_early_dropout_0 + b);
    addAt(r, C.b_sum_xy, x);
  }
}

/** The block A and B sums block C is derived from (one cell's, or a group's pooled). */
interface PooledSums {
  enr: number;
  rated: number;
  reg: number;
  absent: number;
  starters: number;
  dropouts: number;
}

/** The sums of one cell row that block C needs. */
function pooled(r: readonly number[]): PooledSums {
  return {
    enr: getAt(r, C.a_enrolments),
    rated: getAt(r, C.a_rated),
    reg: getAt(r, C.a_min_registered),
    absent: getAt(r, C.a_min_abs_auth) + getAt(r, C.a_min_abs_unauth),
    starters: getAt(r, C.b_starters),
    dropouts: getAt(r, C.b_starters) - getAt(r, C.b_retained) - getAt(r, C.b_left_diploma),
  };
}

/** Block C of one row (cell or group) from its pooled sums, written at offset `base` of `out`. */
function writeBlockC(out: number[], base: number, s: PooledSums): void {
  if (s.enr >= 1) out[base + G.c_contrib_a] = 1;
  if (s.starters >= 1) out[base + G.c_contrib_b] = 1;
  out[base + G.c_sq_a] = s.enr * s.enr;
  out[base + G.c_sq_b] = s.starters * s.starters;
  if (s.rated >= BIN_MIN) out[base + G.c_abs_bin_0 + bin(ABS_BINS, 1000, s.absent, s.reg)] = 1;
  if (s.starters >= BIN_MIN) out[base + G.c_drop_bin_0 + bin(DROP_BINS, 1000, s.dropouts, s.starters)] = 1;
}

/** Block C per cell, and the group rows from the sums pooled over their cells. */
function addBlockC(v: ContributionVector, codebook: Codebook): void {
  for (const r of v.cells) writeBlockC(r, C.c_contrib_a, pooled(r));
  codebook.groupKeys.forEach((g, j) => {
    const acc: PooledSums = { enr: 0, rated: 0, reg: 0, absent: 0, starters: 0, dropouts: 0 };
    for (const c of codebook.groupCells.get(g) ?? []) {
      const p = pooled(itemAt(v.cells, c));
      acc.enr += p.enr;
      acc.rated += p.rated;
      acc.reg += p.reg;
      acc.absent += p.absent;
      acc.starters += p.starters;
      acc.dropouts += p.dropouts;
    }
    writeBlockC(itemAt(v.groups, j), 0, acc);
  });
}

/**
 * `excluded_crebos` (enrolments outside the codebook that are active in S, by crebo) and the
 * counts of `data_quality`.
 */
function exclusions(
  t: EnrolmentTable,
  inCodebook: Uint8Array,
  sums: EnrolmentSums,
  cal: RoundCalendar,
): { excluded: Record<string, number>; enrolmentsExcluded: number; inYear: number; outside: number } {
  const excluded: Record<string, number> = {};
  let enrolmentsExcluded = 0;
  let inYear = 0;
  let outside = 0;
  for (let i = 0; i < t.enrolmentId.length; i++) {
    inYear += getAt(sums.nInYear, i);
    outside += getAt(sums.nOutside, i);
    if (inCodebook[i]) continue;
    enrolmentsExcluded++;
    const end = t.endDate[i];
    if (getAt(t.startDate, i) <= cal.end && (end === null || (end !== undefined && end >= cal.start))) {
      const crebo = itemAt(t.crebo, i);
      excluded[crebo] = (excluded[crebo] ?? 0) + 1;
    }
  }
  return { excluded, enrolmentsExcluded, inYear, outside };
}
