import type { CodebookEntry } from '../shared/metrics/codebook.js';
import { dayNum, isoDow, schoolYear, REGIONS, type SchoolYear } from './calendar.js';
import { getAt } from '../shared/arrays/checked-index.js';
import { rngFor, type Rng } from './prng.js';

/** Status codes of INPUT.md, indexed as the generator emits them. */
export const STATUSES = [
  'present',
  'late',
  'absent_authorized',
  'absent_unauthorized',
  'not_applicable',
  'unregistered',
] as const;
export const ST_PRESENT = 0,
  ST_LATE = 1,
  ST_AUTH = 2,
  ST_UNAUTH = 3,
  ST_NA = 4,
  ST_UNREG = 5;

/** One enrolment record (INPUT.md `enrolments.csv`); dates as day numbers. */
export interface EnrolmentRec {
  studentId: string;
  enrolmentId: string;
  /** ISO date or '' (unknown). */
  birthDate: string;
  crebo: string;
  niveau: number;
  leerweg: 'BOL' | 'BBL';
  /** Programme name (only written as an extra column in messy mode). */
  name: string;
  start: number;
  end: number | null;
  exitReason: string;
}

/** Receives the records of one institution, student by student. */
export interface InstitutionSink {
  enrolment(e: EnrolmentRec): void;
  /** One planned lesson; `startMin` is minutes after midnight. */
  lesson(enrolmentId: string, day: number, minutes: number, status: number, startMin: number): void;
  /** Called after every student; resolves when buffered output may grow again (back-pressure). */
  drain(): Promise<void> | void;
}

/** What distinguishes one institution from another. */
export interface InstitutionProfile {
  index: number;
  students: number;
  S: number;
  school: SchoolYear;
  /** Mean absence share of a typical student. */
  absBase: number;
  /** Share of lessons nobody registers. */
  unregRate: number;
  bblShare: number;
  hasBirthDate: boolean;
  hasStartTime: boolean;
  /** Programmes offered, with cumulative weights. */
  programmes: CodebookEntry[];
  cumWeights: number[];
  /** Per-programme absence factor. */
  progFactor: Map<string, number>;
  unknown: string[];
  /**
   * Year-to-year drift (`synthesize({ drift })`): the label that makes the student stream of
   * each studiejaar its own, and the dropout factor per sectorkamer code. Absent: no drift.
   */
  drift?: { label: string; dropout: Map<string, number> };
}

const DIPLOMA_SPELLINGS = [
  'diploma',
  'diploma',
  'diploma',
  'diploma',
  'diploma',
  'diploma',
  'Diploma',
  ' Diploma ',
  'DIPLOMA',
  'diploma ',
];
const OTHER_EXITS = [
  'werk gevonden',
  'geëindigd zonder diploma',
  'voortijdig uitgeschreven',
  'verhuisd, elders verder',
  'overstap andere instelling – mbo',
  'diploma behaald',
  '',
];

/**
 * The profile of institution `index` (1-based): size, region, levels, programme subset.
 * Institution 1 has exactly `students` students; the others 0.6x..1.4x.
 */
