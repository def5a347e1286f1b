/** RFC 3339 UTC time with whole seconds (`2025-11-03T09:00:00Z`), as release documents carry it. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
