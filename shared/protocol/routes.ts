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
} as const;

/** Fastify route patterns of {@link ROUTES}. */
export const ROUTE_PATTERNS = {
  secaggStatus: '/v1/rounds/:roundId/secagg',
  secaggPhase: '/v1/rounds/:roundId/secagg/:phase',
} as const;
