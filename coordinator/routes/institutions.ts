import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { AuditHeadAttestationSchema } from '../../schemas/audit-head.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { signAuditHeadAttestation } from '../../shared/protocol/audit-head.js';
import { auditHeadHistory, latestAuditHead } from '../store/audit-heads.js';
import { problems } from './schemas.js';
import { ROUTE_PATTERNS } from '../../shared/protocol/routes.js';

/**
 * `GET /v1/institutions/me/audit-head` (signed): the newest audit-log head the coordinator saw
 * from the calling institution *before* this request, and every distinct head seen before it,
 * signed (issue 6). A node compares them with its chain: a head the coordinator saw that is not
 * in the chain means entries were cut off (or replaced), even if the node sent requests since.
 */
const institutions: FastifyPluginAsyncZod = async (app) => {
  const { db, identity, now } = app.coordinator;
  app.get(
    ROUTE_PATTERNS.auditHead,
    {
      config: { signed: true },
      schema: {
        tags: ['institutions'],
        summary:
          'The newest audit-log head seen from this institution before this request, signed by the coordinator (AuditHeadAttestationSchema)',
        security: [{ sbSignature: [] }],
        response: { 200: AuditHeadAttestationSchema, ...problems(400, 401, 403, 409, 429) },
      },
    },
    async (request) => {
      const auth = request.sbAuth;
      if (!auth) throw new SbError('SB_ERR_REQUEST_UNSIGNED', 'this route needs a signed request.');
      const seen = latestAuditHead(db, auth.institutionId, auth.nonce);
      return signAuditHeadAttestation(
        {
          type: 'sectorbench.audit-head-attestation',
          version: 1,
          institution_id: auth.institutionId,
          head: seen?.head ?? null,
          seen_at: seen?.seenAt ?? null,
          path: seen?.path ?? null,
          history: auditHeadHistory(db, auth.institutionId, auth.nonce).map((h) => ({
            head: h.head,
            seen_at: h.seenAt,
            path: h.path,
          })),
          request_head: auth.auditHead,
          attested_at: now().toISOString(),
        },
        identity.secretKey,
      );
    },
  );
};
export default institutions;
