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
}

const ratio = (num: (number | null | undefined)[], den: (number | null | undefined)[]): number | null => {
  if ([...num, ...den].some((x) => x === null || x === undefined)) return null;
  const n = (num as number[]).reduce((a, b) => a + b, 0);
  const d = (den as number[]).reduce((a, b) => a + b, 0);
  return d > 0 ? n / d : null;
};

export const DERIVED: readonly DerivedFigure[] = [
  {
    id: 'attendance_rate',
    label: 'Aanwezigheid (van geregistreerde minuten)',
    block: 'A',
    higherIsBetter: true,
    compute: (s) => ratio([s.a_min_present], [s.a_min_registered]),
  },
  {
    id: 'absence_authorized_rate',
    label: 'Geoorloofd verzuim',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_min_abs_auth], [s.a_min_registered]),
  },
  {
    id: 'absence_unauthorized_rate',
    label: 'Ongeoorloofd verzuim',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_min_abs_unauth], [s.a_min_registered]),
  },
  {
    id: 'registration_coverage',
    label: 'Registratiegraad',
    block: 'A',
    higherIsBetter: true,
    compute: (s) => ratio([s.a_min_registered], [s.a_min_planned]),
  },
  {
    id: 'chronic_absence_share',
    label: 'Aandeel met ≥ 10% verzuim',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_hist_3, s.a_hist_4, s.a_hist_5, s.a_hist_6, s.a_hist_7], [s.a_rated]),
  },
  {
    id: 'signal16_share',
    label: 'Aandeel met 16-uurssignaal',
    block: 'A',
    higherIsBetter: false,
    compute: (s) => ratio([s.a_signal16], [s.a_enrolments]),
  },
  {
    id: 'startersresultaat',
    label: 'Startersresultaat',
    block: 'B',
    higherIsBetter: true,
    compute: (s) => ratio([s.b_retained, s.b_left_diploma], [s.b_starters]),
  },
  {
    id: 'dropout_share',
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
    label: 'Overstap binnen de instelling',
    block: 'B',
    higherIsBetter: null,
    compute: (s) => ratio([s.b_switched], [s.b_starters]),
  },
];

/** Format a share as a Dutch percentage with one decimal (`12,3%`), or `—`. */
export function formatShare(x: number | null): string {
  return x === null ? '—' : `${(100 * x).toFixed(1).replace('.', ',')}%`;
}
