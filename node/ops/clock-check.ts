import { request, type Dispatcher } from 'undici';
import type { Check } from '../../shared/ops/report.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';
import { ROUTES } from '../../shared/protocol/routes.js';

/** Skew (seconds) above which `doctor` warns: well inside the coordinator's request window. */
export const SKEW_WARN_SECONDS = 60;
/**
 * Skew (seconds) above which `doctor` fails: the coordinator refuses signed requests older than
 * `request_max_age_seconds` (300 by default), so at 240 s a slow request is refused.
 */
export const SKEW_FAIL_SECONDS = 240;

/**
 * Clock skew against the coordinator, and whether the coordinator answering is the one pinned at
 * enrolment: `GET /v1/health` (unsigned, sends nothing about the institution) returns the
 * coordinator's time (ISO, milliseconds) and public key. The skew is the coordinator's time minus
 * the midpoint of the request on this machine's clock. Unreachable is a WARN: the node works
 * offline until it has to send.
 */
export async function coordinatorClockCheck(o: {
  coordinatorUrl: string;
  /** The coordinator's Ed25519 public key pinned at enrolment (base64). */
  pinnedKey: string;
  dispatcher?: Dispatcher;
  now?: Clock;
}): Promise<Check> {
  const now = o.now ?? systemClock;
  const origin = new URL(o.coordinatorUrl).origin;
  const t0 = now().getTime();
  const health = await fetchHealth(origin, o.dispatcher);
  if ('status' in health) return health;
  const { body, dateHeader } = health;
  const t1 = now().getTime();
  if (body.coordinator_public_key !== o.pinnedKey)
    return {
      name: 'clock',
      status: 'FAIL',
      detail:
        `${origin} answers with another coordinator key than the one pinned at enrolment; this node ` +
        'will refuse its manifests. Check coordinator_url in node.json.',
    };
  const serverMs = typeof body.time === 'string' ? Date.parse(body.time) : Date.parse(dateHeader ?? '');
  if (!Number.isFinite(serverMs))
    return { name: 'clock', status: 'WARN', detail: `${origin} sent no time; clock skew not checked.` };
  const skew = (serverMs - (t0 + t1) / 2) / 1000;
  const abs = Math.abs(skew);
  const said =
    `this machine's clock is ${abs.toFixed(1)} s ${skew > 0 ? 'behind' : 'ahead of'} the coordinator ` +
    `(round trip ${((t1 - t0) / 1000).toFixed(1)} s)`;
  if (abs > SKEW_FAIL_SECONDS)
    return {
      name: 'clock',
      status: 'FAIL',
      detail:
        `${said}: above ${SKEW_FAIL_SECONDS} s the coordinator refuses signed requests as stale; set ` +
        'up time synchronisation (systemd-timesyncd or chrony).',
    };
  if (abs > SKEW_WARN_SECONDS)
    return {
      name: 'clock',
      status: 'WARN',
      detail: `${said}: above ${SKEW_WARN_SECONDS} s; set up time synchronisation (systemd-timesyncd or chrony).`,
    };
  return { name: 'clock', status: 'OK', detail: `${said}; coordinator key as pinned.` };
}

/** What `GET /v1/health` answers: the coordinator's time (ISO) and public key (base64). */
interface HealthBody {
  time?: unknown;
  coordinator_public_key?: unknown;
}

/**
 * The coordinator's `GET /v1/health` answer and Date header, or the check result that says why it
 * could not be read: another status (WARN), a certificate that is not the pinned one (FAIL), or
 * no answer at all (WARN).
 */
async function fetchHealth(
  origin: string,
  dispatcher: Dispatcher | undefined,
): Promise<{ body: HealthBody; dateHeader: string | undefined } | Check> {
  let body: HealthBody;
  let dateHeader: string | undefined;
  try {
    const res = await request(`${origin}${ROUTES.health()}`, {
      method: 'GET',
      dispatcher,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200)
      return {
        name: 'clock',
        status: 'WARN',
        detail: [
          `${origin}${ROUTES.health()} answered ${res.statusCode}; clock skew not checked.`,
          `Ask the coordinator's operator.`,
        ].join(' '),
      };
    body = JSON.parse(text) as typeof body;
    dateHeader = typeof res.headers.date === 'string' ? res.headers.date : undefined;
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? (e as { code?: string }).code ?? (e as Error).message;
    if (/CERT|SELF_SIGNED|TLS|SSL|SB_ERR_TLS/i.test(`${why} ${(e as Error).message}`))
      return {
        name: 'clock',
        status: 'FAIL',
        detail:
          `${origin}: the TLS certificate is not the one pinned at enrolment (${(e as Error).message});` +
          " the node refuses to talk to it. Compare the certificate fingerprint with the coordinator's " +
          'operator.',
      };
    return {
      name: 'clock',
      status: 'WARN',
      detail: [
        `cannot reach ${origin} (${why}); clock skew not checked.`,
        'Check the network, or ignore on an offline node.',
      ].join(' '),
    };
  }
  return { body, dateHeader };
}
