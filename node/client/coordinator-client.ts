import { request, type Dispatcher } from 'undici';
import { SbError } from '../../shared/errors/sb-error.js';
import { coordinatorDispatcher } from './tls-pin.js';
import { REQUEST_HEADERS, signRequest } from '../../shared/protocol/request-signing.js';
import type { Identity } from '../../shared/crypto/identity.js';
import type { Clock } from '../../shared/time/clock.js';
import type { NodeConfig } from './config.js';
import type { FileTransport } from './file-transport.js';

export interface ClientOptions {
  /** The configured coordinator origin; the only host this node ever talks to. */
  baseUrl: string;
  institutionId: string;
  secretKey: Uint8Array;
  /** Injected HTTP dispatcher (undici Agent, or MockAgent in tests). */
  dispatcher?: Dispatcher;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Attempts for transient failures without a `Retry-After` (network errors, and 429/502-504
   * without the header); default 5 (about 7.5 s of backoff).
   */
  attempts?: number;
  /**
   * Longest time in milliseconds one `send` keeps retrying when the coordinator asks for a
   * `Retry-After` (default 15 minutes); a per-call `deadline` shortens it.
   */
  retryBudgetMs?: number;
  /** The audit log's chain head, sent in every signed request (issue 6). */
  auditHead?: () => string | undefined;
  /** Called with the size and SHA-256 of every request body actually sent (the audit of outbound bytes, issue 6). */
  onSent?: (info: SentInfo) => void;
  /**
   * An air-gapped node (issue 16, item 3): requests go to this file transport instead of the
   * network (no dispatcher is used, nothing is retried; `onSent` is not called: `node export`
   * logs each request when it leaves in a file).
   */
  fileTransport?: FileTransport;
}

/** One request that left the node: what {@link ClientOptions.onSent} receives. */
export interface SentInfo {
  method: string;
  path: string;
  /** Body bytes sent (0 for a GET). */
  bytes: number;
  /** Lower-case hex SHA-256 of the body (as signed in `sb-content-sha256`). */
  body_sha256: string;
  /** The audit head sent in `sb-audit-head`, if any. */
  audit_head: string | null;
  status: number;
}

export interface Response {
  status: number;
  contentType: string;
  body: Buffer;
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/** Per-call options of {@link CoordinatorClient.send}. */
export interface SendOptions {
  /** Never wait for a retry past this time (the round's deadline for a submission). */
  deadline?: Date;
}

/** Default {@link ClientOptions.retryBudgetMs}: 15 minutes. */
export const DEFAULT_RETRY_BUDGET_MS = 15 * 60_000;

/**
 * The node's only door to the outside: HTTP to the configured coordinator, nothing else.
 * Requests are built from a path (never a URL from a message), redirects are refused, every
 * request is signed, and transient failures are retried: when the coordinator answers 429 or
 * 503 with `Retry-After`, after that delay (plus up to 20 % jitter), for as long as the call's
 * `deadline` and the retry budget allow; otherwise (network errors, no header) with exponential
 * backoff for `attempts` tries.
 */
export class CoordinatorClient {
  private readonly origin: string;
  constructor(private readonly o: ClientOptions) {
    this.origin = new URL(o.baseUrl).origin;
  }

  /** Refuse anything that would leave the configured coordinator. */
  checkSameOrigin(url: string): void {
    let origin: string;
    try {
      origin = new URL(url, this.origin).origin;
    } catch {
      origin = 'invalid';
    }
    if (origin !== this.origin) {
      throw new SbError(
        'SB_ERR_EGRESS',
        `refused to contact ${url}: this node only talks to its configured coordinator ${this.origin}.`,
        { url },
      );
    }
  }

