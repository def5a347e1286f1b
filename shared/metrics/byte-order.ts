/**
 * Ids and codes compare as the byte strings of their UTF-8 encoding (METRICS.md, Conventions):
 * `'10'` sorts before `'9'`. JavaScript's `<` compares UTF-16 code units, which differs for
 * characters outside the BMP, so compare encoded bytes.
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
