import { createHash, randomBytes } from 'node:crypto';
import { signDetached, verifyDetached } from '../crypto/identity.js';
import { SbError } from '../errors/sb-error.js';
import { type Clock, systemClock } from '../time/clock.js';
import { canonicalBytes } from './canonical.js';

/**
 * Signed HTTP requests from a node to the coordinator (ARCHITECTURE.md "Layers of protection",
 * authenticated transport; in the spirit of RFC 9421). Every node request carries
 *
 * | header | value |
 * |---|---|
 * | `sb-institution` | the institution id |
 * | `sb-timestamp` | RFC 3339 UTC time of signing (`2025-10-15T08:00:00.000Z`) |
 * | `sb-nonce` | base64 of 16 fresh random bytes |
 * | `sb-content-sha256` | lower-case hex SHA-256 of the body bytes (of the empty string when there is no body) |
 * | `sb-audit-head` | optional: hex head of the node's audit-log hash chain |
 * | `sb-signature` | base64 Ed25519 signature (purpose `http-request`) |
 *
 * The signature covers the RFC 8785 canonical JSON of
 * `{method, path, timestamp, nonce, content_sha256, institution_id, audit_head}` where `method`
 * is upper case, `path` is the request target (path and query, exactly as sent) and
 * `audit_head` is the header's value or null. The body itself is bound through its digest, so a
 * receiver can check the signature before it reads the body.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Layers of protection"
 */
export const REQUEST_PURPOSE = 'http-request';

/** Header names (lower case, as Node reports them). */
export const REQUEST_HEADERS = Object.freeze({
  institution: 'sb-institution',
  timestamp: 'sb-timestamp',
  nonce: 'sb-nonce',
  contentSha256: 'sb-content-sha256',
  auditHead: 'sb-audit-head',
  signature: 'sb-signature',
});

/** Default largest accepted clock difference between signer and receiver, in seconds. */
export const DEFAULT_REQUEST_MAX_AGE_SECONDS = 300;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const HEX = /^[0-9a-f]{2,256}$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** SHA-256 (lower-case hex) of a request body; an absent body hashes like an empty one. */
export function bodySha256(body: Uint8Array | string | undefined | null): string {
  const h = createHash('sha256');
  if (body !== undefined && body !== null) h.update(body);
  return h.digest('hex');
}

/** The fields a request signature covers. */
export interface RequestSigningPayload {
  method: string;
  path: string;
  timestamp: string;
  nonce: string;
  content_sha256: string;
  institution_id: string;
  audit_head: string | null;
}

/** Canonical bytes that are signed (before the `http-request` domain prefix). */
export function requestSigningBytes(p: RequestSigningPayload): Uint8Array {
  return canonicalBytes({
    method: p.method.toUpperCase(),
    path: p.path,
    timestamp: p.timestamp,
    nonce: p.nonce,
    content_sha256: p.content_sha256,
    institution_id: p.institution_id,
    audit_head: p.audit_head,
  });
}

/** Input of {@link signRequest}. */
export interface SignRequestInput {
  method: string;
  /** Request target: path and query string, exactly as it will be sent. */
  path: string;
  body?: Uint8Array | string | null;
  institutionId: string;
  /** The institution's Ed25519 secret key (64 bytes). */
  secretKey: Uint8Array;
  /** The clock read for the signing time (tests inject a fixed one); default the system clock. */
  now?: Clock;
  /** 16 bytes; default fresh random bytes. */
  nonce?: Uint8Array;
  /** Hex head of the node's audit-log chain, echoed into the coordinator's receipt. */
  auditHead?: string;
}

