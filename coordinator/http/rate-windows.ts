import { SbError } from '../../shared/errors/sb-error.js';

/** Outcome of counting one event in a {@link FixedWindows} counter. */
export interface WindowHit {
  /** Events of this key in the current window, this one included. */
  count: number;
  /** True when `count` is above the limit. */
  over: boolean;
  /** Whole seconds until the window ends (at least 1): the `Retry-After` to send. */
  retryAfterSeconds: number;
}

/**
 * Fixed-window counters per key (an address or an institution id): at most `limit` events per
 * `windowMs`, the window starting at a key's first event. In memory only (a restart forgets,
 * which only ever lets more through). At most `maxKeys` keys: expired windows are dropped
 * first, then the oldest, so a flood from many addresses cannot grow memory without bound.
 */
export class FixedWindows {
  readonly #windows = new Map<string, { start: number; count: number }>();
  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    readonly maxKeys = 100_000,
  ) {}

  /** Count one event of `key` at `nowMs` (milliseconds since the epoch). */
  hit(key: string, nowMs: number): WindowHit {
    let w = this.#windows.get(key);
    if (!w || nowMs - w.start >= this.windowMs || nowMs < w.start) {
      if (!w && this.#windows.size >= this.maxKeys) this.#evict(nowMs);
      w = { start: nowMs, count: 0 };
      this.#windows.set(key, w);
    }
    w.count++;
    return {
      count: w.count,
      over: w.count > this.limit,
      retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - nowMs) / 1000)),
    };
  }

  /** Whether `key` is over its limit now, without counting (and when it may retry). */
  peek(key: string, nowMs: number): { over: boolean; retryAfterSeconds: number } {
    const w = this.#windows.get(key);
    if (!w || nowMs - w.start >= this.windowMs || nowMs < w.start) return { over: false, retryAfterSeconds: 0 };
    return {
      over: w.count > this.limit,
      retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - nowMs) / 1000)),
    };
  }

  /** Number of keys held (tests, metrics). */
  get size(): number {
    return this.#windows.size;
  }

  #evict(nowMs: number): void {
    for (const [k, w] of this.#windows) if (nowMs - w.start >= this.windowMs) this.#windows.delete(k);
    // Still full: drop the oldest tenth (Map iterates in insertion order).
    let drop = this.#windows.size >= this.maxKeys ? Math.ceil(this.maxKeys / 10) : 0;
    for (const k of this.#windows.keys()) {
      if (drop-- <= 0) break;
      this.#windows.delete(k);
    }
  }
}

/** Limits of {@link RequestLimits}, per minute. */
export interface RequestLimitsConfig {
  /** Unsigned requests (public pages, no `sb-*` headers) per address. */
  ipPerMinute: number;
  /** Authenticated requests per institution, whatever address they come from. */
  institutionPerMinute: number;
  /** Failed authentications per address before its failing requests are answered 429 (default 30). */
  failedAuthPerMinute?: number;
}

/** Default failed authentications per address and minute. */
export const DEFAULT_FAILED_AUTH_PER_MINUTE = 30;

/** Refusal codes of the authentication layer that count as a failed authentication. */
export const AUTH_FAILURE_CODES: ReadonlySet<string> = new Set([
  'SB_ERR_REQUEST_UNSIGNED',
  'SB_ERR_REQUEST_HEADERS',
  'SB_ERR_UNKNOWN_INSTITUTION',
  'SB_ERR_REQUEST_SIGNATURE',
  'SB_ERR_REQUEST_STALE',
  'SB_ERR_REQUEST_REPLAY',
  'SB_ERR_REQUEST_DIGEST',
  'SB_ERR_INSTITUTION_REVOKED',
]);

function rateLimited(message: string, retryAfterSeconds: number, scope: string): SbError {
  return new SbError('SB_ERR_RATE_LIMIT', message, { retry_after_seconds: retryAfterSeconds, scope });
}

/**
 * The coordinator's three request budgets (issue 13):
 *
 * - **failed authentication per address**: every request the authentication layer refuses
 *   (unsigned on a signed route, malformed headers, unknown institution, forged signature,
 *   stale, replayed, revoked, body digest) counts; above the budget such requests are answered
 *   429 with `Retry-After` instead of 401/403/409, and unsigned requests from the address are
 *   refused before any database lookup. A *validly signed* request from the same address still
 *   goes through: honest nodes behind one NAT or proxy are never locked out by a forger there.
 * - **per institution, after authentication**: a node's requests count against its own id,
 *   whatever address they come from, so 500 nodes behind one address each have their own budget.
 * - **unsigned requests per address**: public pages and files fetched without `sb-*` headers.
 *
 * Signed requests never count against an address budget.
 */
export class RequestLimits {
  readonly failedAuth: FixedWindows;
  readonly institutions: FixedWindows;
  readonly unsigned: FixedWindows;
  constructor(cfg: RequestLimitsConfig) {
    this.failedAuth = new FixedWindows(cfg.failedAuthPerMinute ?? DEFAULT_FAILED_AUTH_PER_MINUTE);
    this.institutions = new FixedWindows(cfg.institutionPerMinute);
    this.unsigned = new FixedWindows(cfg.ipPerMinute);
  }

  /** Throws 429 when `address` spent its failed-authentication budget (checked before auth of unsigned requests). */
  checkAddressNotThrottled(address: string, nowMs: number): void {
    const p = this.failedAuth.peek(address, nowMs);
    if (p.over)
      throw rateLimited(
        `too many failed authentications from this address in the last minute; ` +
          `unsigned and invalid requests are refused. ` +
          `Retry in ${p.retryAfterSeconds} s with a correctly signed request.`,
        p.retryAfterSeconds,
        'failed-authentication',
      );
  }

  /** Count an unsigned request of `address`; throws 429 above the budget. */
  countUnsigned(address: string, nowMs: number): void {
    const h = this.unsigned.hit(address, nowMs);
    if (h.over)
      throw rateLimited(
        `more than ${this.unsigned.limit} unsigned requests per minute from this address; retry in ${h.retryAfterSeconds} s.`,
        h.retryAfterSeconds,
        'address',
      );
  }

  /**
   * A request from `address` failed authentication with `err`: count it and return the error
   * to answer with, `err` itself or, above the budget, a 429 `SB_ERR_RATE_LIMIT`.
   */
  authFailed(address: string, err: unknown, nowMs: number): unknown {
    const code = (err as { code?: unknown })?.code;
    if (typeof code !== 'string' || !AUTH_FAILURE_CODES.has(code)) return err;
    const h = this.failedAuth.hit(address, nowMs);
    if (!h.over) return err;
    return rateLimited(
      `too many failed authentications from this address (more than ${this.failedAuth.limit} per minute); ` +
        `this request failed too (${code}). ` +
        `Retry in ${h.retryAfterSeconds} s with a correctly signed request.`,
      h.retryAfterSeconds,
      'failed-authentication',
    );
  }

  /** Count an authenticated request of `institutionId`; throws 429 above its budget. */
  countInstitution(institutionId: string, nowMs: number): void {
    const h = this.institutions.hit(institutionId, nowMs);
    if (h.over)
      throw rateLimited(
        `institution ${institutionId} sent more than ${this.institutions.limit} signed requests this minute; ` +
          `retry in ${h.retryAfterSeconds} s (the node does so by itself).`,
        h.retryAfterSeconds,
        'institution',
      );
  }
}
