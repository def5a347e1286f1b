/** The lesson values of attendance.csv (INPUT.md "attendance.csv"), parsed without allocation. */

/** Parse `HH:MM` or `H:MM`; returns a code that is equal iff the trimmed texts are equal, or -1. */
export function timeCode(s: string): number {
  const n = s.length;
  if (n !== 4 && n !== 5) return -1;
  const c = s.indexOf(':');
  if (c !== n - 3) return -1;
  let h = 0;
  for (let i = 0; i < c; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    h = h * 10 + d;
  }
  const m1 = s.charCodeAt(c + 1) - 48;
  const m2 = s.charCodeAt(c + 2) - 48;
  if (m1 < 0 || m1 > 5 || m2 < 0 || m2 > 9 || h > 23) return -1;
  return (h * 60 + m1 * 10 + m2) * 2 + (n === 4 ? 1 : 0);
}

/** Parse a whole number of minutes 1..720, or -1. */
export function minutesOf(s: string): number {
  const n = s.length;
  if (n === 0 || n > 3) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v >= 1 && v <= 720 ? v : -1;
}
