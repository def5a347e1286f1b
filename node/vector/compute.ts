import { SbError } from '../../shared/errors/sb-error.js';
import { ageOn, roundCalendar } from '../../shared/metrics/calendar.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { CELL_SLOT_INDEX as C, GROUP_SLOT_INDEX as G } from '../../shared/metrics/slots.js';
import { emptyVector, type ContributionVector } from '../../shared/metrics/vector.js';
import type { EnrolmentTable } from '../import/enrolment-table.js';
import { codebookMembership, Students, sumEnrolments, type EnrolmentSums } from './analyse.js';
import { addAt, getAt } from '../../shared/arrays/checked-index.js';

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
  for (let j = 1; j < bounds.length; j++) if (scale * num >= (bounds[j] as number) * den) k = j;
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
 * @see ../../../shared/spec/METRICS.md
 */
export function computeVector(input: ComputeInput): ComputedVector {
  const { codebook, enrolments: t } = input;
  const cal = roundCalendar(input.year);
  const n = t.enrolmentId.length;
  const { inCodebook, cell, mismatches } = codebookMembership(t, codebook);
  if (mismatches.length) {
    const first = mismatches
      .slice(0, 5)
      .map(
        (i) =>
          `line ${t.line[i]} (crebo ${t.crebo[i]} niveau ${t.niveau[i]}, codebook niveau ${codebook.byCrebo.get(t.crebo[i] as string)?.niveau})`,
      );
    throw new SbError(
      'SB_ERR_NIVEAU_MISMATCH',
      `${mismatches.length} enrolment(s) in enrolments.csv have a niveau that contradicts the codebook: ${first.join('; ')}${mismatches.length > 5 ? '; …' : ''}. Fix the export or the mapping file and import again (sectorbench node quality lists them all).`,
      { count: mismatches.length },
    );
  }
  const sums = sumEnrolments(n, input.weeks, cal);
  const v = emptyVector(codebook, cal.label);
  const rows = v.cells;

  // Block A: enrolments with >= 1 counted observation in S.
  for (let i = 0; i < n; i++) {
    const c = cell[i] as number;
    if (c < 0 || sums.nCounted[i] === 0) continue;
    const r = rows[c] as number[];
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

  // Block B: starters, by student.
  const students = new Students(t, inCodebook);
  for (const list of students.byStudent.values()) {
    const m0 = students.main(list, cal.p0);
    if (m0 < 0 || students.anyActive(list, cal.pMinus1)) continue;
    const r = rows[cell[m0] as number] as number[];
    addAt(r, C.b_starters);
    const retained = students.anyActive(list, cal.p1);
    let leftDiploma = false;
    if (retained) {
      addAt(r, C.b_retained);
      const m1 = students.main(list, cal.p1);
      if (m1 < 0) addAt(r, C.b_switched);
      else if ((t.niveau[m1] as number) > (t.niveau[m0] as number)) addAt(r, C.b_progressed);
      else if (t.crebo[m1] !== t.crebo[m0]) addAt(r, C.b_switched);
    } else {
      leftDiploma = list.some((i) => {
        const end = t.endDate[i];
        return t.diploma[i] && end !== null && (end as number) >= cal.p0 && (end as number) < cal.p1;
      });
      if (leftDiploma) addAt(r, C.b_left_diploma);
    }
    const dropout = !retained && !leftDiploma;
    const er = getAt(sums.earlyRegistered, m0);
    if (er > 0) {
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
  }

  // Block C per cell, and group rows from pooled sums.
  const blockC = (
    out: number[],
    base: number,
    enr: number,
    rated: number,
    registered: number,
    absent: number,
    starters: number,
    dropouts: number,
  ) => {
    if (enr >= 1) out[base + G.c_contrib_a] = 1;
    if (starters >= 1) out[base + G.c_contrib_b] = 1;
    out[base + G.c_sq_a] = enr * enr;
    out[base + G.c_sq_b] = starters * starters;
    if (rated >= BIN_MIN) out[base + G.c_abs_bin_0 + bin(ABS_BINS, 1000, absent, registered)] = 1;
    if (starters >= BIN_MIN) out[base + G.c_drop_bin_0 + bin(DROP_BINS, 1000, dropouts, starters)] = 1;
  };
  const cBase = C.c_contrib_a;
  const pooled = (r: number[]) => ({
    enr: getAt(r, C.a_enrolments),
    rated: getAt(r, C.a_rated),
    reg: getAt(r, C.a_min_registered),
    absent: getAt(r, C.a_min_abs_auth) + getAt(r, C.a_min_abs_unauth),
    starters: getAt(r, C.b_starters),
    dropouts: getAt(r, C.b_starters) - getAt(r, C.b_retained) - getAt(r, C.b_left_diploma),
  });
  for (const r of rows) {
    const p = pooled(r);
    blockC(r, cBase, p.enr, p.rated, p.reg, p.absent, p.starters, p.dropouts);
  }
  codebook.groupKeys.forEach((g, j) => {
    const acc = { enr: 0, rated: 0, reg: 0, absent: 0, starters: 0, dropouts: 0 };
    for (const c of codebook.groupCells.get(g) ?? []) {
      const p = pooled(rows[c] as number[]);
      acc.enr += p.enr;
      acc.rated += p.rated;
      acc.reg += p.reg;
      acc.absent += p.absent;
      acc.starters += p.starters;
      acc.dropouts += p.dropouts;
    }
    blockC(v.groups[j] as number[], 0, acc.enr, acc.rated, acc.reg, acc.absent, acc.starters, acc.dropouts);
  });

  // excluded_crebos and data_quality (informative).
  const excluded: Record<string, number> = {};
  let enrolmentsExcluded = 0;
  let inYear = 0;
  let outside = 0;
  for (let i = 0; i < n; i++) {
    inYear += getAt(sums.nInYear, i);
    outside += getAt(sums.nOutside, i);
    if (inCodebook[i]) continue;
    enrolmentsExcluded++;
    const end = t.endDate[i];
    if ((t.startDate[i] as number) <= cal.end && (end === null || (end as number) >= cal.start)) {
      excluded[t.crebo[i] as string] = (excluded[t.crebo[i] as string] ?? 0) + 1;
    }
  }
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
