import type { AuditFinding } from './audit.js';
import { hierarchicalRelations } from './relations.js';
import type { BlockName, DisclosureContext, DisclosureDecisions, RowDecision } from './types.js';

/** The pass name recorded on suppressions made by {@link escalateSuppression}. */
export const ESCALATION_PASS = 'escalation';

/**
 * The last resort of secondary suppression, when the targeted retries of `discloseAndAudit`
 * leave findings (a count still pinned, a value still determined, an interval still narrow):
 * for each such finding, suppress its block in every entry of the smallest additive relation
 * around the finding's entry that still publishes something in that block (its siblings and
 * their total, or its own members when it is a total); when every relation around it is
 * suppressed already, climb to those relations' totals and do the same there.
 *
 * Why this is safe and ends: each step only suppresses more (never publishes), so it ends —
 * `null` once every relation reachable upward from the findings is suppressed whole (the sector
 * total itself excepted). It proves nothing: the audit runs after every step and alone decides
 * that a release is safe; if findings remain when escalation ends, the release is refused and
 * nothing is signed (docs/DISCLOSURE.md, "Escalation").
 *
 * @param ctx the round's disclosure context (codebook, rows)
 * @param decisions the decisions so far (not changed)
 * @param findings the audit's remaining findings; only `block` and `entry` (`cell:<key>` or `rollup:<key>`) are used
 * @returns the new decisions, or `null` when every block these findings touch is already suppressed
 */
export function escalateSuppression(
  ctx: DisclosureContext,
  decisions: DisclosureDecisions,
  findings: readonly Pick<AuditFinding, 'block' | 'entry'>[],
): DisclosureDecisions | null {
  const { cellKeys, groupKeys } = ctx.codebook;
  const nc = cellKeys.length;
  const indexOf = new Map<string, number>();
  for (const [i, k] of cellKeys.entries()) indexOf.set(`cell:${k}`, i);
  for (const [j, k] of groupKeys.entries()) indexOf.set(`rollup:${k}`, nc + j);
  const relations = hierarchicalRelations(ctx.codebook);
  const cells = new Map(decisions.cells);
  const rollups = new Map(decisions.rollups);
  let changed = 0;
  const suppress = (entry: number, block: BlockName) => {
    const [map, key] = entry < nc ? [cells, cellKeys[entry]] : [rollups, groupKeys[entry - nc]];
    // The sector total stays: it is the sector's own figure, and with it published a count that
    // it shows as 0 is 0 in every row (the exception of issue 12, DECISIONS), which suppressing
    // it would turn into pinned counts everywhere. Its members are suppressed instead.
    if (key === undefined || key === 'total') return;
    const row = map.get(key);
    if (!row || row[block].status === 'suppressed') return;
    const next: RowDecision = {
      ...row,
      [block]: { status: 'suppressed', rule: 'secondary', pass: ESCALATION_PASS, note: 'escalation' },
    };
    map.set(key, next);
    changed++;
  };
  const isSuppressed = (entry: number, block: BlockName) => {
    const [map, key] = entry < nc ? [cells, cellKeys[entry]] : [rollups, groupKeys[entry - nc]];
    const row = key === undefined ? undefined : map.get(key);
    return !row || row[block].status === 'suppressed';
  };
  // Smallest relations first: a sectorkamer × niveau group has a few cells, a leerweg rollup all of them.
  const bySize = [...relations].sort((a, b) => a.members.length - b.members.length);
  for (const f of findings) {
    const start = indexOf.get(f.entry);
    if (start === undefined) continue;
    suppress(start, f.block);
    // Climb: the smallest relation around the entry that still publishes something in this
    // block is suppressed whole; when every relation around it is, climb to their totals.
    const frontier = [start];
    const seen = new Set<number>();
    while (frontier.length > 0) {
      const e = frontier.shift() as number;
      if (seen.has(e)) continue;
      seen.add(e);
      const around = bySize.filter((r) => r.total === e || r.members.includes(e));
      const open = around.find((r) => [r.total, ...r.members].some((m) => !isSuppressed(m, f.block)));
      if (open) {
        suppress(open.total, f.block);
        for (const m of open.members) suppress(m, f.block);
        break;
      }
      for (const r of around) if (r.total !== e) frontier.push(r.total);
    }
  }
  if (changed === 0) return null;
  return decisions.withheld ? { cells, rollups, withheld: decisions.withheld } : { cells, rollups };
}