  async send(
    method: 'GET' | 'POST',
    path: string,
    body?: Uint8Array,
    contentType = 'application/octet-stream',
    options: SendOptions = {},
  ): Promise<Response> {
    if (!path.startsWith('/'))
      throw new SbError(
        'SB_ERR_EGRESS',
        `refused to contact ${path}: only paths on the configured coordinator are allowed.`,
      );
    if (this.o.fileTransport) return this.sendByFile(this.o.fileTransport, method, path, body, contentType);
    const attempts = this.o.attempts ?? 5;
    const sleep = this.o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const clock = () => (this.o.now?.() ?? new Date()).getTime();
    const started = clock();
    const budgetEnd = Math.min(
      started + (this.o.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS),
      options.deadline?.getTime() ?? Number.POSITIVE_INFINITY,
    );
    let lastError: unknown;
    // Attempts without a Retry-After are counted; those the coordinator paced are bounded by time.
    let unpaced = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.exchange(method, path, body, contentType);
        const { ct, buf } = res;
        if (TRANSIENT_STATUS.has(res.statusCode)) {
          const paced = retryAfterMs(res.retryAfter, clock());
          const wait = paced ?? backoff(++unpaced);
          const resumeAt = clock() + wait;
          if (paced !== undefined && resumeAt <= budgetEnd) {
            // Spread the retries of many nodes told the same Retry-After over 20 % more.
            await sleep(Math.min(wait * (1 + Math.random() * 0.2), Math.max(wait, budgetEnd - clock())));
            continue;
          }
          if (paced === undefined && unpaced < attempts && resumeAt <= budgetEnd) {
            await sleep(wait);
            continue;
          }
          const refused = problemError(method, path, res.statusCode, ct, buf);
          if (paced !== undefined) throw pacedPastBudget(refused, paced, attempt, budgetEnd, started, options.deadline);
          throw refused;
        }
        if (res.statusCode >= 400) throw problemError(method, path, res.statusCode, ct, buf);
        return { status: res.statusCode, contentType: ct, body: buf };
      } catch (e) {
        if (e instanceof SbError) throw e;
        lastError = e;
        const wait = backoff(++unpaced);
        if (unpaced < attempts && clock() + wait <= budgetEnd) {
          await sleep(wait);
          continue;
        }
        break;
      }
    }
    throw unreachableError(this.origin, unpaced, lastError);
  }

  /**
   * One signed request to the coordinator, its answer read whole and reported to `onSent` (the
   * egress log). A redirect is refused (`SB_ERR_EGRESS`); everything else is for the caller.
   */
  private async exchange(
    method: 'GET' | 'POST',
    path: string,
    body: Uint8Array | undefined,
    contentType: string,
  ): Promise<{ statusCode: number; ct: string; buf: Buffer; retryAfter: string | string[] | undefined }> {
    const payload = body ?? new Uint8Array(0);
    const signed = this.sign(method, path, payload);
    const auditHead = signed[REQUEST_HEADERS.auditHead];
    const headers: Record<string, string> = {
      ...signed,
      accept: 'application/json, application/problem+json, application/octet-stream',
    };
    if (body) headers['content-type'] = contentType;
    const res = await request(`${this.origin}${path}`, {
      method,
      headers,
      body: body ? Buffer.from(body) : undefined,
      dispatcher: this.o.dispatcher,
    });
    const buf = Buffer.from(await res.body.arrayBuffer());
    this.o.onSent?.({
      method,
      path,
      bytes: payload.byteLength,
      body_sha256: signed['sb-content-sha256'] as string,
      audit_head: auditHead ?? null,
      status: res.statusCode,
    });
    if (res.statusCode >= 300 && res.statusCode < 400) {
      throw new SbError(
        'SB_ERR_EGRESS',
        `the coordinator answered ${path} with a redirect to ${String(res.headers.location)}; redirects ` +
          `are refused, this node only talks to ${this.origin}.`,
        { status: res.statusCode },
      );
    }
    return {
      statusCode: res.statusCode,
      ct: String(res.headers['content-type'] ?? ''),
      buf,
      retryAfter: res.headers['retry-after'],
    };
  }

  /** This node's signature headers for one request, now, with the current audit head. */
  private sign(method: 'GET' | 'POST', path: string, body: Uint8Array): ReturnType<typeof signRequest> {
    return signRequest({
      method,
      path,
      body,
      institutionId: this.o.institutionId,
      secretKey: this.o.secretKey,
      now: this.o.now,
      auditHead: this.o.auditHead?.(),
    });
  }

  /** {@link send} over the file transport: one exchange, a coded refusal as over HTTP. */
  private sendByFile(
    transport: FileTransport,
    method: 'GET' | 'POST',
    path: string,
    body: Uint8Array | undefined,
    contentType: string,
  ): Response {
    const payload = body ?? new Uint8Array(0);
    const res = transport.exchange({
      method,
      path,
      body: payload,
      ...(body ? { contentType } : {}),
      sign: () => this.sign(method, path, payload),
    });
    if (res.status >= 300) throw problemError(method, path, res.status, res.contentType, res.body);
    return { status: res.status, contentType: res.contentType, body: res.body };
  }

  async getJson(path: string): Promise<unknown> {
    const r = await this.send('GET', path);
    try {
      return JSON.parse(r.body.toString('utf8'));
    } catch {
      throw new SbError('SB_ERR_PROTOCOL', `GET ${path}: the coordinator did not answer with JSON.`);
    }
  }
}

