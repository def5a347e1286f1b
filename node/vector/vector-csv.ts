import type { VectorJson } from '../../shared/metrics/vector.js';

/**
 * CSV rendering of a vector: one line per non-zero row, `kind,key,` then the slots in
 * METRICS.md order (cell rows: 64 slots; group rows: the 24 block-C slots, the rest empty).
 */
export function vectorToCsv(v: VectorJson): string {
  const lines = [['kind', 'key', ...v.slots].join(',')];
  for (const [k, row] of Object.entries(v.cells))
    lines.push(['cell', k, ...v.slots.map((s) => String(row[s] ?? 0))].join(','));
  const blockC = new Set(v.group_slots);
  for (const [k, row] of Object.entries(v.groups)) {
    lines.push(['group', k, ...v.slots.map((s) => (blockC.has(s) ? String(row[s] ?? 0) : ''))].join(','));
  }
  return `${lines.join('\n')}\n`;
}
