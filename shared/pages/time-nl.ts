/**
 * Times for people: in Europe/Amsterdam (CET/CEST), Dutch wording, with the zone named, e.g.
 * `30 november 2026 om 18:24:10 (Nederlandse tijd)`.
 */
const FMT = new Intl.DateTimeFormat('nl-NL', {
  timeZone: 'Europe/Amsterdam',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** A moment (Date or ISO string) in Europe/Amsterdam; unparseable input is returned unchanged. */
export function amsterdamTime(t: Date | string): string {
  const d = typeof t === 'string' ? new Date(t) : t;
  if (Number.isNaN(d.getTime())) return String(t);
  return `${FMT.format(d)} (Nederlandse tijd)`;
}