export function institutionProfile(
  seed: string,
  index: number,
  students: number,
  S: number,
  codebook: readonly CodebookEntry[],
  unknown: string[],
): InstitutionProfile {
  const rng = rngFor(seed, 'profile', index);
  const size = index === 1 ? students : Math.max(20, Math.round(students * (0.6 + 0.8 * rng.next())));
  const region = REGIONS[(index - 1) % 3] as (typeof REGIONS)[number];
  // Broad ROC (most of the codebook) or a vakinstelling focused on one or two sectorkamers.
  const broad = index % 4 !== 0;
  const codes = [...new Set(codebook.map((e) => e.sectorkamerCode))];
  const focus = new Set([rng.pick(codes), rng.pick(codes)]);
  const nivBias = [0, 0.6 + rng.next(), 0.8 + rng.next(), 0.8 + rng.next(), 0.5 + 1.5 * rng.next()];
  const programmes = codebook.filter((e) =>
    broad ? rng.chance(0.55) : focus.has(e.sectorkamerCode) && rng.chance(0.8),
  );
  if (programmes.length < 4) programmes.push(...codebook.slice(0, 4).filter((e) => !programmes.includes(e)));
  if (!programmes.some((e) => e.niveau === 1)) {
    const entree = codebook.find((e) => e.niveau === 1);
    if (entree) programmes.push(entree);
  }
  if (!programmes.some((e) => e.niveau === 2)) programmes.push(...codebook.filter((e) => e.niveau === 2).slice(0, 1));
  const cumWeights: number[] = [];
  let acc = 0;
  const progFactor = new Map<string, number>();
  for (const p of programmes) {
    acc += (nivBias[p.niveau] ?? 1) * Math.exp(1.1 * rng.normal()); // skewed programme sizes
    cumWeights.push(acc);
    progFactor.set(p.crebo, Math.exp(0.3 * rng.normal()));
  }
  return {
    index,
    students: size,
    S,
    school: schoolYear(S, region),
    absBase: 0.06 + 0.07 * rng.next(),
    unregRate: 0.08 * rng.next(),
    bblShare: 0.1 + 0.25 * rng.next(),
    hasBirthDate: index % 3 !== 2,
    hasStartTime: index % 3 !== 0,
    programmes,
    cumWeights,
    progFactor,
    unknown,
  };
}

interface EnrolSpec {
  rec: EnrolmentRec;
  /** 'normal' lessons, 'none', only not_applicable, or the first 6 lesson weeks unregistered. */
  mode: 'normal' | 'none' | 'na' | 'unregFirst';
  extraBefore?: boolean;
}

/** Scenario names forced on the first students of every institution (sample README list). */
const SCENARIOS = [
  'tie',
  'switchBeforeP0',
  'entreeThenN2',
  'entreeDiplomaSpaced',
  'entreeDiplomaUpper',
  'entreeDiplomaBehaald',
  'diplomaP1minus1',
  'unregFirst',
  'noObs',
  'onlyNa',
  'leaverAugSep',
  'pm1OnlyExcluded',
  'returnerOld',
  'returner0930',
  'returner1001',
  'startJuly',
  'secondYearAfterPm1',
  'secondYearOnPm1',
  'leerwegChange',
  'progressMidyear',
  'switchLower',
  'switchExcluded',
  'intakeAfterP0',
  'emptyBirth',
  'u18Signal',
  'obsBeforeStart',
  'geendigd',
] as const;
type Scenario = (typeof SCENARIOS)[number] | 'random';

/** A programme an enrolment names: a codebook entry, or a code outside the codebook. */
type Programme = CodebookEntry | { crebo: string; niveau: number; name: string };

/** The draws of one institution's student stream that every student shares (one `rng`, in order). */
interface Draws {
  rng: Rng;
  p: InstitutionProfile;
  /** Studiejaar S. */
  S: number;
  /** P0 (1 October of S) and P-1 (1 October of S - 1), day numbers. */
  P0: number;
  PM1: number;
  /** Day number of a calendar date. */
  D: (y: number, m: number, d: number) => number;
  /** A fresh enrolment id (`digits` long, starting with `lead`), never used before in this institution. */
  newId: (digits?: number, lead?: string) => string;
  /** A programme by the institution's weights, one for which `pred` holds when possible. */
  pickProg: (pred?: (e: CodebookEntry) => boolean) => CodebookEntry;
  /** A day in [a, b] (a when b <= a). */
  between: (a: number, b: number) => number;
  diploma: () => string;
  otherExit: () => string;
  /** The end date of a diploma at the end of the year. */
  summerEnd: () => number;
  /** A programme outside the codebook. */
  unknownProg: () => Programme;
  /** An entree (niveau 1) programme. */
  entree: () => CodebookEntry;
}

/** ISO date of a day number. */
const isoDay = (day: number): string => new Date(day * 86400000).toISOString().slice(0, 10);

