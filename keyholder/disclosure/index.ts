/**
 * Disclosure control of the key holder (ARCHITECTURE.md "Disclosure control"): a context built
 * from the decrypted sector sum, passes that refine per-block decisions (only ever suppressing
 * more: primary, dominance, secondary), the rendering into release rows with distributions, and
 * the audit that every release passes before it is signed.
 */
export { BLOCKS, BLOCK_COUNTS, BLOCK_SLOTS, disclosureContext } from './context.js';
export { allPublished, runDisclosure, type PassSummary } from './pipeline.js';
export { PRIMARY_PASS_NAME, primaryBlockDecision, primaryDisclosure, primaryPass } from './primary.js';
export { renderReleaseRows } from './render.js';
export { DOMINANCE_PASS_NAME, dominancePass, isDominated } from './dominance.js';
export {
  DISTRIBUTIONS,
  renderDistributions,
  rowDistributions,
  withholdVersionDifferences,
  type DistributionTally,
} from './distributions.js';
export {
  DEFAULT_PROTECTION,
  SECONDARY_PASS_NAME,
  SENSITIVE_RULES,
  requiredWidth,
  secondaryPass,
  secondaryPassWith,
  secondarySuppression,
  type ProtectionParams,
  type ProtectionRequest,
} from './secondary.js';
export { AuditMemo, auditRelease, type AuditFinding, type AuditInput, type AuditReport } from './audit.js';
export { AUDIT_METHOD, discloseAndAudit, summaryNl, type DiscloseOptions, type DisclosedRelease } from './protect.js';
export { ExactBasis, decimalFraction } from './exact-rref.js';
export { ExchangeSystem, type Delta, type ExchangeInput } from './exchange.js';
export { hierarchicalRelations, type Relation } from './relations.js';
export type * from './types.js';

import { dominancePass } from './dominance.js';
import { primaryPass } from './primary.js';
import { secondaryPass } from './secondary.js';
import type { DisclosurePass } from './types.js';

/** The passes a release runs, in order: primary thresholds, dominance, secondary suppression. */
export const DEFAULT_PASSES: readonly DisclosurePass[] = Object.freeze([primaryPass, dominancePass, secondaryPass]);
