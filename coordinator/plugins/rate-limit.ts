import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RequestLimits } from '../http/rate-windows.js';

/** Whether the request will go through request authentication (signed route, or `sb-*` headers present). */
export function willAuthenticate(request: FastifyRequest): boolean {
  const h = request.headers;
  return (
    request.routeOptions.config?.signed === true || h['sb-signature'] !== undefined || h['sb-institution'] !== undefined
  );
}

/**
 * Rate limits (http/rate-windows.ts `RequestLimits`): decorates `app.sbLimits` (null when
 * disabled) and, before authentication, refuses unsigned requests from an address that spent
 * its failed-authentication budget and counts unsigned requests per address. Failed
 * authentications and per-institution budgets are counted by plugins/request-auth.ts, which
 * knows the outcome. Registered before request-auth so its hook runs first.
 */
export default fp(
  async function rateLimitPlugin(app: FastifyInstance) {
    const cfg = app.coordinator.config.rateLimit;
    const clock = app.coordinator.now;
    const limits = cfg === false ? null : new RequestLimits(cfg);
    app.decorate('sbLimits', limits);
    if (!limits) return;
    app.addHook('onRequest', async (request) => {
      if (willAuthenticate(request)) return;
      const now = clock().getTime();
      limits.checkAddressNotThrottled(request.ip, now);
      limits.countUnsigned(request.ip, now);
    });
  },
  { name: 'sb-rate-limit', dependencies: ['sb-problem'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** Request budgets (null when rate limits are disabled). */
    sbLimits: RequestLimits | null;
  }
}