/** The draws shared by the students of institution `p` under `seed` (see {@link Draws}). */
function institutionDraws(seed: string, p: InstitutionProfile): Draws {
  const rng = p.drift ? rngFor(seed, 'students', p.index, p.drift.label) : rngFor(seed, 'students', p.index);
  const S = p.S;
  const usedIds = new Set<string>();
  const newId = (digits?: number, lead?: string): string => {
    for (;;) {
      const d = digits ?? rng.pick([5, 5, 6, 6, 6, 7, 7]);
      const first = lead ?? String(rng.int(1, 9));
      let s = first;
      while (s.length < d) s += String(rng.int(0, 9));
      if (!usedIds.has(s)) {
        usedIds.add(s);
        return s;
      }
    }
  };
  const pickProg = (pred?: (e: CodebookEntry) => boolean): CodebookEntry => {
    for (let tries = 0; tries < 50; tries++) {
      const e = programmeAtWeight(p, rng.next() * getAt(p.cumWeights, p.cumWeights.length - 1));
      if (!pred || pred(e)) return e;
    }
    const all = pred ? p.programmes.filter(pred) : p.programmes;
    return rng.pick(all.length ? all : p.programmes);
  };
  const D = (y: number, m: number, d: number): number => dayNum(y, m, d);
  const between = (a: number, b: number): number => (b <= a ? a : rng.int(a, b));
  return {
    rng,
    p,
    S,
    P0: D(S, 10, 1),
    PM1: D(S - 1, 10, 1),
    D,
    newId,
    pickProg,
    between,
    diploma: () => rng.pick(DIPLOMA_SPELLINGS),
    otherExit: () => rng.pick(OTHER_EXITS),
    summerEnd: () => between(D(S + 1, 6, 12), p.school.lastLessonDay),
    unknownProg: () => ({ crebo: rng.pick(p.unknown), niveau: rng.int(2, 4), name: 'Onbekende opleiding' }),
    entree: () => pickProg((e) => e.niveau === 1),
  };
}

/** The programme whose cumulative weight first exceeds `r` (binary search over `p.cumWeights`). */
function programmeAtWeight(p: InstitutionProfile, r: number): CodebookEntry {
  let lo = 0,
    hi = p.cumWeights.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (getAt(p.cumWeights, mid) > r) hi = mid;
    else lo = mid + 1;
  }
  const e = p.programmes[lo];
  if (!e) throw new RangeError(`no programme at weight index ${lo}`);
  return e;
}

/** One student: scenario, main programme, propensities, and the enrolments made for them. */
interface Student {
  sc: Scenario;
  prog: CodebookEntry;
  leerweg: 'BOL' | 'BBL';
  starter: boolean;
  /** Years in the programme before S (0 for a starter). */
  yearsIn: number;
  absRate: number;
  uShare: number;
  lateRate: number;
  /** Chance of dropping out this year. */
  dropP: number;
  /** Start date of a starter without a special start. */
  startDefault: number;
  specs: EnrolSpec[];
  /** Add an enrolment of this student (a fresh id unless `id` is given) and return it. */
  mk: (e: Programme, lw: 'BOL' | 'BBL', start: number, end: number | null, exit: string, id?: string) => EnrolSpec;
}

