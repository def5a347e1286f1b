/**
 * Calendar helpers for synthetic timetables: days as integers (days since 1970-01-01, UTC), ISO
 * weeks, Easter, and an approximation of the Dutch school holidays per region.
 */

/** Day number (days since 1970-01-01) of a calendar date. */
export function dayNum(y: number, m: number, d: number): number {
  return Math.floor(Date.UTC(y, m - 1, d) / 86400000);
}

/** ISO `YYYY-MM-DD` of a day number. */
export function isoDate(day: number): string {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

/** ISO weekday 1 (Monday) .. 7 (Sunday). */
export function isoDow(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday
}

/** Day number of the Monday of ISO week `w` of ISO year `y`. */
export function isoWeekMonday(y: number, w: number): number {
  const jan4 = dayNum(y, 1, 4);
  return jan4 - (isoDow(jan4) - 1) + (w - 1) * 7;
}

/** Easter Sunday (anonymous Gregorian algorithm). */
export function easter(y: number): number {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNum(y, month, day);
}

export type Region = 'noord' | 'midden' | 'zuid';
export const REGIONS: readonly Region[] = ['noord', 'midden', 'zuid'];

/** ISO week in which the summer holiday of calendar year y starts (rotates over the regions). */
function summerStartWeek(y: number, region: Region): number {
  return 28 + ((y + REGIONS.indexOf(region)) % 3);
}

/** The lesson calendar of studiejaar S for a region. */
export interface SchoolYear {
  S: number;
  region: Region;
  /** First Monday with lessons (after the summer holiday of S). */
  firstLessonMonday: number;
  /** Last day (Friday) with lessons before the summer holiday of S+1. */
  lastLessonDay: number;
  /** Last lesson day before the summer holiday of S (the tail of studiejaar S-1). */
  prevYearLastLessonDay: number;
  /** True when a weekday is a school day (not a holiday or public holiday). */
  isSchoolDay(day: number): boolean;
}

/**
 * Approximate Dutch mbo calendar for studiejaar S: summer holidays per region (6 weeks,
 * rotating), autumn (week 42/43), Christmas (two weeks around New Year), spring (week 8/9), May
 * (week 18), and public holidays (New Year, Easter Monday, King's Day, 5 May, Ascension + Friday,
 * Whit Monday).
 */
export function schoolYear(S: number, region: Region): SchoolYear {
  const firstLessonMonday = isoWeekMonday(S, summerStartWeek(S, region) + 6);
  const lastLessonDay = isoWeekMonday(S + 1, summerStartWeek(S + 1, region)) - 3;
  const prevYearLastLessonDay = isoWeekMonday(S, summerStartWeek(S, region)) - 3;
  const holidays = new Set<number>();
  const week = (y: number, w: number): void => {
    const m = isoWeekMonday(y, w);
    for (let i = 0; i < 7; i++) holidays.add(m + i);
  };
  const ri = REGIONS.indexOf(region);
  week(S, region === 'zuid' ? 42 : 43);
  // Christmas: the week holding 25 December and the next one.
  const xmas = dayNum(S, 12, 25);
  const xm = xmas - (isoDow(xmas) - 1);
  for (let i = 0; i < 14; i++) holidays.add(xm + i);
  week(S + 1, ri === 0 ? 8 : 9);
  week(S + 1, 18);
  const e = easter(S + 1);
  const kd = dayNum(S + 1, 4, 27);
  for (const d of [
    dayNum(S + 1, 1, 1),
    e + 1,
    isoDow(kd) === 7 ? kd - 1 : kd,
    dayNum(S + 1, 5, 5),
    e + 39,
    e + 40,
    e + 50,
  ])
    holidays.add(d);
  return {
    S,
    region,
    firstLessonMonday,
    lastLessonDay,
    prevYearLastLessonDay,
    isSchoolDay: (day) => isoDow(day) <= 5 && !holidays.has(day),
  };
}
