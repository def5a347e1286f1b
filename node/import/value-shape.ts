/** Longest shape shown; longer values end in `…`. */
const MAX_SHAPE = 24;

/**
 * The shape of a rejected value, never the value itself (issue 13): digits become `9`, letters
 * `a` or `A`, anything else is kept. A column can hold a student or enrolment id, a birth date
 * or a name when a row is shifted, so no import problem echoes what it found; `0760295` in the
 * leerweg column is reported as "a value shaped 9999999".
 */
export function shapeOf(value: string): string {
  let out = '';
  for (const ch of value) {
    if (out.length >= MAX_SHAPE) return `a value shaped ${out}…`;
    if (ch >= '0' && ch <= '9') out += '9';
    else if (ch.toLowerCase() !== ch.toUpperCase()) out += ch === ch.toUpperCase() ? 'A' : 'a';
    else if (ch === ' ') out += ' ';
    else if (ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127) out += '?';
    else out += ch;
  }
  return `a value shaped ${out}`;
}

/** The legend printed once under a problem list that contains shapes. */
export const SHAPE_LEGEND =
  'Rejected values are shown by shape only (9 = digit, A/a = letter), never as written, because a shifted column can hold student data.';