/** Draw student `k` of the institution: everything but the enrolments, which the scenario adds. */
function drawStudent(d: Draws, k: number): Student {
  const { rng, p, S, D } = d;
  const named = p.students >= 60 ? SCENARIOS[k] : undefined;
  const sc: Scenario = named ?? 'random';
  const studentId = `0${p.index}${String(((k * 7919) % 100000) + 100000 * Math.floor(k / 100000)).padStart(5, '0')}`;
  // propensity: skewed absence with institution and programme levels
  const skew = Math.exp(0.9 * rng.normal() - 0.4);
  const uShare = 0.25 + 0.5 * rng.next();
  const lateRate = 0.03 * Math.exp(0.6 * rng.normal()) * 0.85;
  const prog = d.pickProg();
  const bbl = rng.chance(p.bblShare);
  const leerweg: 'BOL' | 'BBL' = bbl ? 'BBL' : 'BOL';
  // age on P0
  const starter = sc !== 'random' || rng.chance(0.42);
  let ageYears = bbl ? rng.int(18, 45) : prog.niveau <= 2 ? rng.int(16, 18) : rng.int(16, 19);
  const yearsIn = starter ? 0 : rng.int(1, prog.niveau >= 3 ? 3 : 1);
  if (!bbl) ageYears += yearsIn;
  const birth = drawBirthDate(d, sc, ageYears);
  const specs: EnrolSpec[] = [];
  let absRate = Math.min(0.9, p.absBase * (p.progFactor.get(prog.crebo) ?? 1) * skew);
  if (sc === 'u18Signal') absRate = 0.5;
  const dropP = Math.min(
    0.95,
    (0.03 + 0.55 * Math.min(1, absRate / 0.45) ** 1.4) * (p.drift?.dropout.get(prog.sectorkamerCode) ?? 1),
  );
  const startDefault = rng.chance(0.88)
    ? D(S, 8, 1)
    : rng.chance(0.6)
      ? p.school.firstLessonMonday
      : d.between(D(S, 8, 2), D(S, 9, 25));
  const mk: Student['mk'] = (e, lw, start, end, exit, id) => {
    const s: EnrolSpec = {
      rec: {
        studentId,
        enrolmentId: id ?? d.newId(),
        birthDate: birth,
        crebo: e.crebo,
        niveau: e.niveau,
        leerweg: lw,
        name: e.name,
        start,
        end,
        exitReason: end === null ? '' : exit,
      },
      mode: 'normal',
    };
    specs.push(s);
    return s;
  };
  return { sc, prog, leerweg, starter, yearsIn, absRate, uShare, lateRate, dropP, startDefault, specs, mk };
}

/** The birth date written for a student (ISO or ''), pinned for the scenarios around the age of 18. */
function drawBirthDate(d: Draws, sc: Scenario, ageYears: number): string {
  const { rng, p, S, D } = d;
  let birthDay = d.P0 - ageYears * 365 - rng.int(0, 364) - Math.floor(ageYears / 4);
  if (sc === 'tie') birthDay = D(S - 18, 10, 1);
  if (sc === 'switchBeforeP0') birthDay = D(S - 18, 10, 2);
  if (sc === 'entreeThenN2') birthDay = D(S - 18, 9, 30);
  if (sc === 'u18Signal') birthDay = D(S - 17, 3, 3);
  let birth = p.hasBirthDate && sc !== 'emptyBirth' && !rng.chance(0.01) ? isoDay(birthDay) : '';
  if (!p.hasBirthDate) birth = '';
  return birth;
}

