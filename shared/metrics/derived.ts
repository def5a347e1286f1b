/**
 * Derived figures of METRICS.md ("Derived figures"), computed only from sums (after
 * disclosure control for sector figures). A figure is null when a sum it needs is null
 * (suppressed) or its denominator is 0.
 *
 * @see ../../../shared/spec/METRICS.md "Derived figures"
 */
export type Sums = Record<string, number | null | undefined>;

export interface DerivedFigure {
  id: string;
  /** Dutch label for reports. */
  label: string;
  /** Which block it needs. */
  block: 'A' | 'B';
  /** Whether a higher value is better for students (null: neither, e.g. switching). */
  higherIsBetter: boolean | null;
  compute: (s: Sums) => number | null;
  /**
   * The number of persons (enrolments or starters) behind the figure: the population of its
   * funnel plot. For minute- and lesson-based rates this is the number of rated enrolments,
   * not the minutes (see docs/DECISIONS.md, funnel plots).
   */
  population: (s: Sums) => number | null;
  /** How the figure reads: a share (`12,3%`) or a count per 100 lessons (`4,2 per 100 lessen`). */
  unit: 'share' | 'per100';
}

const ratio = (num: (number | null | undefined)[], den: (number | null | undefined)[]): number | null => {
  if ([...num, ...den].some((x) => x === null || x === undefined)) return null;
  const n = (num as number[]).reduce((a, b) => a + b, 0);
  const d = (den as number[]).reduce((a, b) => a + b, 0);
  return d > 0 ? n / d : null;
};

const count = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : x);

export const DERIVED: readonly DerivedFigure[] = [
  {
    id: 'attendance_rate',
    population: (s) => count(s.a_rated),
    unit: 'share',
    label: 'Aanwezigheid (van geregistreerde minuten)',
    block: 'A',
    higherIsBetter: true,
    compute: (s) => ratio([s.a_min_present], [s.a_min_registered]),
  },
  {
    id: 'absence_rate',
    population: (s) => count(s.a_rated),
    unit: 'share',
    label: 'Verzuim (geoorloofd en ongeoorloofd)',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_min_abs_auth, s.a_min_abs_unauth], [s.a_min_registered]),
  },
  {
    id: 'absence_authorized_rate',
    population: (s) => count(s.a_rated),
    unit: 'share',
    label: 'Geoorloofd verzuim',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_min_abs_auth], [s.a_min_registered]),
  },
  {
    id: 'absence_unauthorized_rate',
    population: (s) => count(s.a_rated),
    unit: 'share',
    label: 'Ongeoorloofd verzuim',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_min_abs_unauth], [s.a_min_registered]),
  },
  {
    id: 'registration_coverage',
    population: (s) => count(s.a_enrolments),
    unit: 'share',
    label: 'Registratiegraad',
    block: 'A',
    higherIsBetter: true,
    compute: (s) => ratio([s.a_min_registered], [s.a_min_planned]),
  },
  {
    id: 'chronic_absence_share',
    population: (s) => count(s.a_rated),
    unit: 'share',
    label: 'Aandeel met ≥ 10% verzuim',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_hist_3, s.a_hist_4, s.a_hist_5, s.a_hist_6, s.a_hist_7], [s.a_rated]),
  },
  {
    id: 'signal16_share',
    population: (s) => count(s.a_enrolments),
    unit: 'share',
    label: 'Aandeel met 16-uurssignaal',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_signal16], [s.a_enrolments]),
  },
  {
    id: 'startersresultaat',
    population: (s) => count(s.b_starters),
    unit: 'share',
    label: 'Startersresultaat',
    block: 'B',
    higherIsBetter: true,
    compute: (s) => ratio([s.b_retained, s.b_left_diploma], [s.b_starters]),
  },
  {
    id: 'dropout_share',
    population: (s) => count(s.b_starters),
    unit: 'share',
    label: 'Uitval jaar 1',
    block: 'B',
    higherIsBetter: false,
    compute: (s) => {
      if ([s.b_starters, s.b_retained, s.b_left_diploma].some((x) => x === null || x === undefined)) return null;
      const st = s.b_starters as number;
      return st > 0 ? (st - (s.b_retained as number) - (s.b_left_diploma as number)) / st : null;
    },
  },
  {
    id: 'switch_share',
    population: (s) => count(s.b_starters),
    unit: 'share',
    label: 'Overstap binnen de instelling',
    block: 'B',
    higherIsBetter: null,
    compute: (s) => ratio([s.b_switched], [s.b_starters]),
  },
  {
    id: 'progression_share',
    population: (s) => count(s.b_starters),
    unit: 'share',
    label: 'Doorstroom naar een hoger niveau',
    block: 'B',
    higherIsBetter: null,
    compute: (s) => ratio([s.b_progressed], [s.b_starters]),
  },
  {
    id: 'late_per_100',
    population: (s) => count(s.a_rated),
    unit: 'per100',
    label: 'Te laat per 100 lessen',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_late], [s.a_obs_registered]),
  },
  {
    id: 'signal16_u18_share',
    population: (s) => count(s.a_enrolments_u18),
    unit: 'share',
    label: 'Aandeel met 16-uurssignaal, jonger dan 18',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_signal16_u18], [s.a_enrolments_u18]),
  },
];

