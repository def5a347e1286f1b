import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import { SbError } from '../../shared/errors/sb-error.js';

/**
 * Rate limits: per client IP on every route (@fastify/rate-limit), and per authenticated
 * institution on signed routes (a fixed one-minute window, checked after the signature).
 * Defaults allow 63 institutions to submit and poll at once (context.ts).
 */
export default fp(
  async function rateLimitPlugin(app: FastifyInstance) {
    const cfg = app.coordinator.config.rateLimit;
    if (cfg === false) return;
    await app.register(rateLimit, {
      global: true,
      max: cfg.ipPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => request.ip,
      errorResponseBuilder: (_request, context) =>
        new SbError(
          'SB_ERR_RATE_LIMIT',
          `more than ${context.max} requests per minute from this address; retry in ${context.after}.`,
        ),
    });
    const windows = new Map<string, { start: number; count: number }>();
    app.addHook('preHandler', async (request) => {
      const auth = request.sbAuth;
      if (!auth) return;
      const now = Date.now();
      let w = windows.get(auth.institutionId);
      if (!w || now - w.start >= 60_000) {
        w = { start: now, count: 0 };
        windows.set(auth.institutionId, w);
      }
      w.count++;
      if (w.count > cfg.institutionPerMinute) {
        throw new SbError(
          'SB_ERR_RATE_LIMIT',
          `institution ${auth.institutionId} sent more than ${cfg.institutionPerMinute} signed requests this minute; retry in a minute with backoff.`,
        );
      }
    });
  },
  { name: 'sb-rate-limit', dependencies: ['sb-problem'] },
);