/**
 * Sign a request: returns the `sb-*` headers to send with it (the caller sets
 * `content-type` and sends exactly the `body` bytes it signed).
 */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const nonceBytes = input.nonce ?? randomBytes(16);
  if (nonceBytes.byteLength !== 16) throw new SbError('SB_ERR_REQUEST_NONCE', 'a request nonce is 16 bytes.');
  if (input.auditHead !== undefined && !HEX.test(input.auditHead)) {
    throw new SbError(
      'SB_ERR_REQUEST_HEADERS',
      'the audit head must be lower-case hex; pass the audit log chain head as hex.',
    );
  }
  const payload: RequestSigningPayload = {
    method: input.method.toUpperCase(),
    path: input.path,
    timestamp: (input.now ?? systemClock)().toISOString(),
    nonce: Buffer.from(nonceBytes).toString('base64'),
    content_sha256: bodySha256(input.body),
    institution_id: input.institutionId,
    audit_head: input.auditHead ?? null,
  };
  const sig = signDetached(REQUEST_PURPOSE, requestSigningBytes(payload), input.secretKey);
  const headers: Record<string, string> = {
    [REQUEST_HEADERS.institution]: payload.institution_id,
    [REQUEST_HEADERS.timestamp]: payload.timestamp,
    [REQUEST_HEADERS.nonce]: payload.nonce,
    [REQUEST_HEADERS.contentSha256]: payload.content_sha256,
    [REQUEST_HEADERS.signature]: Buffer.from(sig).toString('base64'),
  };
  if (payload.audit_head !== null) headers[REQUEST_HEADERS.auditHead] = payload.audit_head;
  return headers;
}

/** The signed header fields of a request, parsed but not yet verified. */
export interface SignedRequestHeaders {
  institutionId: string;
  timestamp: string;
  nonce: string;
  contentSha256: string;
  auditHead: string | null;
  signature: Uint8Array;
}

type HeaderBag = Record<string, string | string[] | undefined>;

function single(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) {
    if (v.length > 1)
      throw new SbError('SB_ERR_REQUEST_HEADERS', `the ${name} header appears more than once; send it once.`, {
        header: name,
      });
    return v[0];
  }
  return v;
}

/**
 * Read the `sb-*` headers. Throws `SB_ERR_REQUEST_UNSIGNED` when a required header is
 * missing and `SB_ERR_REQUEST_HEADERS` when one is malformed. Does not verify anything.
 */
export function parseSignedRequestHeaders(headers: HeaderBag): SignedRequestHeaders {
  const get = (name: string): string => {
    const v = single(headers, name);
    if (v === undefined || v === '') {
      throw new SbError(
        'SB_ERR_REQUEST_UNSIGNED',
        `the request lacks the ${name} header; node requests must be signed (shared/protocol/request-signing.ts).`,
        { header: name },
      );
    }
    return v;
  };
  const institutionId = get(REQUEST_HEADERS.institution);
  const timestamp = get(REQUEST_HEADERS.timestamp);
  const nonce = get(REQUEST_HEADERS.nonce);
  const contentSha256 = get(REQUEST_HEADERS.contentSha256);
  const signatureB64 = get(REQUEST_HEADERS.signature);
  const auditHead = single(headers, REQUEST_HEADERS.auditHead) ?? null;
  const bad = (header: string, what: string) =>
    new SbError('SB_ERR_REQUEST_HEADERS', `the ${header} header is not ${what}.`, { header });
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(institutionId))
    throw bad(REQUEST_HEADERS.institution, 'an institution id');
  if (!RFC3339_UTC.test(timestamp) || Number.isNaN(Date.parse(timestamp)))
    throw bad(REQUEST_HEADERS.timestamp, 'an RFC 3339 UTC time (…Z)');
  if (!/^[A-Za-z0-9+/]{22}==$/.test(nonce) || Buffer.from(nonce, 'base64').length !== 16)
    throw bad(REQUEST_HEADERS.nonce, 'base64 of 16 bytes');
  if (!SHA256_HEX.test(contentSha256)) throw bad(REQUEST_HEADERS.contentSha256, 'a lower-case hex SHA-256');
  if (auditHead !== null && !HEX.test(auditHead)) throw bad(REQUEST_HEADERS.auditHead, 'lower-case hex');
  const signature = new Uint8Array(Buffer.from(signatureB64, 'base64'));
  if (signature.byteLength !== 64 || Buffer.from(signature).toString('base64') !== signatureB64)
    throw bad(REQUEST_HEADERS.signature, 'base64 of a 64-byte Ed25519 signature');
  return { institutionId, timestamp, nonce, contentSha256, auditHead, signature };
}

