import type { CoordinatorDb } from './db.js';

/** A carried request the coordinator answered (table `airgap_requests`, fifth migration). */
export interface CarriedRequest {
  method: string;
  path: string;
  contentSha256: string;
  status: number;
  contentType: string;
  body: Buffer;
}

/** The kept answer to an institution's carried request with this nonce, if any. */
export function findCarriedRequest(
  db: CoordinatorDb,
  institutionId: string,
  nonce: string,
): CarriedRequest | undefined {
  const r = db
    .prepare<
      unknown[],
      { method: string; path: string; content_sha256: string; status: number; content_type: string; body: Buffer }
    >(
      'SELECT method, path, content_sha256, status, content_type, body FROM airgap_requests WHERE institution_id = ? AND nonce = ?',
    )
    .get(institutionId, nonce);
  return r
    ? {
        method: r.method,
        path: r.path,
        contentSha256: r.content_sha256,
        status: r.status,
        contentType: r.content_type,
        body: r.body,
      }
    : undefined;
}

/** Keep the answer to a carried request (once per institution and nonce). */
export function saveCarriedRequest(
  db: CoordinatorDb,
  r: CarriedRequest & { institutionId: string; nonce: string; requestFileSha256: string; at: Date },
): void {
  db.prepare(
    'INSERT OR IGNORE INTO airgap_requests ' +
      '(institution_id, nonce, method, path, content_sha256, request_file_sha256, status, content_type, body, imported_at) ' +
      'VALUES (?,?,?,?,?,?,?,?,?,?)',
  ).run(
    r.institutionId,
    r.nonce,
    r.method,
    r.path,
    r.contentSha256,
    r.requestFileSha256,
    r.status,
    r.contentType,
    r.body,
    r.at.toISOString(),
  );
}
