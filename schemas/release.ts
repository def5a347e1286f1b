import { z } from 'zod';
import { CellKey, Ed25519SignatureB64, GroupKey, IsoDateTime, METRIC_SPEC_V1, RoundId, Sha256Hex, Studiejaar } from './common.js';
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

/**
 * One released row (a cell or a rollup group): each slot's sector sum, or null with the rule
 * that suppressed it, and the number of institutions behind blocks A and B.
 */
export const ReleaseRowSchema = z
  .object({
    institutions: z.object({ a: z.number().int().nonnegative(), b: z.number().int().nonnegative() }).strict(),
    slots: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.number().int().nonnegative().nullable()),
    suppressed: z.record(z.string(), z.object({ rule: SuppressionRuleSchema, note: z.string().optional() }).strict()),
  })
  .strict()
  .refine(
    (r) => Object.entries(r.slots).every(([k, v]) => (v === null) === (k in r.suppressed)),
    'every null slot has a suppression entry, and only null slots do',
  );

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
    key_holder_signature: Ed25519SignatureB64,
  })
  .strict();

export type Release = z.infer<typeof ReleaseSchema>;
export type ReleaseRow = z.infer<typeof ReleaseRowSchema>;
