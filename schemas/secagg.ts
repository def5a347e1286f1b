import { z } from 'zod';
import { Ed25519SignatureB64, InstitutionId, IsoDateTime, RoundId, Sha256Hex } from './common.js';

/**
 * The secure-aggregation phases after the manifest, in order (Bonawitz et al., CCS 2017,
 * rounds 0-4; ARCHITECTURE.md "The round", step 2).
 */
export const SECAGG_PHASES = ['advertise', 'share', 'masked_input', 'consistency', 'unmask'] as const;
export const SecAggPhaseSchema = z.enum(SECAGG_PHASES);
export type SecAggPhase = z.infer<typeof SecAggPhaseSchema>;

/** Base64 of an X25519 public key (32 bytes). */
export const X25519KeyB64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of 32 bytes')
  .refine((s) => Buffer.from(s, 'base64').length === 32, 'base64 of 32 bytes');

/**
 * The mask graph: `complete` (every pair, Bonawitz et al.) or `harary` (the sparse graph of
 * Bell et al., CCS 2020, each node linked to `degree` others; shared/secagg/graph.ts).
 */
export const MaskGraphSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('complete') }).strict(),
  z.object({ kind: z.literal('harary'), degree: z.number().int().min(2) }).strict(),
]);
export type MaskGraph = z.infer<typeof MaskGraphSchema>;

/**
 * What the key holder endorses of a masked round (issue 10): the Shamir threshold t, the mask
 * graph and its X25519 key that reveals are encrypted to (nacl.box), fresh per round.
 */
export const MaskingEndorsementSchema = z
  .object({
    threshold: z.number().int().min(2),
    graph: MaskGraphSchema,
    reveal_public_key: X25519KeyB64,
  })
  .strict();
export type MaskingEndorsement = z.infer<typeof MaskingEndorsementSchema>;

/**
 * The masking part of a round manifest: the Shamir threshold t, the mask graph and the key
 * holder's reveal key (signed by the coordinator and endorsed by the key holder), and one
 * deadline per phase. A phase ends when every node expected in it has acted or at its
 * deadline; `unmask` ends at the manifest's `deadline`.
 */
export const SecAggManifestSchema = z
  .object({
    protocol: z.literal('secagg-bonawitz-ccs17'),
    threshold: z.number().int().min(2),
    graph: MaskGraphSchema,
    reveal_public_key: X25519KeyB64,
    deadlines: z
      .object({
        advertise: IsoDateTime,
        share: IsoDateTime,
        masked_input: IsoDateTime,
        consistency: IsoDateTime,
        unmask: IsoDateTime,
      })
      .strict(),
  })
  .strict()
  .refine(
    (s) =>
      SECAGG_PHASES.slice(1).every(
        (p, i) => Date.parse(s.deadlines[SECAGG_PHASES[i] ?? p]) < Date.parse(s.deadlines[p]),
      ),
    'phase deadlines must increase',
  );
export type SecAggManifest = z.infer<typeof SecAggManifestSchema>;

/** One item of a phase message: to one peer (`share`) or to nobody in particular (`to: null`). */
export const PhaseItemSchema = z.object({ to: InstitutionId.nullable(), payload: z.unknown() }).strict();

/**
 * What a node POSTs to `/v1/rounds/:id/secagg/:phase` (as application/octet-stream JSON bytes,
 * signed request). The payloads are the secure-aggregation core's signed objects
 * (shared/secagg); the coordinator relays them and cannot read the encrypted ones.
 */
export const PhaseMessageSchema = z
  .object({
    type: z.literal('sectorbench.secagg-message'),
    version: z.literal(1),
    round_id: RoundId,
    phase: SecAggPhaseSchema,
    from: InstitutionId,
    items: z.array(PhaseItemSchema).min(1).max(10000),
  })
  .strict();
export type PhaseMessage = z.infer<typeof PhaseMessageSchema>;

/**
 * The coordinator's signed acknowledgement of a phase message (purpose `secagg-ack`):
 * `digest` is the SHA-256 of the message's RFC 8785 canonical JSON.
 */
