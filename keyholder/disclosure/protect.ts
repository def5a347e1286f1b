import type { DisclosureOutcome, Release, ReleaseRow } from '../../schemas/release.js';
import { blockOfSlot } from '../../shared/metrics/withheld.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { AuditMemo, auditRelease, type AuditFinding, type AuditReport } from './audit.js';
import { BLOCK_COUNTS, BLOCKS } from './context.js';
import { renderDistributions, withholdVersionDifferences, type DistributionTally } from './distributions.js';
import { escalateSuppression } from './escalate.js';
import { runDisclosure, type PassSummary } from './pipeline.js';
import { hierarchicalRelations, relationsByEntry } from './relations.js';
import { renderReleaseRows } from './render.js';
import { DEFAULT_PROTECTION, secondaryPassWith, type ProtectionParams, type ProtectionRequest } from './secondary.js';
import {
  type BlockName,
  DEFAULT_ZERO_RULE,
  type DisclosureContext,
  type DisclosureDecisions,
  type DisclosurePass,
  type RowDecision,
  type SuppressionRule,
  type ZeroRule,
} from './types.js';

/** Options of {@link discloseAndAudit}. */
export interface DiscloseOptions {
  passes: readonly DisclosurePass[];
  protection?: ProtectionParams;
  /** Earlier signed releases of the round, for the audit across versions. */
  earlier?: readonly Release[];
  /** Let the audit use the earlier versions' published figures as known facts (see `AuditInput.earlierAsFacts`). */
  earlierAsFacts?: boolean;
  /** Per earlier version, the institutions that sent a masked-round correction since (see `AuditInput.correctorsSince`). */
  correctorsSince?: Readonly<Record<number, number>>;
  /** Rounds of extra protection after a too narrow interval (default 25). */
  maxRetries?: number;
  /** Escalation steps after the targeted retries (default 12; each suppresses whole relations and is a full audit). */
  maxEscalations?: number;
  /** Secondary suppressions of cells to try to publish again under the full audit (default 8; each is a full audit). */
  maxCleaning?: number;
  /** Let the audit prove intervals with exact exchange tables before LPs (default true; see `AuditInput.exchange`). */
  exchange?: boolean;
  /** The audit's contributor check count by count (see `AuditInput.contributor`). */
  contributor?: 'enforce' | 'measure' | 'off';
  /**
   * Which zeros are a published row's own fact (see `AuditInput.zeroRule`; default `total_row`,
   * docs/DECISIONS.md 98): with `total_row`, a count a published rollup would pin is protected by withholding single slots of published
   * rollups, as the audit's slot moves suggest ({@link withholdSuggested}).
   */
  zeroRule?: ZeroRule;
}

/** Result of {@link discloseAndAudit}: decisions, rendered rows with distributions, and the signed outcome. */
export interface DisclosedRelease {
  decisions: DisclosureDecisions;
  passes: PassSummary[];
  cells: Record<string, ReleaseRow>;
  rollups: Record<string, ReleaseRow>;
  audit: AuditReport;
  outcome: DisclosureOutcome;
  blocks: { published: number; suppressed: number; byRule: Partial<Record<SuppressionRule, number>> };
  /**
   * Work done: audits run (first, retries, escalation, cleaning), blocks audited and blocks whose
   * unchanged result was reused (`AuditInput.memo`), and LPs actually solved over all of them.
   */
  work: { audits: number; blocksAudited: number; blocksReused: number; lpSolved: number };
}

export const AUDIT_METHOD =
  'exact rank test over the rationals (fraction-free BigInt elimination) of all published additive relations (every rollup = sum of its cells) per block; ' +
  'protection intervals of a_enrolments / b_starters with bounds from institution counts and ' +
  'suppression rules, proven wide enough by verified integer tables (exchange moves) or else ' +
  'by linear programming (GLPK simplex, optima rounded inward); ' +
  'differences with every earlier version of the round, published or derivable from both versions together (exact joint elimination)';

/** Findings more secondary suppression can remove. */
const FIXABLE: ReadonlySet<AuditFinding['kind']> = new Set([
  'interval',
  'determined',
  'contributor_determined',
  'pinned',
]);

