import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { SbError } from '../../shared/errors/sb-error.js';
import { renderReleaseCsv } from '../release/render-csv.js';
import { renderReleaseSite, SITE_FILES } from '../release/site.js';
import { trendReleases } from '../release/trend-releases.js';
import type { CoordinatorDb } from '../store/db.js';
import { findRelease, listReleases, type StoredRelease } from '../store/releases.js';
import { getRound } from '../store/rounds.js';
import { problems, RoundParams } from './schemas.js';
import { ROUTE_PATTERNS } from '../../shared/protocol/routes.js';

const SiteParams = z.object({
  roundId: RoundParams.shape.roundId,
  file: z
    .string()
    .regex(/^[A-Za-z0-9_-]+\.(html|json|csv)$/)
    .describe('a file of the site: index.html, sectorkamer-<code>.html, release.json, release.csv, release-excel.csv'),
});
const VersionSiteParams = SiteParams.extend({ version: z.coerce.number().int().min(1) });

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

const Query = z.object({
  version: z.coerce.number().int().min(1).optional().describe('release version; default the latest'),
});

type ZodApp = Parameters<FastifyPluginAsyncZod>[0];
type SendFile = (r: StoredRelease, file: string, reply: FastifyReply) => Promise<FastifyReply>;

const common = { params: RoundParams, querystring: Query };

/**
 * A published release version (the latest when `version` is undefined). Throws the round store's
 * error for an unknown round, `SB_ERR_RELEASE_UNKNOWN` (404) when the round has no such release.
 */
function loadRelease(db: CoordinatorDb, roundId: string, version?: number): StoredRelease {
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
}

/** Published releases: signed JSON, CSV and the Dutch benchmark page. 404 until released. */
const releases: FastifyPluginAsyncZod = async (app) => {
  const { db } = app.coordinator;
  releaseJsonRoute(app, db);
  releaseCsvRoute(app, db);
  const sendFile = siteFileSender(db);
  siteRoutes(app, db, sendFile);
  releaseHtmlRoute(app, db);
};
export default releases;

/** The key holder's signed release JSON, byte for byte, with its digest as ETag. */
function releaseJsonRoute(app: ZodApp, db: CoordinatorDb): void {
  app.get(
    ROUTE_PATTERNS.release,
    {
      schema: {
        ...common,
        tags: ['releases'],
        summary: "The key holder's signed release (ReleaseSchema)",
        response: { 200: z.unknown().describe('signed release JSON'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const r = loadRelease(db, request.params.roundId, request.query.version);
      return reply
        .header('etag', `"${r.digest}"`)
        .type('application/json; charset=utf-8')
        .serializer((x: string) => x)
        .send(r.json);
    },
  );
}

/** The release as a CSV download (one line per figure). */
function releaseCsvRoute(app: ZodApp, db: CoordinatorDb): void {
  app.get(
    ROUTE_PATTERNS.releaseCsv,
    {
      schema: {
        ...common,
        tags: ['releases'],
        summary: 'The release as CSV (one line per figure)',
        response: { 200: z.unknown().describe('text/csv'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const r = loadRelease(db, request.params.roundId, request.query.version);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${r.roundId}-release-v${r.version}.csv"`)
        .serializer((x: string) => x)
        .send(renderReleaseCsv(r.release));
    },
  );
}

/**
 * Sends one file of a release's publication site (coordinator/release/site.ts). The site is
 * rendered once per release digest and kept (at most 8): charts are rendered on the server, which
 * takes a moment, and a release never changes. `SB_ERR_RELEASE_UNKNOWN` for a file the site lacks.
 */
function siteFileSender(db: CoordinatorDb): SendFile {
  const sites = new Map<string, Promise<Map<string, string>>>();
  const site = (r: StoredRelease): Promise<Map<string, string>> => {
    const versions = listReleases(db, r.roundId).map((x) => x.version);
    // The series changes when an earlier studiejaar gets a (new) release, so it is part of the key.
    const trend = trendReleases(db, r);
    const key = `${r.digest}:${versions.length}:${trend.map((x) => x.digest).join(',')}`;
    let s = sites.get(key);
    if (!s) {
      const round = getRound(db, r.roundId);
      const previous = r.version > 1 ? findRelease(db, r.roundId, r.version - 1)?.release : undefined;
      s = renderReleaseSite(r.release, round.manifest, {
        ...(previous ? { previous } : {}),
        digest: r.digest,
        versions,
        json: r.json,
        trend: trend.map((x) => x.release),
      });
      s.catch(() => sites.delete(key));
      const oldest = sites.keys().next();
      if (sites.size >= 8 && !oldest.done) sites.delete(oldest.value);
      sites.set(key, s);
    }
    return s;
  };
  return async (r, file, reply) => {
    const body = (await site(r)).get(file);
    if (body === undefined)
      throw new SbError('SB_ERR_RELEASE_UNKNOWN', `the site of round ${r.roundId} has no file ${file}.`, {
        round_id: r.roundId,
      });
    return reply
      .type(TYPES[file.split('.').pop() as string] as string)
      .header('etag', `"${r.digest}-${file}"`)
      .serializer((x: string) => x)
      .send(body);
  };
}

/** The publication site of the latest release and of one release version. */
function siteRoutes(app: ZodApp, db: CoordinatorDb, sendFile: SendFile): void {
  app.get(
    ROUTE_PATTERNS.site,
    {
      schema: {
        params: SiteParams,
        tags: ['releases'],
        summary: 'The publication site of the latest release (Dutch pages, JSON, CSV, Excel CSV)',
        response: { 200: z.unknown().describe('text/html, application/json or text/csv'), ...problems(400, 404) },
      },
    },
    async (request, reply) => sendFile(loadRelease(db, request.params.roundId), request.params.file, reply),
  );

  app.get(
    ROUTE_PATTERNS.versionSite,
    {
      schema: {
        params: VersionSiteParams,
        tags: ['releases'],
        summary: 'The publication site of one release version',
        response: { 200: z.unknown().describe('text/html, application/json or text/csv'), ...problems(400, 404) },
      },
    },
    async (request, reply) =>
      sendFile(loadRelease(db, request.params.roundId, request.params.version), request.params.file, reply),
  );
}

/** The benchmark page: a relative redirect to the publication site's index. */
function releaseHtmlRoute(app: ZodApp, db: CoordinatorDb): void {
  app.get(
    ROUTE_PATTERNS.releaseHtml,
    {
      schema: {
        ...common,
        tags: ['releases'],
        summary: 'The benchmark page: redirects to the publication site (site/index.html)',
        response: { 302: z.unknown().describe('redirect'), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const r = loadRelease(db, request.params.roundId, request.query.version);
      // Relative, so it works behind any prefix the coordinator is published under.
      const target =
        request.query.version === undefined
          ? `site/${SITE_FILES.index}`
          : `versions/${r.version}/site/${SITE_FILES.index}`;
      return reply.redirect(target, 302);
    },
  );
}
