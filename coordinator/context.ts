import type { Identity } from '../shared/crypto/identity.js';
import type { RequestLimitsConfig } from './http/rate-windows.js';
import type { CoordinatorDb } from './store/db.js';
import type { Clock } from '../shared/time/clock.js';

/** What the HTTP layer needs at run time (decorated on the fastify instance as `coordinator`). */
export interface CoordinatorContext {
  db: CoordinatorDb;
  identity: Identity;
  /** Injected clock (tests move time). */
  now: Clock;
  config: CoordinatorAppConfig;
}

/** HTTP settings of the coordinator. */
export interface CoordinatorAppConfig {
  /** Public base URL (used in manifests and links). */
  publicUrl: string;
  /** Largest accepted |now − sb-timestamp| in seconds (default 300). */
  requestMaxAgeSeconds: number;
  /** Hard cap on any contribution body, in bytes (per-round limits are smaller). */
  maxContributionBytes: number;
  /**
   * Per minute: unsigned requests per client address, authenticated requests per institution,
   * failed authentications per address (default 30); false disables (http/rate-windows.ts).
   */
  rateLimit: RequestLimitsConfig | false;
  /** Trust X-Forwarded-For from a reverse proxy (for per-IP limits). */
  trustProxy: boolean;
}

/**
 * Defaults. Signed node requests count per institution only, so a 500-institution round behind
 * one address stays far below them (tests/coordinator/robustness.test.ts).
 */
export const DEFAULT_APP_CONFIG: Omit<CoordinatorAppConfig, 'publicUrl'> = Object.freeze({
  requestMaxAgeSeconds: 300,
  maxContributionBytes: 64 * 1024 * 1024,
  rateLimit: { ipPerMinute: 600, institutionPerMinute: 60, failedAuthPerMinute: 30 },
  trustProxy: false,
});

/** Authenticated node of a signed request (set by plugins/request-auth.ts). */
export interface RequestAuth {
  institutionId: string;
  nonce: string;
  contentSha256: string;
  auditHead: string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    coordinator: CoordinatorContext;
  }
  interface FastifyRequest {
    sbAuth: RequestAuth | null;
    /** Body limit for this request, set by the route before the body is read. */
    sbBodyLimit: number | null;
  }
  interface FastifyContextConfig {
    /** Node route: requires a signed request (plugins/request-auth.ts). */
    signed?: boolean;
  }
}
