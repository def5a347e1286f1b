import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from '@fastify/type-provider-zod';
import { isSbError } from '../../shared/errors/sb-error.js';
import { problem, statusForCode, type Problem } from '../http/problem-document.js';

const FASTIFY_CODES: Readonly<Record<string, [number, string]>> = Object.freeze({
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'SB_ERR_BODY_TOO_LARGE'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'SB_ERR_BODY_LENGTH'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'SB_ERR_MEDIA_TYPE'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'SB_ERR_VALIDATION'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'SB_ERR_VALIDATION'],
  FST_ERR_VALIDATION: [400, 'SB_ERR_VALIDATION'],
});

/** Map any error to a problem document. Internal errors never leak their message. */
export function toProblem(err: unknown, instance?: string): Problem {
  if (isSbError(err)) {
    const status = statusForCode(err.code);
    return problem(status, err.code, err.message, { instance, details: status < 500 ? err.details : undefined });
  }
  const e = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(e)) {
    return problem(
      400,
      'SB_ERR_VALIDATION',
      `the request does not match the route's schema: ` +
        `${e.validation.map((v) => `${v.instancePath || v.params?.issue?.path?.join('.') || '(root)'} ${v.message}`).join('; ')}`,
      { instance },
    );
  }
  const mapped = e?.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return problem(mapped[0], mapped[1], e.message, { instance });
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 429)
    return problem(429, 'SB_ERR_RATE_LIMIT', 'too many requests; wait a minute and retry with backoff.', { instance });
  if (status >= 400 && status < 500)
    return problem(status, 'SB_ERR_HTTP', e.message || 'the request was refused.', { instance });
  return problem(
    500,
    'SB_ERR_INTERNAL',
    'the coordinator failed to handle this request; it was logged. Retry later or contact the coalition.',
    { instance },
  );
}

/**
 * Every error and 404 as `application/problem+json` (RFC 9457) with `type`, `title`,
 * `status`, `detail` and the stable `code` (`SB_ERR_…`).
 */
export default fp(
  async function problemPlugin(app: FastifyInstance) {
    app.setErrorHandler((err, request, reply) => {
      const p = toProblem(err, request.url.split('?')[0]);
      if (p.status >= 500) request.log.error({ err }, 'request failed');
      else request.log.info({ code: p.code, status: p.status }, 'request refused');
      if (p.status === 413 || p.status === 401) reply.header('connection', 'close');
      const retryAfter = p.details?.retry_after_seconds;
      if (p.status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      // A throttled forger must open a new connection for every further attempt.
      if (p.status === 429 && p.details?.scope === 'failed-authentication') reply.header('connection', 'close');
      void reply.code(p.status).type('application/problem+json').send(p);
    });
    app.setNotFoundHandler((request, reply) => {
      const p = problem(
        404,
        'SB_ERR_NOT_FOUND',
        `there is no ${request.method} ${request.url.split('?')[0]} on this coordinator; see /docs.`,
        { instance: request.url.split('?')[0] },
      );
      void reply.code(404).type('application/problem+json').send(p);
    });
  },
  { name: 'sb-problem' },
);
