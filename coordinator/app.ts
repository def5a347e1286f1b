import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from '@fastify/type-provider-zod';
import type { Identity } from '../shared/crypto/identity.js';
import { DEFAULT_APP_CONFIG, type CoordinatorAppConfig, type CoordinatorContext } from './context.js';
import type { CoordinatorDb } from './store/db.js';
import problemPlugin from './plugins/problem-handler.js';
import securityPlugin from './plugins/security.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import swaggerPlugin from './plugins/swagger.js';
import requestAuthPlugin from './plugins/request-auth.js';
import bodyPlugin from './plugins/body.js';
import healthRoutes from './routes/health.js';
import roundRoutes from './routes/rounds.js';
import contributionRoutes from './routes/contributions.js';
import releaseRoutes from './routes/releases.js';
import institutionRoutes from './routes/institutions.js';
import { type Clock, systemClock } from '../shared/time/clock.js';
import secaggRoutes from './routes/secagg.js';

export type { CoordinatorAppConfig, CoordinatorContext };

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  db: CoordinatorDb;
  identity: Identity;
  /** Injected clock; default the system clock. */
  now?: Clock;
  /** HTTP settings; `publicUrl` is required, the rest default (context.ts). */
  config: Partial<CoordinatorAppConfig> & Pick<CoordinatorAppConfig, 'publicUrl'>;
  /** A pino logger (see server.ts for the redacting one); default: no logging. */
  logger?: FastifyBaseLogger;
  /** TLS certificate and key (PEM): serve HTTPS. */
  https?: { cert: Buffer | string; key: Buffer | string };
}

/**
 * Build the coordinator's HTTP app (not listening): fastify with one plugin per concern
 * (problem+json errors, helmet, rate limits, OpenAPI + Swagger UI at `/docs`, signed-request
 * auth, bounded octet-stream bodies) and the `/v1` routes. The caller owns `db` and closes it
 * after `app.close()`.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round"
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const config: CoordinatorAppConfig = { ...DEFAULT_APP_CONFIG, ...options.config };
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 100 },
  } as FastifyServerOptions) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const context: CoordinatorContext = {
    db: options.db,
    identity: options.identity,
    now: options.now ?? systemClock,
    config,
  };
  app.decorate('coordinator', context);

  await app.register(problemPlugin);
  await app.register(securityPlugin);
  await app.register(bodyPlugin);
  await app.register(rateLimitPlugin);
  await app.register(requestAuthPlugin);
  await app.register(swaggerPlugin);

  await app.register(healthRoutes);
  await app.register(roundRoutes);
  await app.register(contributionRoutes);
  await app.register(releaseRoutes);
  await app.register(institutionRoutes);
  await app.register(secaggRoutes);
  await app.ready();
  return app;
}
