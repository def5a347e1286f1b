import type { ReleaseRow } from '../../schemas/release.js';
import { KEYHOLDER_ONLY_SLOTS } from '../../shared/metrics/slots.js';
import { BLOCK_COUNTS, BLOCK_SLOTS, BLOCKS } from './context.js';
import type { DisclosureContext, DisclosureDecisions, RowDecision, SectorRow } from './types.js';

function renderRow(row: SectorRow, decision: RowDecision, withheld?: ReadonlyMap<string, string>): ReleaseRow {
  const slots: Record<string, number | null> = {};
  const suppressed: ReleaseRow['suppressed'] = {};
  for (const b of BLOCKS) {
    const d = decision[b];
    for (const s of BLOCK_SLOTS[b]) {
      if (KEYHOLDER_ONLY_SLOTS.includes(s)) throw new Error(`slot ${s} must never be released`);
      const note = d.status === 'published' ? withheld?.get(s) : undefined;
      if (note !== undefined) {
        slots[s] = null;
        suppressed[s] = { rule: 'secondary', note };
      } else if (d.status === 'published') {
        slots[s] = row.values[s] as number;
      } else {
        slots[s] = null;
        suppressed[s] = d.note === undefined ? { rule: d.rule } : { rule: d.rule, note: d.note };
      }
    }
  }
  return {
    institutions: {
      a: row.facts[BLOCK_COUNTS.A.institutions] as number,
      b: row.facts[BLOCK_COUNTS.B.institutions] as number,
    },
    slots,
    suppressed,
  };
}

/**
 * The release rows: for every cell and rollup group, each block A and B slot's sector sum or
 * `null` with the rule that suppressed its block (or, in a published rollup block, that withheld
 * the slot alone: `decisions.withheld`), and the institutions behind blocks A and B.
 * Block C (`c_sq_*` above all) is not rendered.
 */
export function renderReleaseRows(
  ctx: DisclosureContext,
  decisions: DisclosureDecisions,
): { cells: Record<string, ReleaseRow>; rollups: Record<string, ReleaseRow> } {
  const cells: Record<string, ReleaseRow> = {};
  for (const r of ctx.cells) cells[r.key] = renderRow(r, decisions.cells.get(r.key) as RowDecision);
  const rollups: Record<string, ReleaseRow> = {};
  for (const r of ctx.rollups)
    rollups[r.key] = renderRow(r, decisions.rollups.get(r.key) as RowDecision, decisions.withheld?.get(r.key));
  return { cells, rollups };
}