function tallyBlocks(d: DisclosureDecisions): DisclosedRelease['blocks'] {
  const byRule: Partial<Record<SuppressionRule, number>> = {};
  let published = 0;
  let suppressed = 0;
  for (const m of [d.cells, d.rollups]) {
    for (const r of m.values()) {
      for (const b of BLOCKS) {
        const x = r[b as BlockName];
        if (x.status === 'published') published++;
        else {
          suppressed++;
          byRule[x.rule] = (byRule[x.rule] ?? 0) + 1;
        }
      }
    }
  }
  return { published, suppressed, byRule };
}

/**
 * Suppressed blocks without any contributing institution (nothing to publish, not a privacy
 * suppression), by rule: the Dutch summary counts them apart (DECISIONS 96).
 */
function emptyBlocks(ctx: DisclosureContext, d: DisclosureDecisions): Partial<Record<SuppressionRule, number>> {
  const out: Partial<Record<SuppressionRule, number>> = {};
  for (const row of [...ctx.cells, ...ctx.rollups]) {
    const decision = (row.kind === 'cell' ? d.cells : d.rollups).get(row.key);
    for (const b of BLOCKS) {
      const x = decision?.[b];
      if (row.facts[BLOCK_COUNTS[b].institutions] !== 0 || x === undefined || x.status === 'published') continue;
      out[x.rule] = (out[x.rule] ?? 0) + 1;
    }
  }
  return out;
}

const RULE_NL: Record<string, string> = {
  min_institutions: 'te weinig instellingen',
  min_population: 'te weinig studenten',
  dominance: 'één instelling te groot aandeel',
  secondary: 'secundair, zodat niets terug te rekenen is',
  min_institutions_distribution: 'te weinig instellingen in de verdeling',
};

