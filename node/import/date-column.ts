import { dayNumber, daysInMonth } from '../../shared/metrics/calendar.js';

/** Detected date format of one column: ISO `YYYY-MM-DD`, or day-first `D-M-YYYY`/`DD-MM-YYYY`. */
export type DateFormat = 'iso' | 'day-first';

/**
 * Parses one date column. The format is detected per column from its first non-empty value;
 * a column that mixes ISO and day-first dates is an error (INPUT.md "Formats"). The last value
 * is cached: attendance files repeat the same date on consecutive rows.
 */
export class DateColumn {
  format: DateFormat | undefined;
  private lastText = '';
  private lastDay = 0;

  /** Day number, or the reason the value is not a date (without the value: callers decide whether
   * echoing it is safe; a birth date is personal data). */
  parse(text: string): number | string {
    if (text === this.lastText) return this.lastDay;
    const r = this.parseUncached(text);
    if (typeof r === 'number') {
      this.lastText = text;
      this.lastDay = r;
    }
    return r;
  }

  private parseUncached(s: string): number | string {
    const n = s.length;
    let y: number;
    let m: number;
    let d: number;
    let fmt: DateFormat;
    if (n === 10 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45) {
      y = num(s, 0, 4);
      m = num(s, 5, 7);
      d = num(s, 8, 10);
      fmt = 'iso';
    } else {
      const a = s.indexOf('-');
      const b = a < 0 ? -1 : s.indexOf('-', a + 1);
      if (a < 1 || a > 2 || b - a < 2 || b - a > 3 || n - b !== 5) {
        return 'is not a date (expected YYYY-MM-DD or DD-MM-YYYY)';
      }
      d = num(s, 0, a);
      m = num(s, a + 1, b);
      y = num(s, b + 1, n);
      fmt = 'day-first';
    }
    if (Number.isNaN(y) || Number.isNaN(m) || Number.isNaN(d)) {
      return 'is not a date (expected YYYY-MM-DD or DD-MM-YYYY)';
    }
    if (this.format && this.format !== fmt) {
      const started = this.format === 'iso' ? 'ISO (YYYY-MM-DD)' : 'day-first (DD-MM-YYYY)';
      return (
        `is ${fmt === 'iso' ? 'an ISO' : 'a day-first'} date, but this column started with ${started} ` +
        'dates; a column must use one format'
      );
    }
    if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) || y < 1900 || y > 2200) {
      return 'is an impossible date';
    }
    this.format = fmt;
    return dayNumber(y, m, d);
  }
}

function num(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}
