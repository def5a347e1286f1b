import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { ReceiptSchema } from '../../schemas/receipt.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { acceptContribution, contributionBodyLimit } from '../rounds/submit.js';
import { findRound } from '../store/rounds.js';
import { problems, RoundParams } from './schemas.js';
import { ROUTE_PATTERNS } from '../../shared/protocol/routes.js';

/**
 * `POST /v1/rounds/:roundId/contributions` (signed): a contribution in wire format v1 as
 * `application/octet-stream`. 201 with a signed receipt for a new (or replacing) envelope, 200
 * with the stored receipt for the same envelope again.
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", step 2
 */
const contributions: FastifyPluginAsyncZod = async (app) => {
  const { db, identity, now: clock, config } = app.coordinator;
  app.post(
    ROUTE_PATTERNS.contributions,
    {
      bodyLimit: config.maxContributionBytes,
      config: { signed: true },
      schema: {
        tags: ['contributions'],
        summary: 'Submit a signed contribution (wire format v1: SBC1 | envelope | ciphertexts)',
        description:
          'Body: application/octet-stream, shared/protocol/wire.ts. ' +
          'The request must be signed (sb-* headers). ' +
          'Refusals: 401 unsigned/forged/stale/unknown institution, ' +
          '403 revoked or not a participant, 404 unknown round, ' +
          '409 replayed nonce, closed round or passed deadline, ' +
          '413 too large, 400 malformed wire or digest mismatch, 422 invalid ciphertexts or envelope.',
        params: RoundParams,
        security: [{ sbSignature: [] }],
        response: { 200: ReceiptSchema, 201: ReceiptSchema, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
      onRequest: async (request) => {
        // Before the body is read: the round must exist, and it bounds the body size.
        const round = findRound(db, (request.params as { roundId: string }).roundId);
        if (!round)
          throw new SbError(
            'SB_ERR_ROUND_UNKNOWN',
            `round ${(request.params as { roundId: string }).roundId} does not exist on this coordinator; check the manifest's round_id.`,
          );
        request.sbBodyLimit = Math.min(config.maxContributionBytes, contributionBodyLimit(round.ciphertextCount));
      },
    },
    async (request, reply) => {
      const auth = request.sbAuth;
      if (!auth) throw new SbError('SB_ERR_REQUEST_UNSIGNED', 'this route needs a signed request.');
      if (!(request.body instanceof Uint8Array))
        throw new SbError('SB_ERR_MEDIA_TYPE', 'send the contribution as application/octet-stream (wire format v1).');
      const r = acceptContribution({
        db,
        identity,
        roundId: request.params.roundId,
        institutionId: auth.institutionId,
        wire: request.body,
        auditHead: auth.auditHead,
        now: clock(),
      });
      request.log.info(
        {
          round: request.params.roundId,
          institution: auth.institutionId,
          sequence: r.receipt.sequence,
          outcome: r.status,
          replaced: r.replaced,
        },
        'contribution',
      );
      return reply.code(r.status === 'created' ? 201 : 200).send(r.receipt);
    },
  );
};
export default contributions;