/** The plain-language Dutch summary of the rules and the outcome, for the benchmark page. */
export function summaryNl(
  o: Omit<DisclosureOutcome, 'summary_nl'>,
  thresholds: {
    min_institutions: number;
    min_population: number;
    dominance_share: number;
    min_institutions_distribution: number;
  },
  empty: Partial<Record<string, number>> = {},
  withheldSlots = 0,
): string {
  const emptyTotal = Object.values(empty).reduce<number>((a, n) => a + (n ?? 0), 0);
  const rules = Object.entries(o.rules)
    .map(([r, n]) => [r, (n ?? 0) - (empty[r] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${n} × ${RULE_NL[r] ?? r}`)
    .join(', ');
  const pct = Math.round(thresholds.dominance_share * 100);
  return [
    `Een cijfer wordt alleen gepubliceerd als minstens ${thresholds.min_institutions} instellingen ` +
      `en ${thresholds.min_population} studenten erachter staan en geen enkele instelling meer dan ` +
      `${pct}% ervan kan hebben.`,
    `Een verdeling van instellingen wordt alleen getoond als er minstens ${thresholds.min_institutions_distribution} instellingen in zitten.`,
    `Daarnaast zijn cijfers weggelaten zodat geen weggelaten cijfer terug te rekenen is uit totalen min de gepubliceerde delen.`,
    `Gepubliceerd: ${o.blocks.published} blokken; weggelaten: ${o.blocks.suppressed - emptyTotal}` +
      `${rules ? ` (${rules})` : ''}; leeg (geen bijdragende instelling, niets te publiceren): ${emptyTotal}; ` +
      `verdelingen getoond: ${o.distributions.published}.`,
    // Zero rule total_row (DECISIONS 98): single figures of published groups, said so that a
    // reader knows why a published group shows "niet gepubliceerd" for some of its figures.
    ...(withheldSlots > 0
      ? [
          `In gepubliceerde groepen zijn daarnaast ${withheldSlots} losse cijfers weggelaten, zodat een 0 of een ` +
            'grens in zo’n groep geen weggelaten cijfer op één waarde vastlegt.',
        ]
      : []),
    `De sleutelhouder heeft vóór ondertekening gecontroleerd dat geen weggelaten cijfer exact te ` +
      `bepalen is, dat elk om privacy weggelaten aantal studenten alleen binnen een ruime marge (minstens ` +
      `${o.protection.min_width} en ${o.protection.ratio_num}/${o.protection.ratio_den} van de waarde) te schatten is` +
      (o.audit.versions.compared.length > 0
        ? `, en dat het verschil met eerdere versies (${o.audit.versions.compared.join(', ')}) geen kleine groep instellingen blootlegt.`
        : '.'),
  ].join(' ');
}

function describe(findings: readonly AuditFinding[]): string {
  const shown = findings.slice(0, 5).map((f) => f.message);
  return `${shown.join('; ')}${findings.length > 5 ? `; … (${findings.length} findings)` : ''}`;
}

/** A release's rows with the audit of them. */
interface Audited {
  rows: ReturnType<typeof renderReleaseRows>;
  report: AuditReport;
}

type Auditor = (d: DisclosureDecisions) => Promise<Audited>;

/**
 * Disclosure control with its audit: run the passes (primary, dominance, secondary), render the
 * rows, audit them ({@link auditRelease}); while the audit finds something more suppression can
 * fix, ask secondary suppression for it and audit again ({@link protectFurther}); then try to
 * publish secondary suppressions again ({@link cleanSecondary}). Refuses
 * (`SB_ERR_DISCLOSURE_AUDIT`) when the audit still finds anything — a determined value, a narrow
 * interval, a pinned count, or a difference with an earlier version that isolates fewer than
 * `min_institutions`.
 *
 * @throws SbError `SB_ERR_DISCLOSURE_AUDIT` when the audit refuses the release
 * @see ../../../shared/spec/ARCHITECTURE.md "Disclosure control"; docs/DISCLOSURE.md
 */
export async function discloseAndAudit(ctx: DisclosureContext, options: DiscloseOptions): Promise<DisclosedRelease> {
  const protection = options.protection ?? DEFAULT_PROTECTION;
  const first = carryWithheld(runDisclosure(ctx, options.passes), options);
  const work = { audits: 0, blocksAudited: 0, blocksReused: 0, lpSolved: 0 };
  const audit = auditor(ctx, options, protection, work);
  let state = { decisions: first.decisions, summary: first.summary, ...(await audit(first.decisions)) };
  state = await protectFurther(ctx, options, protection, audit, state);
  if (state.report.findings.length === 0) state = await cleanSecondary(ctx, options, audit, state);
  if (state.report.findings.length > 0) refuse(state.report);
  const { decisions, rows, report, summary } = state;
  const dist = renderDistributions(ctx, decisions);
  if (options.earlier?.length)
    withholdVersionDifferences(dist, options.earlier, ctx.thresholds.min_institutions_distribution);
  for (const [k, r] of Object.entries(rows.cells)) r.distributions = dist.cells[k];
  for (const [k, r] of Object.entries(rows.rollups)) r.distributions = dist.rollups[k];
  const blocks = tallyBlocks(decisions);
  const outcome = buildOutcome(ctx, protection, blocks, dist.tally, report, emptyBlocks(ctx, decisions));
  return { decisions, passes: summary, cells: rows.cells, rollups: rows.rollups, audit: report, outcome, blocks, work };
}

/**
 * Zero rule `total_row` (the default) in a re-release: the slots earlier versions withheld in
 * published rollup blocks are withheld again where the block is still published, so a version
 * never shows what an earlier one withheld to protect a count.
 */
function carryWithheld<T extends { decisions: DisclosureDecisions }>(run: T, options: DiscloseOptions): T {
  if ((options.zeroRule ?? DEFAULT_ZERO_RULE) !== 'total_row' || !options.earlier?.length) return run;
  const withheld = new Map<string, Map<string, string>>();
  for (const v of options.earlier)
    for (const [key, row] of Object.entries(v.rollups))
      for (const [slot, rule] of Object.entries(row.suppressed)) {
        const block = blockOfSlot(slot);
        if (block === null) continue;
        if (rule.rule !== 'secondary' || row.slots[BLOCK_COUNTS[block].population] === null) continue;
        if ((run.decisions.rollups.get(key) as RowDecision | undefined)?.[block].status !== 'published') continue;
        const m = withheld.get(key) ?? new Map<string, string>();
        m.set(slot, rule.note ?? `withheld as in version ${v.release_version}`);
        withheld.set(key, m);
      }
  return withheld.size === 0 ? run : { ...run, decisions: { ...run.decisions, withheld } };
}

/** The audit of a set of decisions, with the true rows of the context (key holder only). */
function auditor(
  ctx: DisclosureContext,
  options: DiscloseOptions,
  protection: ProtectionParams,
  work: DisclosedRelease['work'],
): Auditor {
  const truth = new Map<string, Readonly<Record<string, number>>>();
  const memo = new AuditMemo();
  let seen = { ...memo.reused };
  for (const r of [...ctx.cells, ...ctx.rollups]) truth.set(`${r.kind}:${r.key}`, r.values);
  return async (d) => {
    const rows = renderReleaseRows(ctx, d);
    const report = await auditRelease({
      codebook: ctx.codebook,
      thresholds: ctx.thresholds,
      cells: rows.cells,
      rollups: rows.rollups,
      trueRow: (_b, kind, key) => truth.get(`${kind}:${key}`) as Readonly<Record<string, number>>,
      protection,
      ...(options.earlier ? { earlier: options.earlier } : {}),
      ...(options.earlierAsFacts ? { earlierAsFacts: true } : {}),
      ...(options.correctorsSince ? { correctorsSince: options.correctorsSince } : {}),
      ...(options.exchange === false ? { exchange: false } : {}),
      ...(options.contributor ? { contributor: options.contributor } : {}),
      zeroRule: options.zeroRule ?? DEFAULT_ZERO_RULE,
      memo,
    });
    const reused = { ...memo.reused };
    work.audits++;
    work.blocksReused += reused.blocks - seen.blocks;
    work.blocksAudited += 2 - (reused.blocks - seen.blocks);
    work.lpSolved += report.lpSolved - (reused.lpSolved - seen.lpSolved);
    seen = reused;
    return { rows, report };
  };
}

interface State extends Audited {
  decisions: DisclosureDecisions;
  summary: PassSummary[];
}

/**
 * While every finding is one more suppression can fix (a narrow interval, a determined or
 * pinned value), ask secondary suppression for it next to the blocks found and audit again (at
 * most `maxRetries` rounds; stops when nothing more can be suppressed).
 */
async function protectFurther(
  ctx: DisclosureContext,
  options: DiscloseOptions,
  protection: ProtectionParams,
  audit: Auditor,
  start: State,
): Promise<State> {
  let state = start;
  for (let retry = 0; retry < (options.maxRetries ?? 25); retry++) {
    const fixable = state.report.findings.filter((f) => FIXABLE.has(f.kind));
    if (fixable.length === 0 || fixable.length !== state.report.findings.length) break;
    const withheld = withholdSuggested(state.decisions, fixable);
    if (withheld) {
      state = {
        decisions: withheld.decisions,
        summary: [...state.summary, { pass: 'withheld slots', suppressed: 0 }],
        ...(await audit(withheld.decisions)),
      };
      continue;
    }
    const requests: ProtectionRequest[] = fixable.map((f) => ({
      block: f.block,
      key: f.entry.slice(f.entry.indexOf(':') + 1),
      deficit: f.deficit ?? 1,
      ...(f.counts ? { counts: f.counts } : {}),
    }));
    const more = runDisclosure(ctx, [secondaryPassWith(protection, requests)], state.decisions);
    if (more.summary.every((p) => p.suppressed === 0)) break; // nothing left to suppress next to these blocks
    state = {
      decisions: more.decisions,
      summary: [...state.summary, ...more.summary],
      ...(await audit(more.decisions)),
    };
  }
  // Last resort: suppress whole relations around what is still found, until the audit passes
  // (escalate.ts says why this converges; the audit alone decides that the release is safe).
  for (let step = 0; step < (options.maxEscalations ?? 12); step++) {
    const fixable = state.report.findings.filter((f) => FIXABLE.has(f.kind));
    if (fixable.length === 0 || fixable.length !== state.report.findings.length) break;
    const next = escalateSuppression(ctx, state.decisions, fixable);
    if (!next) break;
    const more = tallyBlocks(next).suppressed - tallyBlocks(state.decisions).suppressed;
    state = {
      decisions: next,
      summary: [...state.summary, { pass: 'escalation', suppressed: more }],
      ...(await audit(next)),
    };
  }
  return state;
}

/**
 * Withhold the slots the audit's pinned findings suggest (`AuditFinding.withhold`, zero rule
 * `total_row`): each in its published rollup, with a note naming the cell or group it protects.
 * Returns null when no finding suggests a slot not withheld already. Withholding only removes
 * figures, so every earlier proof still holds; the audit that follows decides.
 */
function withholdSuggested(
  decisions: DisclosureDecisions,
  findings: readonly AuditFinding[],
): { decisions: DisclosureDecisions; added: number } | null {
  const withheld = new Map<string, Map<string, string>>(
    [...(decisions.withheld ?? new Map<string, ReadonlyMap<string, string>>())].map(([k, v]) => [k, new Map(v)]),
  );
  const rollups = new Map(decisions.rollups);
  let added = 0;
  for (const f of findings) {
    // The note names the protected row, as secondary suppressions do, but not the count at risk:
    // which count a published figure would pin says something of its value (often 0).
    const note = `withheld so that a suppressed figure of ${f.entry.replace(':', ' ')} cannot be narrowed to one value`;
    for (const w of f.withhold ?? []) {
      const row = rollups.get(w.rollup);
      if (!row) continue;
      const m = withheld.get(w.rollup) ?? new Map<string, string>();
      for (const slot of w.slots) {
        const block = blockOfSlot(slot);
        if (block === null) continue;
        const now = rollups.get(w.rollup) as RowDecision;
        if (now[block].status !== 'published' || m.has(slot)) continue;
        if (slot === BLOCK_COUNTS[block].population) {
          // The move needs the population to change: the rollup's block goes (never the total row).
          if (w.rollup === 'total') continue;
          rollups.set(w.rollup, {
            ...now,
            [block]: { status: 'suppressed', rule: 'secondary', note, pass: 'withheld slots' },
          });
        } else m.set(slot, note);
        added++;
      }
      if (m.size > 0) withheld.set(w.rollup, m);
    }
  }
  return added > 0 ? { decisions: { ...decisions, rollups, withheld }, added } : null;
}

/**
 * Cleaning: publish again secondary suppressions of cells the full audit does not need
 * (largest first; the greedy choices are made one relation at a time). Each attempt is a full
 * audit: at most `maxCleaning` attempts (default 8), and it stops after
 * {@link CLEANING_MISSES} attempts in a row that the audit refuses.
 */
async function cleanSecondary(
  ctx: DisclosureContext,
  options: DiscloseOptions,
  audit: Auditor,
  start: State,
): Promise<State> {
  let state = start;
  const candidates: { key: string; block: BlockName; value: number }[] = [];
  for (const row of ctx.cells) {
    for (const b of BLOCKS) {
      const d = (state.decisions.cells.get(row.key) as RowDecision)[b];
      if (d.status === 'suppressed' && d.rule === 'secondary')
        candidates.push({ key: row.key, block: b, value: row.values[BLOCK_COUNTS[b].population] as number });
    }
  }
  candidates.sort((x, y) => y.value - x.value);
  let undone = 0;
  let misses = 0;
  const lone = loneSuppression(ctx);
  for (const c of candidates.slice(0, options.maxCleaning ?? 8)) {
    if (misses >= CLEANING_MISSES) break;
    const cells = new Map(state.decisions.cells);
    cells.set(c.key, { ...(cells.get(c.key) as RowDecision), [c.block]: { status: 'published' } } as RowDecision);
    const trial: DisclosureDecisions = { ...state.decisions, cells };
    // Publishing it again would leave a relation with one suppressed member: the audit's exact
    // test refuses that for certain, so the attempt is a miss without a full audit.
    if (lone(trial, c.block, c.key)) {
      misses++;
      continue;
    }
    const again = await audit(trial);
    if (again.report.findings.length === 0) {
      state = { ...state, decisions: trial, ...again };
      undone++;
      misses = 0;
    } else misses++;
  }
  if (undone > 0) state = { ...state, summary: [...state.summary, { pass: 'cleaning', suppressed: -undone }] };
  return state;
}

/**
 * Whether, in block b of the decisions, some relation containing cell `key` has exactly one
 * suppressed member with institutions (its value is then the published total minus the
 * published members: audit step 2 refuses it).
 */
function loneSuppression(ctx: DisclosureContext): (d: DisclosureDecisions, b: BlockName, key: string) => boolean {
  const rows = [...ctx.cells, ...ctx.rollups];
  const relations = hierarchicalRelations(ctx.codebook);
  const byEntry = relationsByEntry(relations, rows.length);
  const index = new Map(ctx.cells.map((r, i) => [r.key, i]));
  return (d, b, key) => {
    const hidden = (e: number) => {
      const row = rows[e] as (typeof rows)[number];
      if ((row.facts[BLOCK_COUNTS[b].institutions] as number) === 0) return false;
      return ((row.kind === 'cell' ? d.cells : d.rollups).get(row.key) as RowDecision)[b].status === 'suppressed';
    };
    const e = index.get(key);
    if (e === undefined) return false;
    return (byEntry[e] ?? []).some((k) => {
      const r = relations[k] as (typeof relations)[number];
      return [r.total, ...r.members].filter(hidden).length === 1;
    });
  };
}

/** Attempts in a row the audit refuses after which cleaning stops (each attempt is a full audit). */
const CLEANING_MISSES = 3;

/** Findings the refusal's details carry (the message names how many there were in all). */
const DETAILED_FINDINGS = 50;

function refuse(report: AuditReport): never {
  // Version differences first: no further suppression can lift them, so they are what the
  // operator must act on, and the details list only the first DETAILED_FINDINGS.
  const all = [...report.findings].sort(
    (x, y) => Number(y.kind === 'version_difference') - Number(x.kind === 'version_difference'),
  );
  const versions = all.some((f) => f.kind === 'version_difference');
  const byKind = new Map<string, number>();
  for (const f of all) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  const kinds = [...byKind].map(([k, n]) => `${n} × ${k}`).join(', ');
  const listed =
    all.length > DETAILED_FINDINGS ? `the first ${DETAILED_FINDINGS} are in the details` : 'all are in the details';
  throw new SbError(
    'SB_ERR_DISCLOSURE_AUDIT',
    `the disclosure audit refuses this release: ${describe(all)}. Nothing was signed. ${
      versions
        ? 'A re-release may only add or change contributions of at least min_institutions institutions ' +
          'in every figure it publishes again; wait until more late contributions are in, or leave the ' +
          'earlier version as the release of this round.'
        : 'Secondary suppression could not protect these figures; raise the thresholds for this round or report this as a bug.'
    }${versions ? '' : ` ${NEXT_STEP_SMALL_SECTOR}`} The audit had ${all.length} finding(s) in all (${kinds}); ${listed}.`,
    { findings: all.slice(0, DETAILED_FINDINGS), total_findings: all.length },
  );
}

/**
 * The next step when secondary suppression cannot protect a release: in a sector this small
 * (few institutions, few students per programme) too few published figures remain to hide the
 * suppressed ones among. Names what to change, never a figure.
 */
const NEXT_STEP_SMALL_SECTOR =
  'In a small sector (few institutions, or few students per programme) too few figures remain to hide the ' +
  'suppressed ones among: run the round with more institutions or with more students per programme (the demo: ' +
  "a larger '--institutions' or '--students'), or raise min_population so the smallest programmes are left out " +
  'by the primary rule.';

function buildOutcome(
  ctx: DisclosureContext,
  p: ProtectionParams,
  blocks: DisclosedRelease['blocks'],
  dist: DistributionTally,
  a: AuditReport,
  empty: Partial<Record<SuppressionRule, number>> = {},
): DisclosureOutcome {
  const base: Omit<DisclosureOutcome, 'summary_nl'> = {
    protection: {
      min_width: p.minWidth,
      ratio_num: p.ratioNum,
      ratio_den: p.ratioDen,
      rules: [...p.rules] as SuppressionRule[],
    },
    blocks: { published: blocks.published, suppressed: blocks.suppressed },
    rules: { ...blocks.byRule },
    distributions: { published: dist.published, withheld: { ...dist.withheld } },
    audit: {
      verdict: 'passed',
      method: AUDIT_METHOD,
      checked_blocks: a.checkedBlocks,
      determined: 0,
      rank: { A: a.rank.A, B: a.rank.B },
      intervals: {
        checked: a.intervalsChecked,
        lp_solved: a.lpSolved,
        min_width_ratio_permille: a.minWidthRatioPermille,
      },
      versions: { compared: [...a.versionsCompared].sort((x, y) => x - y), differences_checked: a.differencesChecked },
    },
  };
  return { ...base, summary_nl: summaryNl(base, ctx.thresholds, empty, a.pinning.withheldSlots) };
}
