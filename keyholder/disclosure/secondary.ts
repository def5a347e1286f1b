import { BLOCK_COUNTS, BLOCK_SLOTS, BLOCKS } from './context.js';
import { ExactBasis } from './exact-rref.js';
import { hierarchicalRelations, relationsByEntry, type Relation } from './relations.js';
import { evaluate, protectedCounts, type ProtectedCount } from './row-inequalities.js';
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
  /** For a pinned count (audit step 4): the protected counts narrowed to one value. */
  counts?: readonly string[];
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
  /** Per relation: suppressed members with at least two institutions (they hide something from a contributor). */
  readonly manyCount: Int32Array;
  readonly index: Map<string, number>;
  /** Protected counts of the block and their values per row. */
  readonly counts: readonly ProtectedCount[];
  readonly countValues: number[][];
  /** Counts the total row shows as 0 (when published): exempt from the pinning check. */
  readonly exempt = new Set<number>();
  /**
   * Entry of the total row: never suppressed as a secondary (it is the benchmark everyone
   * compares with, and a count it shows as 0 is the sector's own fact, exempt from protection).
   */
  readonly total: number;
  readonly added = new Map<number, BlockDecision>();
  /** Entries suppressed on request of the interval check: never pruned. */
  readonly pinned = new Set<number>();

  constructor(
    readonly ctx: DisclosureContext,
    readonly block: BlockName,
    readonly decisions: DisclosureDecisions,
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
    this.manyCount = new Int32Array(this.relations.length);
    this.relations.forEach((r, k) => {
      const hidden = [r.total, ...r.members].filter((e) => this.state[e] === 2);
      this.unknownCount[k] = hidden.length;
      this.manyCount[k] = hidden.filter((e) => (this.institutions[e] as number) >= 2).length;
    });
    this.counts = protectedCounts(block, BLOCK_SLOTS[block]);
    this.countValues = this.rows.map((r) => this.counts.map((f) => evaluate(f.form, r.values)));
    const total = this.index.get('rollup:total');
    this.total = total ?? -1;
    if (total !== undefined && this.state[total] === 0)
      this.counts.forEach((_, k) => {
        if ((this.countValues[total] as number[])[k] === 0) this.exempt.add(k);
      });
  }

  /** Whether a suppressed entry failed a rule that needs protection (not only `secondary`). */
  isSensitive(e: number): boolean {
    return this.sensitive(e, this.decisions);
  }

  private sensitive(e: number, decisions: DisclosureDecisions): boolean {
    if (this.state[e] !== 2 || this.added.has(e)) return false;
    const d = this.decisionOf(decisions, e);
    return d.status === 'suppressed' && this.protection.rules.includes(d.rule);
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
    const many = (this.institutions[e] as number) >= 2 ? 1 : 0;
    for (const k of this.byEntry[e] as number[]) {
      (this.unknownCount[k] as number)++;
      (this.manyCount[k] as number) += many;
    }
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
        if (this.state[c] !== 0 || exclude?.has(c) || c === this.total) continue;
        const row = this.rows[c] as SectorRow;
        const v = this.value[c] as number;
        let cost = (row.kind === 'rollup' ? ROLLUP_COST : 0) + v;
        if (v - (this.lowerBound[c] as number) < need) cost += UNDERSIZED_COST;
        // A block of one institution is known to it: it hides nothing from that contributor.
        if ((this.institutions[c] as number) < 2) cost += UNDERSIZED_COST;
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

  /**
   * Relations that need one more suppression, with the member to protect: exactly one
   * suppressed member (derivable by subtraction), or a member failing a primary rule whose
   * other suppressed members all have fewer than two institutions (a contributor knows those
   * and subtracts them: the singleton problem).
   */
  private singletons(): { rel: number; entry: number }[] {
    const out: { rel: number; entry: number }[] = [];
    this.unknownCount.forEach((n, k) => {
      if (n === 0) return;
      if (n === 1) {
        out.push({ rel: k, entry: this.members(k).find((e) => this.state[e] === 2) as number });
        return;
      }
      const many = this.manyCount[k] as number;
      if (many >= 2) return;
      for (const e of this.members(k)) {
        if (e >= this.ctx.cells.length || !this.sensitive(e, this.decisions)) continue;
        if (many - ((this.institutions[e] as number) >= 2 ? 1 : 0) === 0) {
          out.push({ rel: k, entry: e });
          return;
        }
      }
    });
    return out;
  }

  /**
   * Suppressed entries uniquely determined by the (hierarchical) relations, exactly; then those
   * failing a primary rule with two or more institutions that are determined once every
   * suppressed block of one institution is known (a contributor knows its own).
   */
  determined(): number[] {
    const outsider = this.rankDetermined(() => true);
    if (outsider.length > 0) return outsider;
    return this.rankDetermined((e) => (this.institutions[e] as number) >= 2).filter(
      (e) => e < this.ctx.cells.length && this.sensitive(e, this.decisions),
    );
  }

  /** Whether e is determined only for a contributor (not for an outsider). */
  private contributorOnly(e: number): boolean {
    return !this.rankDetermined(() => true).includes(e);
  }

  /**
   * Make e undetermined for a contributor: try published cells (then rollups) outward from e
   * through the relations of suppressed entries, cheapest first within each level, and keep
   * the first whose suppression does it (checked by the exact rank test). At most 60 trials.
   */
  private separate(e: number): boolean {
    const many = (x: number) => (this.institutions[x] as number) >= 2;
    const seen = new Set<number>([e]);
    let frontier = [e];
    let trials = 0;
    while (frontier.length > 0 && trials < 60) {
      const rels = [...new Set(frontier.flatMap((x) => this.byEntry[x] as number[]))];
      const cand = new Map<number, number>();
      for (const k of rels)
        for (const c of this.members(k))
          if (this.state[c] === 0 && many(c) && c !== this.total && !cand.has(c)) cand.set(c, k);
      const order = [...cand.keys()].sort(
        (a, b) =>
          ((this.rows[a] as SectorRow).kind === 'rollup' ? ROLLUP_COST : 0) +
          (this.value[a] as number) -
          (((this.rows[b] as SectorRow).kind === 'rollup' ? ROLLUP_COST : 0) + (this.value[b] as number)),
      );
      for (const c of order) {
        if (++trials > 60) break;
        this.suppress(c, e, cand.get(c) as number);
        if (!this.rankDetermined(many).includes(e)) return true;
        this.added.delete(c);
        this.unsuppress(c);
      }
      const next: number[] = [];
      for (const k of rels)
        for (const m of this.members(k))
          if (this.state[m] === 2 && !seen.has(m)) {
            seen.add(m);
            next.push(m);
          }
      frontier = next;
    }
    return false;
  }

  private rankDetermined(unknown: (e: number) => boolean): number[] {
    const basis = new ExactBasis();
    this.relations.forEach((r, k) => {
      if (this.unknownCount[k] === 0) return;
      const row = new Map<number, bigint>();
      if (this.state[r.total] === 2 && unknown(r.total)) row.set(r.total, 1n);
      for (const m of r.members) if (this.state[m] === 2 && unknown(m)) row.set(m, (row.get(m) ?? 0n) - 1n);
      for (const [c, v] of row) if (v === 0n) row.delete(c);
      if (row.size > 0) basis.add(row);
    });
    return basis.determinedColumns();
  }

  /**
   * Protect counts against bounds (docs/DISCLOSURE.md "Secondary suppression"): while some
   * published rollup whose suppressed cells include a block failing a primary rule shows a
   * protected count whose sum over those suppressed cells is 0 although the rollup's own count
   * is not (every one of them would be 0 exactly: counts are never negative), suppress the
   * published cell of that rollup that holds it, choosing the one that holds most such counts,
   * then the smallest. The same for the cells of two or more institutions alone (a contributor
   * knows its single-institution blocks). These suppressions are never pruned. Returns whether
   * anything was added.
   */
  cover(): boolean {
    const nc = this.ctx.cells.length;
    let added = false;
    for (let j = nc; j < this.rows.length; j++) {
      if (this.state[j] !== 0) continue;
      const cells = (this.rows[j] as SectorRow).cells;
      for (let guard = 0; guard < 20; guard++) {
        const zero = zeroSums(this, j, cells);
        if (zero.length === 0) break;
        let best: { c: number; held: number } | null = null;
        for (const c of cells) {
          if (this.state[c] !== 0 || (this.institutions[c] as number) < 2) continue;
          const f = this.countValues[c] as number[];
          const held = zero.filter((k) => (f[k] as number) > 0).length;
          if (
            held > 0 &&
            (!best ||
              held > best.held ||
              (held === best.held && (this.value[c] as number) < (this.value[best.c] as number)))
          )
            best = { c, held };
        }
        if (!best) break;
        const target = cells.find((c) => this.state[c] === 2) as number;
        const via =
          (this.byEntry[best.c] as number[]).find((k) => (this.relations[k] as Relation).total === j) ??
          ((this.byEntry[best.c] as number[])[0] as number);
        this.suppress(best.c, target, via);
        this.pinned.add(best.c);
        added = true;
      }
    }
    return added;
  }

  /** Suppress until no suppressed entry is determined by the relations. */
  protect(decisions: DisclosureDecisions): void {
    // Relations and entries for which no published candidate is left (every member suppressed
    // or a known zero): the contributor conditions are then left to the rank test and the audit.
    const stuck = new Set<string>();
    for (let guard = 0; guard < 100000; guard++) {
      const single = this.singletons().filter((x) => !stuck.has(`r${x.rel}:${x.entry}`));
      let acted = false;
      for (const { rel, entry } of single) {
        const pick = this.choose([rel], this.need(entry, decisions));
        if (!pick) {
          if (this.unknownCount[rel] === 1)
            throw new Error(`secondary suppression found no candidate in ${(this.relations[rel] as Relation).name}`);
          stuck.add(`r${rel}:${entry}`);
          continue;
        }
        this.suppress(pick.entry, entry, pick.via);
        acted = true;
        break;
      }
      if (acted) continue;
      const det = this.determined().filter((e) => !stuck.has(`e${e}`));
      if (det.length === 0) {
        if (this.cover()) continue;
        return;
      }
      const e = det[0] as number;
      if (this.contributorOnly(e) && this.separate(e)) continue;
      const rels = (this.byEntry[e] as number[]).filter((k) => (this.unknownCount[k] as number) > 0);
      const pick = this.choose(rels, this.need(e, decisions));
      if (!pick) {
        if ((this.institutions[e] as number) < 2 || this.sensitive(e, decisions)) {
          stuck.add(`e${e}`);
          continue;
        }
        throw new Error(`secondary suppression found no candidate to protect ${(this.rows[e] as SectorRow).key}`);
      }
      this.suppress(pick.entry, e, pick.via);
    }
    throw new Error('secondary suppression did not converge');
  }

  private unsuppress(e: number): void {
    this.state[e] = 0;
    const many = (this.institutions[e] as number) >= 2 ? 1 : 0;
    for (const k of this.byEntry[e] as number[]) {
      (this.unknownCount[k] as number)--;
      (this.manyCount[k] as number) -= many;
    }
  }

  private resuppress(e: number): void {
    this.state[e] = 2;
    const many = (this.institutions[e] as number) >= 2 ? 1 : 0;
    for (const k of this.byEntry[e] as number[]) {
      (this.unknownCount[k] as number)++;
      (this.manyCount[k] as number) += many;
    }
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
    const key = (x: { rel: number; entry: number }) => `${x.rel}:${x.entry}`;
    for (const e of order) {
      if (this.pinned.has(e)) continue;
      // What cannot be fixed stays as it is; publishing again must not add to it.
      const single = new Set(this.singletons().map(key));
      const det = new Set(this.determined());
      this.unsuppress(e);
      const ok =
        (this.byEntry[e] as number[]).every((k) => this.unknownCount[k] !== 1) &&
        this.singletons().every((x) => single.has(key(x))) &&
        this.determined().every((x) => det.has(x));
      if (ok) this.added.delete(e);
      else this.resuppress(e);
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
  hold(key: string, countIds: readonly string[]): boolean {
    const e = this.index.get(`cell:${key}`) ?? this.index.get(`rollup:${key}`);
    if (e === undefined) return false;
    const ks = countIds.map((id) => this.counts.findIndex((c) => c.id === id)).filter((k) => k >= 0);
    const seen = new Set<number>([e]);
    let frontier = [e];
    while (frontier.length > 0) {
      const rels = [...new Set(frontier.flatMap((x) => this.byEntry[x] as number[]))];
      let best: { entry: number; via: number; held: number; cost: number } | null = null;
      for (const k of rels) {
        for (const c of this.members(k)) {
          if (this.state[c] !== 0 || (this.institutions[c] as number) < 2 || c === this.total) continue;
          const f = this.countValues[c] as number[];
          const held = ks.filter((i) => (f[i] as number) > 0).length;
          if (held === 0) continue;
          const cost = ((this.rows[c] as SectorRow).kind === 'rollup' ? ROLLUP_COST : 0) + (this.value[c] as number);
          // Cells before rollups (a suppressed rollup hides the zeros it showed), then most held, then cheapest.
          const better =
            !best || cost < ROLLUP_COST !== best.cost < ROLLUP_COST
              ? !best || cost < ROLLUP_COST
              : held > best.held || (held === best.held && cost < best.cost);
          if (better) best = { entry: c, via: k, held, cost };
        }
      }
      if (best) {
        this.suppress(best.entry, e, best.via);
        this.pinned.add(best.entry);
        return true;
      }
      const next: number[] = [];
      for (const k of rels)
        for (const m of this.members(k))
          if (this.state[m] === 2 && !seen.has(m)) {
            seen.add(m);
            next.push(m);
          }
      frontier = next;
    }
    return false;
  }

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

/**
 * The protected counts (indexes) that pin a block of rollup j's suppressed cells: counts whose
 * sum over the suppressed cells (or over those of two or more institutions) is 0 while the
 * rollup's own value is not, when a block failing a primary rule is among them.
 */
function zeroSums(t: BlockTable, j: number, cells: readonly number[]): number[] {
  const hidden = cells.filter((c) => t.state[c] === 2);
  if (hidden.length === 0) return [];
  const many = hidden.filter((c) => (t.institutions[c] as number) >= 2);
  const targets = hidden.filter((c) => t.isSensitive(c));
  if (targets.length === 0) return [];
  const own = t.countValues[j] as number[];
  const out: number[] = [];
  for (let k = 0; k < own.length; k++) {
    if ((own[k] as number) === 0 || t.exempt.has(k)) continue;
    const f = (c: number) => (t.countValues[c] as number[])[k] as number;
    const sum = (list: number[]) => list.reduce((a, c) => a + f(c), 0);
    // The contributor knows every single-institution block but the target: the target and the
    // suppressed blocks of two or more institutions together must hold some of the count.
    if (sum(hidden) === 0 || (sum(many) === 0 && targets.some((c) => f(c) === 0))) out.push(k);
  }
  return out;
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
  for (const r of requests) {
    const t = tables[BLOCKS.indexOf(r.block)] as BlockTable;
    if (r.counts && r.counts.length > 0) t.hold(r.key, r.counts);
    else t.widen(r.key, r.deficit, current);
  }
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
