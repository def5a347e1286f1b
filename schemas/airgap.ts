import { z } from 'zod';
import { Ed25519SignatureB64, InstitutionId, IsoDateTime, NonceB64, Sha256Hex } from './common.js';

/** Base64 (standard, padded) of any number of bytes, possibly none. */
const Base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'standard base64');

/** A coordinator path the node may ask for (path and query, as signed). */
const CoordinatorPath = z
  .string()
  .max(300)
  .regex(/^\/v1\/[A-Za-z0-9._~%/?=&-]*$/, 'a coordinator path under /v1/');

/** File id: 16 random bytes, hex. */
export const AirgapFileId = z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex characters');

/**
 * One signed request carried by hand (issue 16, item 3): exactly what the node would have sent
 * over HTTP — method, path, its `sb-*` headers (shared/protocol/request-signing.ts), the content
 * type and the body bytes.
 */
export const AirgapRequestSchema = z
  .object({
    method: z.enum(['GET', 'POST']),
    path: CoordinatorPath,
    headers: z.record(z.string().regex(/^(sb-[a-z0-9-]+|content-type)$/), z.string().max(1000)),
    body: Base64,
  })
  .strict();

/**
 * An export file (`sectorbench node export`, or `node round --offline`): the node's pending
 * signed requests, the whole file signed by the node's identity key (purpose `airgap-requests`,
 * field `node_signature`, over the RFC 8785 JSON of the other fields).
 */
export const AirgapRequestFileSchema = z
  .object({
    type: z.literal('sectorbench.airgap-requests'),
    version: z.literal(1),
    institution_id: InstitutionId,
    file_id: AirgapFileId,
    created_at: IsoDateTime,
    requests: z.array(AirgapRequestSchema).min(1).max(200),
    node_signature: Ed25519SignatureB64,
  })
  .strict();

/**
 * The coordinator's answer to one carried request (`nonce` = the request's `sb-nonce`), or, with
 * `nonce` null, a public document the node will need next (the round's manifest and BFV key,
 * fetched without the node's signature, as any unsigned GET of them would be).
 */
export const AirgapResponseSchema = z
  .object({
    nonce: NonceB64.nullable(),
    method: z.enum(['GET', 'POST']),
    path: CoordinatorPath,
    status: z.number().int().min(100).max(599),
    content_type: z.string().max(200),
    body: Base64,
    body_sha256: Sha256Hex,
  })
  .strict();

/**
 * A response file (`sectorbench coordinator import`): the answers to one export file, signed by
 * the coordinator's identity key (purpose `airgap-responses`, field `coordinator_signature`),
 * the key every node pinned at enrolment.
 */
export const AirgapResponseFileSchema = z
  .object({
    type: z.literal('sectorbench.airgap-responses'),
    version: z.literal(1),
    institution_id: InstitutionId,
    request_file_id: AirgapFileId,
    request_file_sha256: Sha256Hex,
    created_at: IsoDateTime,
    responses: z.array(AirgapResponseSchema).max(400),
    coordinator_signature: Ed25519SignatureB64,
  })
  .strict();

export type AirgapRequest = z.infer<typeof AirgapRequestSchema>;
export type AirgapRequestFile = z.infer<typeof AirgapRequestFileSchema>;
export type AirgapResponse = z.infer<typeof AirgapResponseSchema>;
export type AirgapResponseFile = z.infer<typeof AirgapResponseFileSchema>;