/** The enrolments each named scenario makes (sample README list), drawn in the generator's order. */
const SCENARIO_ENROLMENTS: Record<Exclude<Scenario, 'random'>, (d: Draws, st: Student) => void> = {
  tie: ({ S, D, newId, pickProg }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 8, 1), null, '', newId(7, '1'));
    mk(
      pickProg((e) => e.crebo !== prog.crebo),
      'BBL',
      D(S, 8, 1),
      null,
      '',
      newId(5, '9'),
    );
  },
  switchBeforeP0: ({ S, D, pickProg }, { prog, mk }) => {
    const d = D(S, 9, 20);
    mk(prog, 'BBL', D(S, 8, 1), d - 1, 'interne overstap');
    mk(
      pickProg((e) => e.crebo !== prog.crebo),
      'BOL',
      d,
      null,
      '',
    );
  },
  entreeThenN2: ({ S, D, pickProg, entree }, { mk }) => {
    mk(entree(), 'BOL', D(S, 8, 1), D(S + 1, 6, 18), 'diploma');
    mk(
      pickProg((e) => e.niveau === 2),
      'BOL',
      D(S + 1, 8, 1),
      null,
      '',
    );
  },
  entreeDiplomaSpaced: ({ S, D, entree }, { mk }) => {
    mk(entree(), 'BOL', D(S, 8, 1), D(S + 1, 7, 8), ' Diploma ');
  },
  entreeDiplomaUpper: ({ S, D, entree }, { mk }) => {
    mk(entree(), 'BOL', D(S, 8, 1), D(S + 1, 6, 27), 'DIPLOMA');
  },
  entreeDiplomaBehaald: ({ S, D, entree }, { mk }) => {
    mk(entree(), 'BOL', D(S, 8, 1), D(S + 1, 6, 20), 'diploma behaald');
  },
  diplomaP1minus1: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BBL', D(S, 8, 1), D(S + 1, 9, 30), 'diploma');
  },
  unregFirst: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 8, 1), null, '').mode = 'unregFirst';
  },
  noObs: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 8, 1), null, '').mode = 'none';
  },
  onlyNa: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S - 1, 8, 1), null, '').mode = 'na';
  },
  leaverAugSep: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 8, 1), D(S + 1, 9, 4), 'werk gevonden');
  },
  pm1OnlyExcluded: ({ S, D, unknownProg }, { prog, mk }) => {
    mk(unknownProg(), 'BOL', D(S - 1, 8, 1), D(S, 6, 30), 'interne overstap');
    mk(prog, 'BOL', D(S, 8, 1), null, '');
  },
  returnerOld: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BBL', D(S - 3, 8, 1), D(S - 2, 3, 1), 'overstap andere instelling – mbo');
    mk(prog, 'BOL', D(S, 8, 1), null, '');
  },
  returner0930: ({ S, D, pickProg }, { prog, mk }) => {
    mk(pickProg(), 'BOL', D(S - 2, 8, 1), D(S - 1, 9, 30), '');
    mk(prog, 'BOL', D(S, 8, 1), null, '');
  },
  returner1001: ({ S, D, PM1, pickProg }, { prog, mk }) => {
    mk(pickProg(), 'BOL', D(S - 2, 8, 1), PM1, 'geëindigd zonder diploma');
    mk(prog, 'BOL', D(S, 8, 1), null, '');
  },
  startJuly: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 7, 15), null, '');
  },
  secondYearAfterPm1: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S - 1, 10, 24), null, '');
  },
  secondYearOnPm1: ({ PM1 }, { prog, mk }) => {
    mk(prog, 'BBL', PM1, null, '');
  },
  leerwegChange: ({ S, D }, { prog, mk }) => {
    const d = D(S, 12, 11);
    mk(prog, 'BOL', D(S, 8, 1), d - 1, 'interne overstap');
    mk(prog, 'BBL', d, null, '');
  },
  progressMidyear: ({ S, D, pickProg }, { mk }) => {
    const lo = pickProg((e) => e.niveau <= 3);
    const d = D(S + 1, 2, 3);
    mk(lo, 'BOL', D(S, 8, 1), d - 1, 'interne overstap');
    mk(
      pickProg((e) => e.niveau > lo.niveau),
      'BOL',
      d,
      null,
      '',
    );
  },
  switchLower: ({ S, D, pickProg }, { mk }) => {
    const hi = pickProg((e) => e.niveau >= 3);
    const d = D(S + 1, 1, 17);
    mk(hi, 'BOL', D(S, 8, 1), d - 1, 'interne overstap');
    mk(
      pickProg((e) => e.niveau < hi.niveau && e.niveau >= 2),
      'BOL',
      d,
      null,
      '',
    );
  },
  switchExcluded: ({ S, D, unknownProg }, { prog, mk }) => {
    const d = D(S + 1, 1, 6);
    mk(prog, 'BOL', D(S, 8, 1), d - 1, 'interne overstap');
    mk(unknownProg(), 'BOL', d, null, '');
  },
  intakeAfterP0: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 11, 1), null, '');
  },
  emptyBirth: ({ S, D }, { prog, leerweg, mk }) => {
    mk(prog, leerweg, D(S, 8, 1), null, '');
  },
  u18Signal: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 8, 1), null, '');
  },
  obsBeforeStart: ({ p }, { prog, mk }) => {
    mk(prog, 'BOL', p.school.firstLessonMonday + 8, null, '').extraBefore = true;
  },
  geendigd: ({ S, D }, { prog, mk }) => {
    mk(prog, 'BOL', D(S, 8, 1), D(S + 1, 2, 14), 'geëindigd zonder diploma');
  },
};

/** The enrolments of a student without a named scenario: a starter's year or a continuing one's. */
function randomEnrolments(d: Draws, st: Student): void {
  const outside = d.rng.chance(0.02);
  const base: Programme = outside ? d.unknownProg() : st.prog;
  if (st.starter) starterEnrolments(d, st, base);
  else continuingEnrolments(d, st, base);
}

