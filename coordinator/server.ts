import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino, type LoggerOptions } from 'pino';
import { buildApp } from './app.js';
import { openCoordinatorHome } from './home.js';
import type { Clock } from '../shared/time/clock.js';

/**
 * pino options of the coordinator: request lines carry method, URL, status, institution id and
 * timing only; signatures, nonces, bodies and anything that could hold a payload are redacted.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers["sb-signature"]',
        'req.headers["sb-nonce"]',
        'req.headers.authorization',
        'req.headers.cookie',
        'req.body',
        'res.body',
        'body',
        'payload',
        'wire',
        'err.details',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: {
        method?: string;
        url?: string;
        headers?: Record<string, unknown>;
        ip?: string;
        socket?: { remoteAddress?: string };
      }) => ({
        method: req.method,
        url: req.url,
        institution: req.headers?.['sb-institution'],
        // Requests carried by hand from an air-gapped node (coordinator import) say so.
        ...(req.headers?.['x-sb-transport'] === 'file' ? { transport: 'file' } : {}),
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
    },
  };
}

/** A running coordinator server. */
export interface RunningServer {
  app: FastifyInstance;
  /** Base URL it listens on, e.g. `http://127.0.0.1:8443`. */
  url: string;
  /** Stop accepting, finish in-flight requests, close the database. */
  close(): Promise<void>;
}

/**
 * Start the coordinator of a home folder (`sectorbench coordinator serve`): open the database
 * and identity, build the app and listen (HTTPS when the config names a certificate).
 */
export async function startServer(input: {
  home: string;
  host?: string;
  port?: number;
  logger?: FastifyBaseLogger | false;
  now?: Clock;
}): Promise<RunningServer> {
  const h = await openCoordinatorHome(input.home);
  const logger =
    input.logger === false
      ? undefined
      : (input.logger ?? (pino(loggerOptions(h.config.log_level)) as unknown as FastifyBaseLogger));
  let app: FastifyInstance;
  try {
    app = await buildApp({
      db: h.db,
      identity: h.identity,
      config: h.appConfig,
      logger,
      now: input.now,
      https: tlsOptions(h.home, h.config.tls),
    });
    await app.listen({ host: input.host ?? h.config.listen.host, port: input.port ?? h.config.listen.port });
  } catch (e) {
    h.db.close();
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (input.port ?? h.config.listen.port);
  const host = input.host ?? h.config.listen.host;
  const url = `${h.config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed = false;
  return {
    app,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      h.db.close();
    },
  };
}

function tlsOptions(
  home: string,
  tls: { cert_file: string; key_file: string } | undefined,
): { cert: Buffer; key: Buffer } | undefined {
  if (!tls) return undefined;
  const p = (f: string) => (isAbsolute(f) ? f : join(home, f));
  return { cert: readFileSync(p(tls.cert_file)), key: readFileSync(p(tls.key_file)) };
}
