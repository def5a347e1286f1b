/**
 * Calendar arithmetic on day numbers (days since 1970-01-01, UTC-free civil dates), for the
 * time frame of METRICS.md: studiejaar, peildata, ISO weeks.
 *
 * @see ../../../shared/spec/METRICS.md "Time frame"
 */

/** Day number of a civil date (Howard Hinnant's days_from_civil). */
export function dayNumber(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date of a day number. */
export function civil(z: number): { y: number; m: number; d: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

export function isoDate(z: number): string {
  const { y, m, d } = civil(z);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Day number of the Monday of the ISO-8601 week holding day `z` (1970-01-01 was a Thursday). */
export function isoMonday(z: number): number {
  const dow = (((z + 3) % 7) + 7) % 7; // Monday = 0
  return z - dow;
}

/** The studiejaar S that day `z` falls in: 1 August S .. 31 July S+1. */
export function studiejaarOf(z: number): number {
  const { y, m } = civil(z);
  return m >= 8 ? y : y - 1;
}

/** The fixed dates of a round for studiejaar S. */
export interface RoundCalendar {
  year: number;
  label: string;
  /** 1 August S */
  start: number;
  /** 31 July S+1 */
  end: number;
  /** P-1 = 1 October S-1 */
  pMinus1: number;
  /** P0 = 1 October S */
  p0: number;
  /** P1 = 1 October S+1 */
  p1: number;
}

export function roundCalendar(year: number): RoundCalendar {
  if (!Number.isInteger(year) || year < 1990 || year > 2200) {
    throw new RangeError(`studiejaar ${year} is not a plausible year (expected e.g. 2024 for 2024-2025)`);
  }
  return {
    year,
    label: `${year}-${year + 1}`,
    start: dayNumber(year, 8, 1),
    end: dayNumber(year + 1, 7, 31),
    pMinus1: dayNumber(year - 1, 10, 1),
    p0: dayNumber(year, 10, 1),
    p1: dayNumber(year + 1, 10, 1),
  };
}

/** Whole years between birth day `b` and day `p` (birthday rule). */
export function ageOn(b: number, p: number): number {
  const bc = civil(b);
  const pc = civil(p);
  let age = pc.y - bc.y;
  if (pc.m < bc.m || (pc.m === bc.m && pc.d < bc.d)) age--;
  return age;
}
