import { BLOCK_COUNTS, BLOCKS } from './context.js';
import { ExactBasis } from './exact-rref.js';
import { hierarchicalRelations, relationsByEntry, type Relation } from './relations.js';
import type {
  BlockDecision,
  BlockName,
  DisclosureContext,
  DisclosureDecisions,
  DisclosurePass,
  RowDecision,
  SectorRow,
} from './types.js';

export const SECONDARY_PASS_NAME = 'secondary';

/** Rules whose blocks need a protection interval (sensitive cells); `secondary` ones only need to stay undetermined. */
export const SENSITIVE_RULES: readonly string[] = Object.freeze(['min_institutions', 'min_population', 'dominance']);

/** The protection an audit asks for: interval width at least `max(minWidth, v * num / den)`. */
export interface ProtectionParams {
  minWidth: number;
  ratioNum: number;
  ratioDen: number;
  /** Rules whose suppressed blocks must have that interval width. */
  rules: readonly string[];
}

/** Defaults of the issue: `hi - lo >= max(3, v / 2)` for primary and dominance suppressions. */
export const DEFAULT_PROTECTION: ProtectionParams = Object.freeze({
  minWidth: 3,
  ratioNum: 1,
  ratioDen: 2,
  rules: SENSITIVE_RULES,
});

/** Required protection width for a value: `max(minWidth, ceil(v * num / den))`. */
export function requiredWidth(v: number, p: ProtectionParams): number {
  return Math.max(p.minWidth, Math.ceil((v * p.ratioNum) / p.ratioDen));
}

/** A request to protect an entry of a block table further (from a failed interval check). */
export interface ProtectionRequest {
  block: BlockName;
  /** Row key of the entry whose interval was too narrow. */
  key: string;
  /** How much more width it needs. */
  deficit: number;
}

const ROLLUP_COST = 1e12;
const UNDERSIZED_COST = 1e9;

/** One block of the release table as secondary suppression sees it. */
class BlockTable {
  readonly rows: SectorRow[];
  readonly value: number[];
  readonly institutions: number[];
  readonly lowerBound: number[];
  /** 0 published, 1 known zero (no institution), 2 suppressed. */
  readonly state: Uint8Array;
  readonly relations: Relation[];
  readonly byEntry: number[][];
  readonly unknownCount: Int32Array;
  readonly index: Map<string, number>;
  readonly added = new Map<number, BlockDecision>();
  /** Entries suppressed on request of the interval check: never pruned. */
  readonly pinned = new Set<number>();

  constructor(
    readonly ctx: DisclosureContext,
    readonly block: BlockName,
    decisions: DisclosureDecisions,
    readonly protection: ProtectionParams,
  ) {
    this.rows = [...ctx.cells, ...ctx.rollups];
    const { population, institutions } = BLOCK_COUNTS[block];
    this.value = this.rows.map((r) => r.values[population] as number);
    this.institutions = this.rows.map((r) => r.facts[institutions] as number);
    this.lowerBound = this.institutions.map((n, i) =>
      Math.max(n, this.decisionOf(decisions, i).status === 'published' ? ctx.thresholds.min_population : 0),
    );
    this.index = new Map(this.rows.map((r, i) => [`${r.kind}:${r.key}`, i]));
    this.state = new Uint8Array(this.rows.length);
    this.rows.forEach((_, i) => {
      if (this.institutions[i] === 0) this.state[i] = 1;
      else if (this.decisionOf(decisions, i).status === 'suppressed') this.state[i] = 2;
    });
    this.relations = hierarchicalRelations(ctx.codebook);
    this.byEntry = relationsByEntry(this.relations, this.rows.length);
    this.unknownCount = new Int32Array(this.relations.length);
    this.relations.forEach((r, k) => {
      this.unknownCount[k] = [r.total, ...r.members].filter((e) => this.state[e] === 2).length;
    });
  }

  private decisionOf(d: DisclosureDecisions, i: number): BlockDecision {
    const row = this.rows[i] as SectorRow;
    return ((row.kind === 'cell' ? d.cells : d.rollups).get(row.key) as RowDecision)[this.block];
  }

  private members(k: number): number[] {
    const r = this.relations[k] as Relation;
    return [r.total, ...r.members];
  }

