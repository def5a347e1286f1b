import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { SbError } from '../../shared/errors/sb-error.js';
import { renderReleaseCsv } from '../release/render-csv.js';
import { renderReleaseHtml } from '../release/render-html.js';
import { findRelease, listReleases, type StoredRelease } from '../store/releases.js';
import { getRound } from '../store/rounds.js';
import { problems, RoundParams } from './schemas.js';

const Query = z.object({
  version: z.coerce.number().int().min(1).optional().describe('release version; default the latest'),
});

/** Published releases: signed JSON, CSV and the Dutch benchmark page. 404 until released. */
const releases: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.coordinator;
  const load = (roundId: string, version?: number): StoredRelease => {
    getRound(db, roundId);
    const r = findRelease(db, roundId, version);
    if (!r) {
      throw new SbError(
        'SB_ERR_RELEASE_UNKNOWN',
        version === undefined
          ? `round ${roundId} has no published release yet.`
          : `round ${roundId} has no release version ${version}.`,
        { round_id: roundId },
      );
    }
    return r;
  };
  const common = { params: RoundParams, querystring: Query };

  app.get(
    '/v1/rounds/:roundId/release',
    {
      schema: {
        ...common,
        tags: ['releases'],
        summary: "The key holder's signed release (ReleaseSchema)",
        response: { 200: z.unknown().describe('signed release JSON'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const r = load(request.params.roundId, request.query.version);
      return reply
        .header('etag', `"${r.digest}"`)
        .type('application/json; charset=utf-8')
        .serializer((x: unknown) => x as string)
        .send(r.json);
    },
  );

  app.get(
    '/v1/rounds/:roundId/release.csv',
    {
      schema: {
        ...common,
        tags: ['releases'],
        summary: 'The release as CSV (one line per figure)',
        response: { 200: z.unknown().describe('text/csv'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const r = load(request.params.roundId, request.query.version);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${r.roundId}-release-v${r.version}.csv"`)
        .serializer((x: unknown) => x as string)
        .send(renderReleaseCsv(r.release));
    },
  );

  app.get(
    '/v1/rounds/:roundId/release.html',
    {
      schema: {
        ...common,
        tags: ['releases'],
        summary: 'The benchmark page (Dutch, static HTML)',
        response: { 200: z.unknown().describe('text/html'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const r = load(request.params.roundId, request.query.version);
      const round = getRound(db, request.params.roundId);
      const versions = listReleases(db, r.roundId).map((x) => x.version);
      return reply
        .type('text/html; charset=utf-8')
        .serializer((x: unknown) => x as string)
        .send(renderReleaseHtml(r.release, round.manifest, { digest: r.digest, versions }));
    },
  );
};
export default releases;