/** Bins of early attendance x (per mille present of registered, METRICS.md B7..B11), in Dutch. */
export const EARLY_BANDS: readonly string[] = Object.freeze([
  'onder 70%',
  '70% tot 80%',
  '80% tot 90%',
  '90% tot 95%',
  '95% tot en met 100%',
]);

/**
 * Dropout share per early-attendance band: `b_early_dropout_i / b_early_total_i` for i = 0..4,
 * null where the band is empty or suppressed (METRICS.md "Derived figures").
 */
export function earlyBandDropout(s: Sums): { total: number | null; dropouts: number | null; rate: number | null }[] {
  return [0, 1, 2, 3, 4].map((i) => {
    const n = s[`b_early_total_${i}`];
    const d = s[`b_early_dropout_${i}`];
    const total = n === null || n === undefined ? null : n;
    const dropouts = d === null || d === undefined ? null : d;
    return { total, dropouts, rate: total !== null && dropouts !== null && total > 0 ? dropouts / total : null };
  });
}

/**
 * Pearson r between early attendance x and dropout y (0/1) from the sums of block B, in exact
 * integer arithmetic (BigInt: `n*Sxx` exceeds 2^53 at sector level):
 * `r = (n*Sxy - Sx*Sy) / sqrt((n*Sxx - Sx^2) * (n*Syy - Sy^2))` with Sy = Syy = sum of
 * `b_early_dropout_i`. Null when a slot is missing or suppressed, or a factor is 0.
 * @see ../../../shared/spec/METRICS.md "Derived figures"
 */
export function pearsonEarly(s: Sums): number | null {
  const names = ['b_early_n', 'b_sum_x', 'b_sum_x2', 'b_sum_xy', ...[0, 1, 2, 3, 4].map((i) => `b_early_dropout_${i}`)];
  if (names.some((k) => s[k] === null || s[k] === undefined)) return null;
  const b = (k: string) => BigInt(s[k] as number);
  const n = b('b_early_n');
  const sx = b('b_sum_x');
  const sxx = b('b_sum_x2');
  const sxy = b('b_sum_xy');
  const sy = [0, 1, 2, 3, 4].reduce((a, i) => a + b(`b_early_dropout_${i}`), 0n);
  const num = n * sxy - sx * sy;
  const d1 = n * sxx - sx * sx;
  const d2 = n * sy - sy * sy;
  if (d1 <= 0n || d2 <= 0n) return null;
  return Number(num) / (Math.sqrt(Number(d1)) * Math.sqrt(Number(d2)));
}

/**
 * Cohen's (1988) reading of a correlation's size, in Dutch: |r| < 0,10 verwaarloosbaar,
 * from 0,10 zwak, from 0,30 middelmatig, from 0,50 sterk.
 */
export function cohenReading(r: number | null): string {
  if (r === null) return 'niet te berekenen';
  const a = Math.abs(r);
  const size = a >= 0.5 ? 'sterk' : a >= 0.3 ? 'middelmatig' : a >= 0.1 ? 'zwak' : 'verwaarloosbaar';
  if (size === 'verwaarloosbaar') return 'verwaarloosbaar verband';
  return `${size} ${r < 0 ? 'negatief' : 'positief'} verband`;
}

/** Format a share as a Dutch percentage with one decimal (`12,3%`), or `—`. */
export function formatShare(x: number | null): string {
  return x === null ? '—' : `${(100 * x).toFixed(1).replace('.', ',')}%`;
}
