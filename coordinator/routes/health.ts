import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { fingerprint } from '../../shared/crypto/identity.js';
import { ROUTE_PATTERNS } from '../../shared/protocol/routes.js';

/** `GET /v1/health`: liveness, the coordinator's key fingerprint and the database reachable. */
const health: FastifyPluginAsyncZod = async (app) => {
  const fp = fingerprint(app.coordinator.identity.publicKey);
  app.get(
    ROUTE_PATTERNS.health,
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness and the coordinator key fingerprint',
        response: {
          200: z.object({
            status: z.literal('ok'),
            time: z.string(),
            coordinator_fingerprint: z.string(),
            coordinator_public_key: z.string(),
          }),
        },
      },
    },
    async () => {
      app.coordinator.db.prepare('SELECT 1').get();
      return {
        status: 'ok' as const,
        time: app.coordinator.now().toISOString(),
        coordinator_fingerprint: fp,
        coordinator_public_key: Buffer.from(app.coordinator.identity.publicKey).toString('base64'),
      };
    },
  );
};
export default health;
