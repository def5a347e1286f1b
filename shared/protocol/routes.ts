import type { SecAggPhase } from '../../schemas/secagg.js';

const r = (roundId: string) => `/v1/rounds/${encodeURIComponent(roundId)}`;

/**
 * The coordinator's HTTP paths, built in one place for every role (the node signs the exact
 * path, so node and coordinator must agree byte for byte). Route patterns for fastify are in
 * {@link ROUTE_PATTERNS}.
 */
export const ROUTES = {
  rounds: () => '/v1/rounds',
  manifest: (roundId: string) => `${r(roundId)}/manifest`,
  hePublicKey: (roundId: string) => `${r(roundId)}/he-public-key`,
  contributions: (roundId: string) => `${r(roundId)}/contributions`,
  status: (roundId: string) => `${r(roundId)}/status`,
  release: (roundId: string, suffix: '' | '.csv' | '.html' = '', version?: number) =>
    `${r(roundId)}/release${suffix}${version !== undefined ? `?version=${version}` : ''}`,
  /** Secure aggregation: per-phase status (who acted, who did not). */
  secaggStatus: (roundId: string) => `${r(roundId)}/secagg`,
  /** Secure aggregation: POST a phase message, GET what the ended phase relays to the caller. */
  secaggPhase: (roundId: string, phase: SecAggPhase) => `${r(roundId)}/secagg/${phase}`,
  auditHead: () => '/v1/institutions/me/audit-head',
  health: () => '/v1/health',
} as const;

/**
 * Fastify route patterns of the coordinator's API, the same paths as {@link ROUTES} with
 * `:params` (tests/protocol/routes.test.ts checks that both agree).
 */
export const ROUTE_PATTERNS = {
  rounds: '/v1/rounds',
  manifest: '/v1/rounds/:roundId/manifest',
  hePublicKey: '/v1/rounds/:roundId/he-public-key',
  contributions: '/v1/rounds/:roundId/contributions',
  status: '/v1/rounds/:roundId/status',
  release: '/v1/rounds/:roundId/release',
  releaseCsv: '/v1/rounds/:roundId/release.csv',
  releaseHtml: '/v1/rounds/:roundId/release.html',
  site: '/v1/rounds/:roundId/site/:file',
  versionSite: '/v1/rounds/:roundId/versions/:version/site/:file',
  secaggStatus: '/v1/rounds/:roundId/secagg',
  secaggPhase: '/v1/rounds/:roundId/secagg/:phase',
  auditHead: '/v1/institutions/me/audit-head',
  health: '/v1/health',
} as const;