  /** Need of a suppressed entry: its protection width if its rule is sensitive, else 0. */
  private need(e: number, decisions: DisclosureDecisions): number {
    const d = this.decisionOf(decisions, e);
    if (d.status !== 'suppressed' || !this.protection.rules.includes(d.rule)) return 0;
    return requiredWidth(this.value[e] as number, this.protection);
  }

  /** Mark an entry suppressed (secondary). */
  suppress(e: number, protects: number, via: number): void {
    this.state[e] = 2;
    for (const k of this.byEntry[e] as number[]) (this.unknownCount[k] as number)++;
    const p = this.rows[protects] as SectorRow;
    this.added.set(e, {
      status: 'suppressed',
      rule: 'secondary',
      note: `withheld so that ${p.kind === 'cell' ? 'cell' : 'group'} ${p.key} cannot be derived from ${(this.relations[via] as Relation).name}`,
      pass: SECONDARY_PASS_NAME,
    });
  }

  /**
   * The cheapest published entry of the given relations to suppress next: cells before
   * rollups, small before large, and one that does not open a new relation with a single
   * suppressed member (that would need yet another suppression) before one that does; an
   * entry with less slack than `need` comes last.
   */
  choose(rels: readonly number[], need: number, exclude?: ReadonlySet<number>): { entry: number; via: number } | null {
    let best: { entry: number; via: number; cost: number } | null = null;
    for (const k of rels) {
      for (const c of this.members(k)) {
        if (this.state[c] !== 0 || exclude?.has(c)) continue;
        const row = this.rows[c] as SectorRow;
        const v = this.value[c] as number;
        let cost = (row.kind === 'rollup' ? ROLLUP_COST : 0) + v;
        if (v - (this.lowerBound[c] as number) < need) cost += UNDERSIZED_COST;
        for (const j of this.byEntry[c] as number[]) {
          if (j === k || this.unknownCount[j] !== 0) continue;
          let cheapest = Infinity;
          for (const m of this.members(j))
            if (m !== c && this.state[m] === 0 && (this.rows[m] as SectorRow).kind === 'cell')
              cheapest = Math.min(cheapest, this.value[m] as number);
          cost += Number.isFinite(cheapest) ? cheapest : ROLLUP_COST / 10;
        }
        if (!best || cost < best.cost || (cost === best.cost && c < best.entry)) best = { entry: c, via: k, cost };
      }
    }
    return best && { entry: best.entry, via: best.via };
  }

  /** Relations with exactly one suppressed member, and the member. */
  private singletons(): { rel: number; entry: number }[] {
    const out: { rel: number; entry: number }[] = [];
    this.unknownCount.forEach((n, k) => {
      if (n === 1) out.push({ rel: k, entry: this.members(k).find((e) => this.state[e] === 2) as number });
    });
    return out;
  }

  /** Suppressed entries uniquely determined by the (hierarchical) relations, exactly. */
  determined(): number[] {
    const basis = new ExactBasis();
    this.relations.forEach((r, k) => {
      if (this.unknownCount[k] === 0) return;
      const row = new Map<number, bigint>();
      if (this.state[r.total] === 2) row.set(r.total, 1n);
      for (const m of r.members) if (this.state[m] === 2) row.set(m, (row.get(m) ?? 0n) - 1n);
      basis.add(row);
    });
    return basis.determinedColumns();
  }

  /** Suppress until no suppressed entry is determined by the relations. */
  protect(decisions: DisclosureDecisions): void {
    for (let guard = 0; guard < 100000; guard++) {
      const single = this.singletons();
      if (single.length > 0) {
        const { rel, entry } = single[0] as { rel: number; entry: number };
        const pick = this.choose([rel], this.need(entry, decisions));
        if (!pick)
          throw new Error(`secondary suppression found no candidate in ${(this.relations[rel] as Relation).name}`);
        this.suppress(pick.entry, entry, pick.via);
        continue;
      }
      const det = this.determined();
      if (det.length === 0) return;
      const e = det[0] as number;
      const rels = (this.byEntry[e] as number[]).filter((k) => (this.unknownCount[k] as number) > 0);
      const pick = this.choose(rels, this.need(e, decisions));
      if (!pick)
        throw new Error(`secondary suppression found no candidate to protect ${(this.rows[e] as SectorRow).key}`);
      this.suppress(pick.entry, e, pick.via);
    }
    throw new Error('secondary suppression did not converge');
  }

