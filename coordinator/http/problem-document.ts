import { z } from 'zod';

/**
 * HTTP status of each refusal code. Everything not listed: 400 for `SB_ERR_*` caused by the
 * request, 500 otherwise (see plugins/problem-handler.ts).
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  SB_ERR_REQUEST_UNSIGNED: 401,
  SB_ERR_REQUEST_HEADERS: 400,
  SB_ERR_REQUEST_SIGNATURE: 401,
  SB_ERR_REQUEST_STALE: 401,
  SB_ERR_REQUEST_REPLAY: 409,
  SB_ERR_REQUEST_DIGEST: 400,
  SB_ERR_UNKNOWN_INSTITUTION: 401,
  SB_ERR_INSTITUTION_REVOKED: 403,
  SB_ERR_NOT_PARTICIPANT: 403,
  SB_ERR_ROUND_UNKNOWN: 404,
  SB_ERR_RELEASE_UNKNOWN: 404,
  SB_ERR_NOT_FOUND: 404,
  SB_ERR_ROUND_CLOSED: 409,
  SB_ERR_DEADLINE_PASSED: 409,
  SB_ERR_SUPERSEDED: 409,
  SB_ERR_EXCLUDED: 403,
  SB_ERR_ALREADY_EXCLUDED: 409,
  SB_ERR_SECAGG_EXCLUDE_TOO_LATE: 409,
  SB_ERR_ROUND_RELEASED: 409,
  SB_ERR_BODY_TOO_LARGE: 413,
  SB_ERR_MEDIA_TYPE: 415,
  SB_ERR_WIRE: 400,
  SB_ERR_ENVELOPE_SCHEMA: 400,
  SB_ERR_VALIDATION: 400,
  SB_ERR_SIGNATURE: 422,
  SB_ERR_ENVELOPE_MISMATCH: 422,
  SB_ERR_CT_DIGEST: 422,
  SB_ERR_CT_COUNT: 422,
  SB_ERR_RATE_LIMIT: 429,
  SB_ERR_NOT_MASKED: 404,
  SB_ERR_SECAGG_MESSAGE: 400,
  SB_ERR_SECAGG_CONFLICT: 409,
  SB_ERR_SECAGG_PHASE_ENDED: 409,
  SB_ERR_SECAGG_PHASE_NOT_STARTED: 409,
  SB_ERR_SECAGG_WAIT: 409,
  SB_ERR_SECAGG_NOT_EXPECTED: 403,
  SB_ERR_SECAGG_BELOW_THRESHOLD: 409,
});

/** Short English titles by status. */
export const TITLES: Readonly<Record<number, string>> = Object.freeze({
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
});

/** Status for an `SB_ERR_…` code: the table, then the ciphertext family (422), then 400. */
export function statusForCode(code: string): number {
  const s = STATUS_BY_CODE[code];
  if (s) return s;
  if (code.startsWith('SB_ERR_CT_')) return 422;
  return 400;
}

/** `type` URI of a problem code. */
export function problemType(code: string): string {
  return `https://sectorbench.invalid/problems/${code
    .replace(/^SB_ERR_/, '')
    .toLowerCase()
    .replaceAll('_', '-')}`;
}

/** RFC 9457 problem document, with sectorbench's stable `code`. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().regex(/^SB_ERR_[A-Z0-9_]+$/),
    instance: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

export type Problem = z.infer<typeof ProblemSchema>;

/** Build a problem document. */
export function problem(
  status: number,
  code: string,
  detail: string,
  extra: { instance?: string; details?: Record<string, unknown> } = {},
): Problem {
  const p: Problem = { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail, code };
  if (extra.instance) p.instance = extra.instance;
  if (extra.details && Object.keys(extra.details).length) p.details = extra.details;
  return p;
}
