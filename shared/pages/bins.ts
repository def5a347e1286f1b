/**
 * Bin edges of the distributions of institutions' rates (METRICS.md block C, per mille) and
 * their Dutch labels.
 */
import { getAt } from '../arrays/checked-index.js';

const pctNl = new Intl.NumberFormat('nl-NL', { style: 'percent', maximumFractionDigits: 1 });

/** `c_abs_bin_0..9` edges in per mille. */
export const ABS_BIN_EDGES: readonly number[] = Object.freeze([0, 50, 75, 100, 125, 150, 175, 200, 250, 300, 1000]);
/** `c_drop_bin_0..9` edges in per mille. */
export const DROP_BIN_EDGES: readonly number[] = Object.freeze([0, 50, 100, 150, 200, 250, 300, 350, 400, 500, 1000]);

/** Label of bin k, e.g. `5–7,5%`; the last bin includes 100%. */
export function binLabel(edges: readonly number[], k: number): string {
  const lo = getAt(edges, k) / 1000;
  const hi = getAt(edges, k + 1) / 1000;
  return `${pctNl.format(lo).replace(/\s?%$/, '')}–${pctNl.format(hi).replace(/\s/, '')}`;
}