/** Input of {@link verifyRequestSignature}. */
export interface VerifyRequestInput {
  method: string;
  /** Request target as received (path and query). */
  path: string;
  headers: HeaderBag | SignedRequestHeaders;
  /** The institution's registered Ed25519 public key. */
  publicKey: Uint8Array;
  now: Date;
  maxAgeSeconds?: number;
  /**
   * The body bytes, when already read: their digest must equal `sb-content-sha256`. Leave out
   * to check the signature before reading the body, then call {@link verifyRequestBody}.
   */
  body?: Uint8Array | string | null;
}

/**
 * Verify a signed request: freshness (`|now - timestamp| <= maxAgeSeconds`, else
 * `SB_ERR_REQUEST_STALE`), the signature by `publicKey` (`SB_ERR_REQUEST_SIGNATURE`) and, when
 * `body` is given, the body digest (`SB_ERR_REQUEST_DIGEST`). Nonce replay is the receiver's
 * check: it must remember `(institution, nonce)` for at least twice the maximum age.
 * Returns the verified fields.
 */
export function verifyRequestSignature(input: VerifyRequestInput): SignedRequestHeaders {
  const h =
    'signature' in input.headers && input.headers.signature instanceof Uint8Array
      ? (input.headers as SignedRequestHeaders)
      : parseSignedRequestHeaders(input.headers as HeaderBag);
  const maxAge = input.maxAgeSeconds ?? DEFAULT_REQUEST_MAX_AGE_SECONDS;
  const skew = Math.abs(input.now.getTime() - Date.parse(h.timestamp)) / 1000;
  if (!(skew <= maxAge)) {
    throw new SbError(
      'SB_ERR_REQUEST_STALE',
      `the request was signed at ${h.timestamp}, ${Math.round(skew)} s from the receiver's clock ` +
        `(allowed ${maxAge} s); check the node's clock (NTP) and send a freshly signed request.`,
      {
        timestamp: h.timestamp,
        skewSeconds: Math.round(skew),
      },
    );
  }
  const bytes = requestSigningBytes({
    method: input.method,
    path: input.path,
    timestamp: h.timestamp,
    nonce: h.nonce,
    content_sha256: h.contentSha256,
    institution_id: h.institutionId,
    audit_head: h.auditHead,
  });
  if (!verifyDetached(REQUEST_PURPOSE, bytes, h.signature, input.publicKey)) {
    throw new SbError(
      'SB_ERR_REQUEST_SIGNATURE',
      `the request signature does not verify with the key registered for institution ${h.institutionId};` +
        ' sign with the enrolled identity key over method, path, timestamp, nonce and body digest.',
      {
        institution_id: h.institutionId,
      },
    );
  }
  if (input.body !== undefined) verifyRequestBody(h, input.body);
  return h;
}

/** Check that the body matches the signed `sb-content-sha256`; throws `SB_ERR_REQUEST_DIGEST`. */
export function verifyRequestBody(
  h: Pick<SignedRequestHeaders, 'contentSha256'>,
  body: Uint8Array | string | null | undefined,
): void {
  const got = bodySha256(body);
  if (got !== h.contentSha256) {
    throw new SbError(
      'SB_ERR_REQUEST_DIGEST',
      'the body does not match the signed sb-content-sha256 (altered or truncated in transit); send the request again.',
      {
        expected: h.contentSha256,
        actual: got,
      },
    );
  }
}
