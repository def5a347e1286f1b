import { BLOCKS } from './context.js';
import type { BlockName, DisclosureContext, DisclosureDecisions, DisclosurePass, RowDecision } from './types.js';

/** What each pass changed: the blocks it suppressed, for the release log and the audit. */
export interface PassSummary {
  pass: string;
  suppressed: number;
}

/** Decisions with every block of every row published (the start of the pipeline). */
export function allPublished(ctx: DisclosureContext): DisclosureDecisions {
  const row = (): RowDecision =>
    Object.fromEntries(BLOCKS.map((b) => [b, { status: 'published' }])) as unknown as RowDecision;
  return {
    cells: new Map(ctx.cells.map((r) => [r.key, row()])),
    rollups: new Map(ctx.rollups.map((r) => [r.key, row()])),
  };
}

function count(d: DisclosureDecisions): number {
  let n = 0;
  for (const m of [d.cells, d.rollups])
    for (const r of m.values()) for (const b of BLOCKS) if (r[b as BlockName].status === 'suppressed') n++;
  return n;
}

/**
 * Run disclosure passes in order over the decisions. A pass may only suppress more: if one
 * publishes a block an earlier pass suppressed, changes its rule, or drops a row, this throws
 * (a programming error, never data-dependent), so later passes (dominance, distributions,
 * secondary suppression) cannot undo the primary rules.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Layers of protection" (disclosure control)
 */
export function runDisclosure(
  ctx: DisclosureContext,
  passes: readonly DisclosurePass[],
  start: DisclosureDecisions = allPublished(ctx),
): { decisions: DisclosureDecisions; summary: PassSummary[] } {
  let current = start;
  const summary: PassSummary[] = [];
  for (const pass of passes) {
    const applied = pass.apply(ctx, current);
    // Withheld slots are chosen after the passes (protect.ts); a pass keeps them.
    const next = current.withheld && !applied.withheld ? { ...applied, withheld: current.withheld } : applied;
    for (const kind of ['cells', 'rollups'] as const) {
      if (next[kind].size !== current[kind].size)
        throw new Error(`disclosure pass ${pass.name} changed the number of ${kind}`);
      for (const [key, before] of current[kind]) {
        const after = next[kind].get(key);
        if (!after) throw new Error(`disclosure pass ${pass.name} dropped ${kind} ${key}`);
        for (const b of BLOCKS) {
          const x = before[b];
          const y = after[b];
          if (x.status === 'suppressed' && (y.status !== 'suppressed' || y.rule !== x.rule)) {
            throw new Error(
              `disclosure pass ${pass.name} tried to undo the ${x.rule} suppression of block ${b} of ${kind} ${key}`,
            );
          }
        }
      }
    }
    summary.push({ pass: pass.name, suppressed: count(next) - count(current) });
    current = next;
  }
  return { decisions: current, summary };
}
