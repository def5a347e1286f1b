/** Measuring disclosure control on a sector: what each rule suppressed and the published share. */
import {
  BLOCKS,
  DEFAULT_PASSES,
  discloseAndAudit,
  disclosureContext,
  primaryPass,
  runDisclosure,
} from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema, type Thresholds } from '../../schemas/manifest.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import type { ContributionVector } from '../../shared/metrics/vector.js';

/** Cell blocks (cell x block A/B) with at least one contributing institution, by outcome. */
export interface SectorMeasure {
  institutions: number;
  ms: number;
  /** Cell blocks with a contributing institution. */
  cellBlocks: number;
  /** Of those: passing the primary rules, and of these published in the release. */
  primaryPassing: number;
  published: number;
  /** Cell blocks suppressed per rule (of cell blocks with a contributing institution). */
  cellRules: Record<string, number>;
  /** All blocks (cells and rollups) suppressed per rule. */
  rules: Record<string, number>;
  distributions: { published: number; withheld: Record<string, number> };
  lpSolved: number;
  /** Full audits run and LPs solved over all of them (retries, escalation, cleaning). */
  audits: number;
  blocksAudited: number;
  blocksReused: number;
  lpSolvedAll: number;
  /** Intervals the audit proved with exact exchange tables. */
  exchangeCertified: number;
  intervalsChecked: number;
  /** Step 4 of the audit: (block, protected count) pairs checked, and how they were proven (AuditReport.pinning). */
  pinningCounts: number;
  pinning: {
    contributor: number;
    outsider: number;
    perCountOnly: number;
    exemptZero: number;
    contributorPerCount: number;
    contributorUnproven: number;
    contributorExempt: number;
  };
  auditPassed: boolean;
}

/** Run the default passes with the audit on one sector sum and tally. */
export async function measureSector(
  codebook: Codebook,
  sector: ContributionVector,
  institutions: number,
  thresholds: Thresholds = ThresholdsSchema.parse({}),
  options: {
    exchange?: boolean;
    contributor?: 'enforce' | 'measure' | 'off';
    zeroRule?: 'published_rows' | 'total_row';
  } = {},
): Promise<SectorMeasure> {
  const ctx = disclosureContext({ codebook, sector, thresholds, contributions: institutions });
  const primary = runDisclosure(ctx, [primaryPass]).decisions;
  const t0 = performance.now();
  const r = await discloseAndAudit(ctx, {
    passes: DEFAULT_PASSES,
    ...(options.exchange === false ? { exchange: false } : {}),
    ...(options.contributor ? { contributor: options.contributor } : {}),
    ...(options.zeroRule ? { zeroRule: options.zeroRule } : {}),
  });
  const ms = performance.now() - t0;
  const m: SectorMeasure = {
    institutions,
    ms,
    cellBlocks: 0,
    primaryPassing: 0,
    published: 0,
    cellRules: {},
    rules: { ...r.blocks.byRule },
    distributions: { published: r.outcome.distributions.published, withheld: { ...r.outcome.distributions.withheld } },
    lpSolved: r.audit.lpSolved,
    audits: r.work.audits,
    blocksAudited: r.work.blocksAudited,
    blocksReused: r.work.blocksReused,
    lpSolvedAll: r.work.lpSolved,
    exchangeCertified: r.audit.exchangeCertified,
    intervalsChecked: r.audit.intervalsChecked,
    pinningCounts: r.audit.pinning.counts,
    pinning: {
      contributor: r.audit.pinning.contributor,
      outsider: r.audit.pinning.outsider,
      perCountOnly: r.audit.pinning.perCountOnly,
      exemptZero: r.audit.pinning.exemptZero,
      contributorPerCount: r.audit.pinning.contributorPerCount,
      contributorUnproven: r.audit.pinning.contributorUnproven,
      contributorExempt: r.audit.pinning.contributorExempt,
    },
    auditPassed: r.audit.findings.length === 0,
  };
  for (const row of ctx.cells) {
    for (const b of BLOCKS) {
      if ((row.facts[b === 'A' ? 'c_contrib_a' : 'c_contrib_b'] as number) === 0) continue;
      m.cellBlocks++;
      const d = r.decisions.cells.get(row.key)![b];
      if (primary.cells.get(row.key)![b].status === 'published') {
        m.primaryPassing++;
        if (d.status === 'published') m.published++;
      }
      if (d.status === 'suppressed') m.cellRules[d.rule] = (m.cellRules[d.rule] ?? 0) + 1;
    }
  }
  return m;
}
