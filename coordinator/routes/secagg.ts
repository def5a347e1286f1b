import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { PhaseAckSchema, PhaseRelaySchema, SecAggPhaseSchema, SecAggStatusSchema } from '../../schemas/secagg.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { ROUTE_PATTERNS } from '../../shared/protocol/routes.js';
import { acceptPhaseMessage, relayPhase } from '../secagg/accept.js';
import { secaggStatus } from '../secagg/phases.js';
import { problems, RoundParams } from './schemas.js';

const PhaseParams = RoundParams.extend({ phase: SecAggPhaseSchema });

/**
 * Secure-aggregation routes (issue 10; ARCHITECTURE.md "The round", step 2): per-phase status,
 * and per phase a signed POST of the node's message and a signed GET of what the ended phase
 * relays to it. The coordinator stores and relays; shares are encrypted to their peer and reveals
 * to the key holder, so it cannot read them.
 */
const secagg: FastifyPluginAsyncZod = async (app) => {
  const { db, identity, now: clock } = app.coordinator;

  app.get(
    ROUTE_PATTERNS.secaggStatus,
    {
      schema: {
        tags: ['secagg'],
        summary:
          'Masked round: per phase who was expected, who acted, who is missing; failure reason if it failed closed',
        params: RoundParams,
        response: { 200: SecAggStatusSchema, ...problems(400, 404) },
      },
    },
    async (request) => secaggStatus(db, request.params.roundId, clock()),
  );

  app.post(
    ROUTE_PATTERNS.secaggPhase,
    {
      bodyLimit: 8 * 1024 * 1024,
      config: { signed: true },
      schema: {
        tags: ['secagg'],
        summary: 'Send this node’s message of a phase (sectorbench.secagg-message JSON as application/octet-stream)',
        params: PhaseParams,
        security: [{ sbSignature: [] }],
        response: { 200: PhaseAckSchema, 201: PhaseAckSchema, ...problems(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const auth = request.sbAuth;
      if (!auth) throw new SbError('SB_ERR_REQUEST_UNSIGNED', 'this route needs a signed request.');
      if (!(request.body instanceof Uint8Array))
        throw new SbError('SB_ERR_MEDIA_TYPE', 'send the phase message as application/octet-stream (JSON bytes).');
      const r = acceptPhaseMessage({
        db,
        identity,
        roundId: request.params.roundId,
        phase: request.params.phase,
        institutionId: auth.institutionId,
        body: request.body,
        now: clock(),
      });
      request.log.info(
        {
          round: request.params.roundId,
          phase: request.params.phase,
          institution: auth.institutionId,
          outcome: r.status,
        },
        'secagg message',
      );
      return reply.code(r.status === 'created' ? 201 : 200).send(r.ack);
    },
  );

  app.get(
    ROUTE_PATTERNS.secaggPhase,
    {
      config: { signed: true },
      schema: {
        tags: ['secagg'],
        summary:
          'What an ended phase relays to the caller (members; advertisements, shares addressed to it, or signatures)',
        params: PhaseParams,
        security: [{ sbSignature: [] }],
        response: { 200: PhaseRelaySchema, ...problems(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request) => {
      const auth = request.sbAuth;
      if (!auth) throw new SbError('SB_ERR_REQUEST_UNSIGNED', 'this route needs a signed request.');
      return relayPhase(db, request.params.roundId, request.params.phase, auth.institutionId, clock());
    },
  );
};
export default secagg;
