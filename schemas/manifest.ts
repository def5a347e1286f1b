import { z } from 'zod';
import {
  Ed25519PublicKeyB64,
  Ed25519SignatureB64,
  HE_PARAMS_V1,
  InstitutionId,
  IsoDateTime,
  METRIC_SPEC_V1,
  RoundId,
  Sha256Hex,
  SLOT_LAYOUT_V1,
  Studiejaar,
} from './common.js';
import { maskingThresholdProblem, SecAggManifestSchema } from './secagg.js';

/** One codebook programme (INPUT.md "Codebook"). */
export const CodebookEntrySchema = z
  .object({
    crebo: z.string().regex(/^\d{5}$/),
    name: z.string().min(1),
    niveau: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
    sectorkamer_code: z.string().min(1),
    sectorkamer_name: z.string(),
  })
  .strict();

/** Disclosure-control thresholds (ARCHITECTURE.md "Disclosure control"). */
export const ThresholdsSchema = z
  .object({
    min_institutions: z.number().int().min(2).default(3),
    min_population: z.number().int().min(1).default(10),
    dominance_share: z.number().gt(0).max(1).default(0.85),
    min_institutions_distribution: z.number().int().min(2).default(5),
  })
  .strict();

/** A BRIN code (4 characters: two digits, then two letters or digits, e.g. `25LX`). */
export const BrinCode = z.string().regex(/^[0-9]{2}[A-Z0-9]{2}$/, 'a BRIN code: two digits and two capitals or digits');

/**
 * A round participant: institution id, name and BRIN code as the key holder enrolled it, pinned
 * by its Ed25519 public key. The key holder endorses the whole list (issue 11).
 */
export const ParticipantSchema = z
  .object({
    institution_id: InstitutionId,
    name: z.string().min(1).max(200),
    brin: BrinCode,
    ed25519_public_key: Ed25519PublicKeyB64,
  })
  .strict();

/** A participant list: unique ids and keys. */
export const ParticipantListSchema = z
  .array(ParticipantSchema)
  .min(1)
  .max(10000)
  .refine((ps) => new Set(ps.map((p) => p.institution_id)).size === ps.length, 'institution ids must be unique')
  .refine((ps) => new Set(ps.map((p) => p.ed25519_public_key)).size === ps.length, 'identity keys must be unique');

/** Where the key holder's BFV public key is: its digest, and a URL or the key itself (base64). */
export const HePublicKeyRefSchema = z
  .object({
    digest: Sha256Hex,
    url: z.url().optional(),
    base64: z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/)
      .optional(),
  })
  .strict()
  .refine((k) => k.url !== undefined || k.base64 !== undefined, 'give url or base64');

/**
 * The key holder's endorsement: its Ed25519 signature over the canonical JSON of
 * `{round_id, he_params, he_public_key_digest, max_participants, thresholds, participants}`
 * (plus `masking` for a masked round; purpose `key-holder-endorsement`), so nodes know it agreed
 * to enforce these thresholds and that it, not only the coordinator, vouches for every
 * participant (issue 11).
 */
export const KeyHolderEndorsementSchema = z
  .object({
    ed25519_public_key: Ed25519PublicKeyB64,
    signature: Ed25519SignatureB64,
  })
  .strict();

/**
 * Round manifest (ARCHITECTURE.md "The round", step 1). `coordinator_signature` covers the
 * canonical JSON of all other fields (purpose `round-manifest`).
 */
export const RoundManifestSchema = z
  .object({
    type: z.literal('sectorbench.round-manifest'),
    version: z.literal(1),
    round_id: RoundId,
    studiejaar: Studiejaar,
    metric_spec: METRIC_SPEC_V1,
    slot_layout: SLOT_LAYOUT_V1,
    he_params: HE_PARAMS_V1,
    codebook: z.object({ digest: Sha256Hex, entries: z.array(CodebookEntrySchema).min(1) }).strict(),
    thresholds: ThresholdsSchema,
    participants: ParticipantListSchema,
    max_participants: z.number().int().min(1).max(100000),
    deadline: IsoDateTime,
    he_public_key: HePublicKeyRefSchema,
    key_holder_endorsement: KeyHolderEndorsementSchema,
    /** Secure aggregation (issue 10): threshold t and phase deadlines; absent in unmasked rounds. */
    secagg: SecAggManifestSchema.optional(),
    coordinator_signature: Ed25519SignatureB64,
  })
  .strict()
  .refine((m) => m.participants.length <= m.max_participants, 'more participants than max_participants')
  .refine(
    (m) =>
      !m.secagg ||
      (maskingThresholdProblem(
        m.secagg.threshold,
        m.secagg.graph,
        m.participants.length,
        m.thresholds.min_institutions,
      ) === null &&
        m.secagg.deadlines.unmask === m.deadline),
    'the secagg threshold does not fit the participants and graph, or the unmask deadline is not the round deadline',
  );

export type RoundManifest = z.infer<typeof RoundManifestSchema>;
export type Thresholds = z.infer<typeof ThresholdsSchema>;
export type Participant = z.infer<typeof ParticipantSchema>;
