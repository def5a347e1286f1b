import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { CoordinatorTlsPin } from '../../schemas/config.js';
import { certFingerprint } from '../../shared/crypto/cert-fingerprint.js';
import { SbError } from '../../shared/errors/sb-error.js';

/** Node's certificate verification errors: the peer is not who the pin says (never transient). */
const VERIFY_ERRORS = new RegExp(
  `^(${[
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'CERT_[A-Z_]+',
  ].join('|')})$`,
);

function refused(origin: string, why: string): SbError {
  return new SbError(
    'SB_ERR_TLS_PIN',
    `refused ${origin}: its TLS certificate ${why}. This node talks only to the coordinator whose ` +
      "certificate it pinned at enrolment; compare the fingerprint with the coordinator's operator " +
      '(someone may be in between), or enrol again if the coalition changed its CA.',
    { origin },
  );
}

/** Read the pinned CA file and check it still is the one whose fingerprint was read out at enrolment. */
export function readPinnedCa(home: string, pin: Extract<CoordinatorTlsPin, { pin: 'ca' }>): Buffer {
  const file = isAbsolute(pin.ca_file) ? pin.ca_file : join(home, pin.ca_file);
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (e) {
    throw new SbError(
      'SB_ERR_TLS_PIN',
      [
        `cannot read the coordinator's CA certificate ${file} (${(e as Error).message});`,
        `restore it from the node's backup or enrol again.`,
      ].join(' '),
      { file },
    );
  }
  if (certFingerprint(pem, file) !== pin.ca_sha256)
    throw new SbError(
      'SB_ERR_TLS_PIN',
      [
        `${file} is not the CA certificate pinned at enrolment`,
        '(its SHA-256 fingerprint differs from ca_sha256 in node.json); restore it or enrol again.',
      ].join(' '),
      { file },
    );
  return pem;
}

const agents = new Map<string, Agent>();

/**
 * The HTTP dispatcher the node reaches its coordinator with, or undefined for plain http
 * (undici's global dispatcher). With a pin (schemas/config.ts `CoordinatorTlsPinSchema`):
 * - `ca`: TLS verification against that CA only (not the system's CAs), host name checked;
 * - `certificate`: the peer certificate's SHA-256 must equal the pin (chain and name are not
 *   consulted: the pin is stronger than both).
 * Anything else is refused with `SB_ERR_TLS_PIN` before a byte of the request is sent, and not
 * retried. One agent per pin per process (keep-alive connections are reused).
 *
 * @see https://undici.nodejs.org/#/docs/api/Connector
 */
export function coordinatorDispatcher(
  home: string,
  config: { coordinator_url: string; coordinator_tls?: CoordinatorTlsPin | undefined },
): Dispatcher | undefined {
  const url = new URL(config.coordinator_url);
  const pin = config.coordinator_tls;
  if (url.protocol !== 'https:') return undefined;
  if (!pin)
    throw new SbError(
      'SB_ERR_TLS_PIN',
      [
        'node.json names an https coordinator but pins no certificate;',
        'enrol again with --coordinator-ca or --coordinator-cert-sha256.',
      ].join(' '),
    );
  const ca = pin.pin === 'ca' ? readPinnedCa(home, pin) : undefined;
  const key = `${url.origin} ${pin.pin === 'ca' ? pin.ca_sha256 : pin.cert_sha256}`;
  const cached = agents.get(key);
  if (cached) return cached;
  const base = buildConnector(ca ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: false });
  const agent = new Agent({
    connect: (opts, cb) =>
      base(opts, (err, socket) => {
        if (err) {
          const code = String((err as { code?: unknown }).code ?? '');
          return cb(
            VERIFY_ERRORS.test(code) ? refused(url.origin, `did not verify against the pinned CA (${code})`) : err,
            null,
          );
        }
        if (pin.pin === 'certificate') {
          const raw = (socket as TLSSocket).getPeerCertificate?.().raw;
          const seen = raw ? new X509Certificate(raw).fingerprint256 : 'none';
          if (seen !== pin.cert_sha256) {
            socket?.destroy();
            return cb(refused(url.origin, `has SHA-256 fingerprint ${seen}, not the pinned ${pin.cert_sha256}`), null);
          }
        }
        return cb(null, socket);
      }),
  });
  agents.set(key, agent);
  return agent;
}