/** A starter: maybe an old enrolment, then dropout, entree diploma, switch, summer exit or staying. */
function starterEnrolments(d: Draws, st: Student, base: Programme): void {
  const { rng, p, S, D, between, pickProg, unknownProg, diploma, otherExit } = d;
  const { leerweg, mk } = st;
  const r = rng.next();
  const start =
    r < 0.04
      ? between(D(S, 11, 1), D(S + 1, 2, 20))
      : r < 0.06
        ? between(D(S - 1, 10, 2), D(S - 1, 12, 31))
        : st.startDefault;
  if (rng.chance(0.02))
    mk(
      rng.chance(0.3) ? unknownProg() : pickProg(),
      'BOL',
      D(S - 3, 8, 1),
      between(D(S - 2, 9, 1), D(S - 1, 7, 15)),
      otherExit(),
    );
  if (rng.chance(st.dropP)) {
    mk(base, leerweg, start, Math.max(start, between(D(S, 9, 1), D(S + 1, 6, 30))), otherExit());
  } else if (base.niveau === 1 && rng.chance(0.85)) {
    mk(base, leerweg, start, d.summerEnd(), diploma());
    if (rng.chance(0.45))
      mk(
        pickProg((e) => e.niveau === 2),
        leerweg,
        D(S + 1, 8, 1),
        null,
        '',
      );
  } else if (rng.chance(0.09)) {
    const day = between(Math.max(start + 10, D(S, 9, 1)), D(S + 1, 3, 1));
    const r2 = rng.next();
    const next = r2 < 0.2 ? base : r2 < 0.25 ? unknownProg() : pickProg((e) => e.crebo !== base.crebo);
    mk(base, leerweg, start, day - 1, 'interne overstap');
    mk(next, r2 < 0.2 ? (leerweg === 'BOL' ? 'BBL' : 'BOL') : rng.chance(p.bblShare) ? 'BBL' : 'BOL', day, null, '');
  } else if (rng.chance(0.03)) {
    mk(base, leerweg, start, between(D(S + 1, 8, 1), D(S + 1, 9, 30)), rng.chance(0.5) ? diploma() : otherExit());
  } else {
    mk(base, leerweg, start, null, '');
    if (rng.chance(0.025))
      mk(
        pickProg((e) => e.crebo !== base.crebo),
        'BBL',
        start,
        null,
        '',
      );
  }
}

/** A student in a later year: dropout, a diploma in the final year, or staying. */
function continuingEnrolments(d: Draws, st: Student, base: Programme): void {
  const { rng, S, D, between } = d;
  const { leerweg, yearsIn, mk } = st;
  const start = rng.chance(0.9) ? D(S - yearsIn, 8, 1) : between(D(S - yearsIn - 1, 8, 1), D(S - yearsIn, 8, 1));
  const finalYear = yearsIn >= (base.niveau <= 2 ? 1 : base.niveau === 3 ? 2 : 3);
  if (rng.chance(st.dropP * 0.5)) mk(base, leerweg, start, between(D(S, 8, 15), D(S + 1, 7, 1)), d.otherExit());
  else if (finalYear && rng.chance(0.8)) mk(base, leerweg, start, d.summerEnd(), d.diploma());
  else mk(base, leerweg, start, null, '');
}

/**
 * Generate one institution, student by student, into `sink`. Deterministic for (seed, profile).
 * @see ../../shared/spec/INPUT.md
 */
export async function generateInstitution(seed: string, p: InstitutionProfile, sink: InstitutionSink): Promise<void> {
  const d = institutionDraws(seed, p);
  for (let k = 0; k < p.students; k++) {
    const st = drawStudent(d, k);
    if (st.sc === 'random') randomEnrolments(d, st);
    else SCENARIO_ENROLMENTS[st.sc](d, st);
    for (const s of st.specs) sink.enrolment(s.rec);
    for (const s of st.specs) if (s.mode !== 'none') emitLessons(d.rng, p, s, st.absRate, st.uShare, st.lateRate, sink);
    await sink.drain();
  }
}

/**
 * A weekly timetable: per ISO weekday (index 1..7) a list of [startMin, minutes]; BBL students
 * have 1-2 school days, BOL students 4-5.
 */