  private unsuppress(e: number): void {
    this.state[e] = 0;
    for (const k of this.byEntry[e] as number[]) (this.unknownCount[k] as number)--;
  }

  /**
   * Undo secondary suppressions that turned out unnecessary (greedy choices made early can be
   * covered by later ones): try to publish each again — cells before rollups, large before
   * small — and keep it published when no relation is left with a single suppressed member and
   * the exact test finds nothing determined.
   */
  prune(): void {
    const order = [...this.added.keys()].sort((a, b) => {
      const ka = (this.rows[a] as SectorRow).kind === 'cell' ? 0 : 1;
      const kb = (this.rows[b] as SectorRow).kind === 'cell' ? 0 : 1;
      return ka - kb || (this.value[b] as number) - (this.value[a] as number) || a - b;
    });
    for (const e of order) {
      if (this.pinned.has(e)) continue;
      this.unsuppress(e);
      const ok =
        (this.byEntry[e] as number[]).every((k) => this.unknownCount[k] !== 1) && this.determined().length === 0;
      if (ok) this.added.delete(e);
      else {
        this.state[e] = 2;
        for (const k of this.byEntry[e] as number[]) (this.unknownCount[k] as number)++;
      }
    }
  }

  /**
   * What an attacker knows of entry m without its value: published and known-zero entries
   * exactly; a suppressed one is at least its published institution count, at least
   * `min_population` when its rule says it passed the primary rules (secondary, dominance), and
   * below `min_population` when suppressed for that.
   */
  private attackerBounds(m: number, decisions: DisclosureDecisions): [number, number] {
    if (this.state[m] !== 2) return [this.value[m] as number, this.value[m] as number];
    const d = this.added.get(m) ?? this.decisionOf(decisions, m);
    const inst = this.institutions[m] as number;
    const minPop = this.ctx.thresholds.min_population;
    if (d.status === 'suppressed' && d.rule === 'min_population') return [inst, minPop - 1];
    if (d.status === 'suppressed' && (d.rule === 'secondary' || d.rule === 'dominance'))
      return [Math.max(inst, minPop), Infinity];
    return [inst, Infinity];
  }

  /** The upper bound on entry e that relation k alone leaves an attacker. */
  private upperFrom(e: number, k: number, decisions: DisclosureDecisions): number {
    const r = this.relations[k] as Relation;
    if (r.total === e) return r.members.reduce((a, m) => a + this.attackerBounds(m, decisions)[1], 0);
    const others = r.members.reduce((a, m) => (m === e ? a : a + this.attackerBounds(m, decisions)[0]), 0);
    return this.attackerBounds(r.total, decisions)[1] - others;
  }