export const PhaseAckSchema = z
  .object({
    type: z.literal('sectorbench.secagg-ack'),
    version: z.literal(1),
    round_id: RoundId,
    phase: SecAggPhaseSchema,
    institution_id: InstitutionId,
    digest: Sha256Hex,
    received_at: IsoDateTime,
    coordinator_signature: Ed25519SignatureB64,
  })
  .strict();
export type PhaseAck = z.infer<typeof PhaseAckSchema>;

/**
 * What the coordinator relays to a node once a phase has ended (`GET …/secagg/:phase`):
 * `members` — who acted in time (for `masked_input`: the survivor set U3); `items` — the
 * payloads meant for the caller (all advertisements; the shares addressed to it; all
 * consistency signatures; nothing for `unmask`).
 */
export const PhaseRelaySchema = z
  .object({
    round_id: RoundId,
    phase: SecAggPhaseSchema,
    members: z.array(InstitutionId),
    items: z.array(z.object({ from: InstitutionId, payload: z.unknown() }).strict()),
  })
  .strict();
export type PhaseRelay = z.infer<typeof PhaseRelaySchema>;

/** Per phase: who was expected, who acted, who did not; and whether the round failed closed. */
export const SecAggStatusSchema = z
  .object({
    round_id: RoundId,
    threshold: z.number().int(),
    current_phase: z.union([SecAggPhaseSchema, z.literal('done'), z.literal('failed')]),
    failure: z.object({ phase: SecAggPhaseSchema, code: z.string(), message: z.string() }).strict().nullable(),
    phases: z.array(
      z
        .object({
          phase: SecAggPhaseSchema,
          deadline: IsoDateTime,
          state: z.enum(['pending', 'running', 'ended']),
          ended_at: IsoDateTime.nullable(),
          expected: z.array(InstitutionId),
          acted: z.array(InstitutionId),
          missing: z.array(InstitutionId),
        })
        .strict(),
    ),
  })
  .strict();
export type SecAggStatus = z.infer<typeof SecAggStatusSchema>;

/**
 * The secure-aggregation part of the close-of-round bundle (`secagg.json`): the ended phases
 * with their members, every advertisement (U1), every survivor-set signature (U4) and every
 * reveal (U5, each encrypted to the key holder), as the nodes signed them.
 */
export const SecAggBundleSchema = z
  .object({
    type: z.literal('sectorbench.secagg-bundle'),
    version: z.literal(1),
    round_id: RoundId,
    threshold: z.number().int().min(2),
    phases: z.array(
      z
        .object({
          phase: SecAggPhaseSchema,
          ended_at: IsoDateTime,
          members: z.array(InstitutionId),
          forced: z.boolean(),
        })
        .strict(),
    ),
    advertisements: z.array(z.object({ from: InstitutionId, payload: z.unknown() }).strict()),
    consistency: z.array(z.object({ from: InstitutionId, payload: z.unknown() }).strict()),
    reveals: z.array(z.object({ from: InstitutionId, payload: z.unknown() }).strict()),
  })
  .strict();
export type SecAggBundle = z.infer<typeof SecAggBundleSchema>;

/**
 * Why a masking threshold t does not fit a round, or null when it does. The nodes that hold
 * shares of one node's secrets (its shareholders) are all n participants for the complete
 * graph and `degree + 1` for the sparse one; t must be more than half of them (2t > m, so two
 * survivor stories cannot both collect t signatures from disjoint nodes), at most m, at most 255
 * (Shamir over GF(2^8)), and at least `min_institutions`.
 */
export function maskingThresholdProblem(
  t: number,
  graph: z.infer<typeof MaskGraphSchema>,
  participants: number,
  minInstitutions: number,
): string | null {
  const m = graph.kind === 'complete' ? participants : graph.degree + 1;
  if (graph.kind === 'harary' && (graph.degree % 2 !== 0 || graph.degree >= participants))
    return `the sparse graph's degree ${graph.degree} must be even and below the ${participants} participants`;
  if (m > 255) return `${m} shareholders per node, more than the 255 Shamir allows; use the sparse graph`;
  if (!(2 * t > m)) return `t = ${t} is not more than half of the ${m} shareholders per node`;
  if (t > m) return `t = ${t} is more than the ${m} shareholders per node`;
  if (t < minInstitutions) return `t = ${t} is below min_institutions ${minInstitutions}`;
  return null;
}
