import { z } from 'zod';
import {
  CellKey,
  Ed25519SignatureB64,
  GroupKey,
  IsoDateTime,
  METRIC_SPEC_V1,
  RoundId,
  Sha256Hex,
  Studiejaar,
} from './common.js';
import { ThresholdsSchema } from './manifest.js';

/** Why a figure was withheld (ARCHITECTURE.md "Disclosure control"); new rules add a value here. */
export const SuppressionRuleSchema = z.enum([
  'min_institutions',
  'min_population',
  'dominance',
  'min_institutions_distribution',
  'secondary',
  'keyholder_only',
]);

const SuppressionSchema = z.object({ rule: SuppressionRuleSchema, note: z.string().optional() }).strict();
const Histogram = z.array(z.number().int().nonnegative()).length(10);

/**
 * The distributions of institutions' rates of one row (block C `c_abs_bin_*`, `c_drop_bin_*`
 * of the cell or group row): the 10 bin counts, or null with the rule that withheld them
 * (`min_institutions_distribution` when fewer institutions are in the histogram, or the rule
 * of the row's block A / B when that block is suppressed).
 */
export const ReleaseRowDistributionsSchema = z
  .object({
    c_abs_bin: Histogram.nullable(),
    c_drop_bin: Histogram.nullable(),
    suppressed: z
      .object({ c_abs_bin: SuppressionSchema.optional(), c_drop_bin: SuppressionSchema.optional() })
      .strict(),
  })
  .strict()
  .refine(
    (d) =>
      (d.c_abs_bin === null) === (d.suppressed.c_abs_bin !== undefined) &&
      (d.c_drop_bin === null) === (d.suppressed.c_drop_bin !== undefined),
    'a null histogram has a suppression entry, and only a null one',
  );

/**
 * One released row (a cell or a rollup group): each slot's sector sum, or null with the rule
 * that suppressed it, and the number of institutions behind blocks A and B. Releases since
 * disclosure control v2 also carry the row's `distributions`.
 */
export const ReleaseRowSchema = z
  .object({
    institutions: z.object({ a: z.number().int().nonnegative(), b: z.number().int().nonnegative() }).strict(),
    slots: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.number().int().nonnegative().nullable()),
    suppressed: z.record(z.string(), SuppressionSchema),
    distributions: ReleaseRowDistributionsSchema.optional(),
  })
  .strict()
  .refine(
    (r) => Object.entries(r.slots).every(([k, v]) => (v === null) === k in r.suppressed),
    'every null slot has a suppression entry, and only null slots do',
  );

const Count = z.number().int().nonnegative();

/**
 * The rules and the outcome of disclosure control, signed with the release: the protection
 * parameters of the audit, blocks suppressed per rule, distributions withheld per rule, and the
 * audit's verdict (a release is only signed when it passed), with a plain-language Dutch summary.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "Disclosure control"; docs/DISCLOSURE.md
 */
export const DisclosureOutcomeSchema = z
  .object({
    /** The protection interval the audit requires: `hi - lo >= max(min_width, v * ratio_num / ratio_den)` for blocks suppressed by `rules`. */
    protection: z
      .object({
        min_width: Count,
        ratio_num: Count,
        ratio_den: z.number().int().min(1),
        rules: z.array(SuppressionRuleSchema),
      })
      .strict(),
    /** Blocks (row x block A/B) published, and suppressed per rule. */
    blocks: z.object({ published: Count, suppressed: Count }).strict(),
    rules: z.partialRecord(SuppressionRuleSchema, Count),
    distributions: z.object({ published: Count, withheld: z.partialRecord(SuppressionRuleSchema, Count) }).strict(),
    audit: z
      .object({
        verdict: z.literal('passed'),
        method: z.string(),
        /** Suppressed blocks whose values the audit treated as unknowns. */
        checked_blocks: Count,
        /** Suppressed values uniquely determined by the published relations (always 0 when passed). */
        determined: z.literal(0),
        /** Rank of the published relations over the suppressed unknowns, per block. */
        rank: z.object({ A: Count, B: Count }).strict(),
        intervals: z
          .object({
            checked: Count,
            lp_solved: Count,
            /** Narrowest (hi - lo) / required width over the checked blocks, in per mille (null: none checked). */
            min_width_ratio_permille: Count.nullable(),
          })
          .strict(),
        versions: z.object({ compared: z.array(z.number().int().min(1)), differences_checked: Count }).strict(),
      })
      .strict(),
    summary_nl: z.string(),
  })
  .strict();

/**
 * A signed benchmark release (ARCHITECTURE.md "The round", steps 4-5). Each re-release is a new
 * `release_version` that names the digest of the previous one. `key_holder_signature` covers the
 * canonical JSON of all other fields (purpose `release`).
 */
export const ReleaseSchema = z
  .object({
    type: z.literal('sectorbench.release'),
    version: z.literal(1),
    round_id: RoundId,
    release_version: z.number().int().min(1),
    previous_release_digest: Sha256Hex.nullable(),
    studiejaar: Studiejaar,
    metric_spec: METRIC_SPEC_V1,
    codebook_digest: Sha256Hex,
    institutions: z.number().int().nonnegative(),
    thresholds: ThresholdsSchema,
    published_at: IsoDateTime,
    cells: z.record(CellKey, ReleaseRowSchema),
    rollups: z.record(GroupKey, ReleaseRowSchema),
    disclosure: DisclosureOutcomeSchema.optional(),
    key_holder_signature: Ed25519SignatureB64,
  })
  .strict();

export type Release = z.infer<typeof ReleaseSchema>;
export type ReleaseRow = z.infer<typeof ReleaseRowSchema>;
export type ReleaseRowDistributions = z.infer<typeof ReleaseRowDistributionsSchema>;
export type DisclosureOutcome = z.infer<typeof DisclosureOutcomeSchema>;