  /**
   * Protect an entry further after a too narrow interval: suppress one more entry with enough
   * slack. First in the relations that bind it most (the lowest upper bound an attacker gets
   * from one relation: suppressing elsewhere would not move that bound), then in its other
   * relations, then an entry of the most binding relation with some slack; when none has a published member with slack (e.g. every sibling is suppressed
   * and the parent rollup sits at its known minimum), the search moves out through the
   * relations of the suppressed entries it reaches, level by level, since any slack in that
   * connected part of the table widens the interval. Falls back to the cheapest entry without
   * enough slack when none has it.
   */
  widen(key: string, deficit: number, decisions: DisclosureDecisions): boolean {
    const e = this.index.get(`cell:${key}`) ?? this.index.get(`rollup:${key}`);
    if (e === undefined) return false;
    const take = (pick: { entry: number; via: number }) => {
      this.suppress(pick.entry, e, pick.via);
      this.pinned.add(pick.entry);
      return true;
    };
    const hasSlack = (pick: { entry: number } | null): pick is { entry: number; via: number } =>
      pick !== null && (this.value[pick.entry] as number) - (this.lowerBound[pick.entry] as number) >= deficit;
    const own = [...(this.byEntry[e] as number[])]
      .map((k) => ({ k, ub: this.upperFrom(e, k, decisions) }))
      .sort((a, b) => a.ub - b.ub);
    let partial: { entry: number; via: number } | null = null;
    for (const { k, ub } of own) {
      if (!Number.isFinite(ub)) break;
      const pick: { entry: number; via: number } | null = this.choose([k], deficit);
      const slack = pick ? (this.value[pick.entry] as number) - (this.lowerBound[pick.entry] as number) : 0;
      if (pick && slack >= deficit) return take(pick);
      // In the relation that binds most, some slack still widens the interval; the next audit
      // round continues from the entry suppressed now (up the hierarchy).
      if (!partial && ub === own[0]?.ub && pick && slack > 0) partial = pick;
    }
    if (partial) return take(partial);
    const seen = new Set<number>([e]);
    let frontier = [e];
    let fallback: { entry: number; via: number } | null = null;
    while (frontier.length > 0) {
      const rels = [...new Set(frontier.flatMap((x) => this.byEntry[x] as number[]))];
      const pick = this.choose(rels, deficit);
      if (hasSlack(pick)) return take(pick);
      fallback ??= pick;
      const next: number[] = [];
      for (const k of rels) {
        for (const m of this.members(k)) {
          if (this.state[m] === 2 && !seen.has(m)) {
            seen.add(m);
            next.push(m);
          }
        }
      }
      frontier = next;
    }
    return fallback ? take(fallback) : false;
  }
}

function merge(ctx: DisclosureContext, current: DisclosureDecisions, tables: BlockTable[]): DisclosureDecisions {
  const nc = ctx.cells.length;
  const patch = (rows: readonly SectorRow[], prev: ReadonlyMap<string, RowDecision>, offset: number) =>
    new Map(
      rows.map((row, i) => {
        const before = prev.get(row.key) as RowDecision;
        const out = { ...before } as Record<BlockName, BlockDecision>;
        for (const t of tables) {
          const add = t.added.get(offset + i);
          if (add) out[t.block] = add;
        }
        return [row.key, out as RowDecision] as const;
      }),
    );
  return { cells: patch(ctx.cells, current.cells, 0), rollups: patch(ctx.rollups, current.rollups, nc) };
}

/**
 * Secondary suppression (ARCHITECTURE.md "Disclosure control"): after the primary and
 * dominance rules, suppress further cells (or, where a relation has no cell left, rollups) so
 * that no suppressed block can be derived from published ones through the additive relations
 * between cells and rollups. Per block A and B, with the population as the cell's weight:
 * first every relation with exactly one suppressed member gets a second one (the cheapest by
 * {@link BlockTable.choose}), then an exact rank test (BigInt, {@link ExactBasis}) finds any
 * value still determined by a combination of relations, which gets a partner in turn, until
 * none is. A row without contributing institutions is a known zero (its institution count is
 * published), not an unknown. `requests` (from a failed interval check of the audit) ask for one
 * more suppression next to an entry whose protection interval was too narrow.
 */
export function secondarySuppression(
  ctx: DisclosureContext,
  current: DisclosureDecisions,
  protection: ProtectionParams = DEFAULT_PROTECTION,
  requests: readonly ProtectionRequest[] = [],
): DisclosureDecisions {
  const tables = BLOCKS.map((b) => new BlockTable(ctx, b, current, protection));
  for (const r of requests) (tables[BLOCKS.indexOf(r.block)] as BlockTable).widen(r.key, r.deficit, current);
  for (const t of tables) {
    t.protect(current);
    t.prune();
  }
  return merge(ctx, current, tables);
}

/** {@link secondarySuppression} as a disclosure pass, with the default protection. */
export const secondaryPass: DisclosurePass = {
  name: SECONDARY_PASS_NAME,
  apply: (ctx, current) => secondarySuppression(ctx, current),
};

/** A secondary pass that first acts on protection requests from a failed audit. */
export function secondaryPassWith(
  protection: ProtectionParams,
  requests: readonly ProtectionRequest[],
): DisclosurePass {
  return {
    name: SECONDARY_PASS_NAME,
    apply: (ctx, current) => secondarySuppression(ctx, current, protection, requests),
  };
}