function drawTimetable(rng: Rng, bbl: boolean): [number, number][][] {
  const days: [number, number][][] = [[], [], [], [], [], [], [], []];
  const nDays = bbl ? (rng.chance(0.2) ? 2 : 1) : rng.chance(0.6) ? 5 : 4;
  const wd = [1, 2, 3, 4, 5];
  while (wd.length > nDays) wd.splice(rng.int(0, wd.length - 1), 1);
  for (const d of wd) {
    const lessons: [number, number][] = [];
    let t = 8 * 60 + 30 + rng.pick([0, 0, 30, 60]);
    const n = bbl ? rng.int(4, 6) : rng.int(6, 8); // ~15.5M observations for 20,000 students
    for (let i = 0; i < n; i++) {
      const m = rng.pick([45, 50, 60, 60, 90]);
      lessons.push([t, m]);
      t += m + rng.pick([5, 10, 15]);
    }
    days[d] = lessons;
  }
  return days;
}

/** Timetable + statuses of one enrolment, over its days with lessons. */
function emitLessons(
  rng: Rng,
  p: InstitutionProfile,
  s: EnrolSpec,
  absRate: number,
  uShare: number,
  lateRate: number,
  sink: InstitutionSink,
): void {
  const e = s.rec;
  const sy = p.school;
  const bbl = e.leerweg === 'BBL';
  const days = drawTimetable(rng, bbl);
  // BPV block (BOL): 8-12 weeks without lessons
  let bpvFrom = 0,
    bpvTo = -1;
  if (!bbl && rng.chance(0.45)) {
    bpvFrom = sy.firstLessonMonday + 7 * rng.int(10, 26);
    bpvTo = bpvFrom + 7 * rng.int(8, 12) - 1;
  }
  const unreg = p.unregRate * (0.5 + rng.next());
  let from = Math.max(e.start, sy.firstLessonMonday);
  // some students who were enrolled before S have observations from June-July of S (outside S)
  if (e.start < sy.firstLessonMonday - 60 && rng.chance(0.05)) from = Math.max(e.start, sy.prevYearLastLessonDay - 20);
  if (s.extraBefore) from = sy.firstLessonMonday;
  const to = Math.min(e.end ?? sy.lastLessonDay, sy.lastLessonDay);
  let lessonDays = 0;
  const unregUntil = s.mode === 'unregFirst' ? 6 : 0;
  let weeksSeen = 0;
  let lastWeek = -1;
  for (let day = from; day <= to; day++) {
    const dow = isoDow(day);
    if (dow > 5) continue;
    if (day > sy.prevYearLastLessonDay && day < sy.firstLessonMonday) continue;
    if (!sy.isSchoolDay(day)) continue;
    if (day >= bpvFrom && day <= bpvTo) continue;
    const slots = days[dow] ?? [];
    const first = slots[0];
    if (!first) continue;
    if (s.extraBefore && day < e.start) {
      // one observation before start_date (counted as given, flagged)
      if (lessonDays++ === 0) sink.lesson(e.enrolmentId, day, first[1], ST_PRESENT, first[0]);
      continue;
    }
    const wk = day - (dow - 1);
    if (wk !== lastWeek) {
      lastWeek = wk;
      weeksSeen++;
    }
    const sickDay = rng.next() < absRate * 0.45;
    const sickStatus = rng.next() < uShare * 0.6 ? ST_UNAUTH : ST_AUTH;
    for (const [t, m] of slots) {
      let st: number;
      if (s.mode === 'na') st = ST_NA;
      else if (weeksSeen <= unregUntil) st = ST_UNREG;
      else {
        const r = rng.next();
        if (r < 0.01) st = ST_NA;
        else if (r < 0.01 + unreg) st = ST_UNREG;
        else if (sickDay) st = sickStatus;
        else if (rng.next() < absRate * 0.55) st = rng.next() < uShare ? ST_UNAUTH : ST_AUTH;
        else st = rng.next() < lateRate ? ST_LATE : ST_PRESENT;
      }
      sink.lesson(e.enrolmentId, day, m, st, t);
    }
  }
}