/** 0.5 s, 1 s, 2 s, 4 s … (at most 30 s) with ±20% jitter. */
/**
 * The coordinator's refusal when its Retry-After lies past the round's deadline or the retry
 * budget: the same code and details, with the wait asked, the limit and the attempts made.
 */
function pacedPastBudget(
  refused: SbError,
  paced: number,
  attempt: number,
  budgetEnd: number,
  started: number,
  deadline: Date | undefined,
): SbError {
  const limit =
    deadline && budgetEnd === deadline.getTime()
      ? `the round's deadline (${deadline.toISOString()})`
      : `this command's retry budget of ${Math.round((budgetEnd - started) / 1000)} s`;
  return new SbError(
    refused.code,
    `${refused.message} The coordinator asked to retry in ${Math.ceil(paced / 1000)} s, which is ` +
      `past ${limit};` +
      ` gave up after ${attempt} attempt(s). Run the command again later: resending is safe.`,
    { ...refused.details, retry_after_seconds: Math.ceil(paced / 1000), attempts: attempt },
  );
}

/** `SB_ERR_COORDINATOR_UNREACHABLE` after the network failed `attempts` times. */
function unreachableError(origin: string, attempts: number, lastError: unknown): SbError {
  const msg = lastError instanceof Error ? lastError.message : String(lastError);
  return new SbError(
    'SB_ERR_COORDINATOR_UNREACHABLE',
    `could not reach the coordinator at ${origin} after ${attempts} attempts (${msg}). Check ` +
      'the network and the coordinator URL in node.json, then run the command again: resending is ' +
      'safe.',
    { origin },
  );
}

function backoff(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
}

/**
 * A `Retry-After` header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) in milliseconds from
 * `nowMs`, or undefined when absent or unreadable. Never negative.
 */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | undefined {
  const v = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function problemError(method: string, path: string, status: number, contentType: string, body: Buffer): SbError {
  let detail = body.toString('utf8').slice(0, 500);
  let code = 'SB_ERR_HTTP';
  if (contentType.includes('json')) {
    try {
      const p = JSON.parse(body.toString('utf8')) as { title?: string; detail?: string; code?: string };
      detail = [p.title, p.detail].filter(Boolean).join(': ');
      if (p.code) code = p.code;
    } catch {
      /* keep the raw text */
    }
  }
  return new SbError(code, `the coordinator refused ${method} ${path} (${status}): ${detail}`, { status });
}

/**
 * The node's client for its configured coordinator, from the config and identity the caller
 * already read (opened once per command). A `coordinatorUrl` of another origin than the
 * configured one is refused (`SB_ERR_EGRESS`): the node talks to nothing else.
 */
export function clientForNode(
  config: NodeConfig,
  identity: Identity,
  o: Pick<ClientOptions, 'dispatcher' | 'now' | 'sleep' | 'auditHead' | 'onSent' | 'fileTransport'> & {
    coordinatorUrl?: string;
    /** The node's home (where a pinned CA file lives). */
    home?: string;
  },
): CoordinatorClient {
  if (o.coordinatorUrl && new URL(o.coordinatorUrl).origin !== new URL(config.coordinator_url).origin) {
    throw new SbError(
      'SB_ERR_EGRESS',
      `--coordinator ${o.coordinatorUrl} is not the coordinator this node was enrolled with (${config.coordinator_url});` +
        ' the node talks to nothing else. Re-enrol to change it.',
    );
  }
  return new CoordinatorClient({
    baseUrl: config.coordinator_url,
    institutionId: config.institution_id,
    secretKey: identity.secretKey,
    // TLS: only the certificate pinned at enrolment (tls-pin.ts); an injected dispatcher (tests) wins.
    // An air-gapped node opens no connection at all.
    dispatcher: o.fileTransport ? undefined : (o.dispatcher ?? coordinatorDispatcher(o.home ?? '.', config)),
    now: o.now,
    sleep: o.sleep,
    auditHead: o.auditHead,
    onSent: o.onSent,
    fileTransport: o.fileTransport,
  });
}
