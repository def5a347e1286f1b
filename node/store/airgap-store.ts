import type { NodeDb } from './node-db.js';

/** A request as carried: its `sb-*` headers, content type and body (base64). */
export interface CarriedRequest {
  headers: Record<string, string>;
  body: string;
}

/** One row of `airgap_exchange` (node-db.ts, fifth migration). */
export interface Exchange {
  id: number;
  /** The request's `sb-nonce`; null for a document the coordinator added unasked. */
  nonce: string | null;
  method: string;
  path: string;
  body_sha256: string;
  request: CarriedRequest | null;
  audit_head: string | null;
  created_at: string;
  exported_file: string | null;
  status: number | null;
  content_type: string | null;
  response: Buffer | null;
  answered_at: string | null;
  response_file: string | null;
  consumed_at: string | null;
}

interface Row extends Omit<Exchange, 'request'> {
  request_json: string | null;
}

const toExchange = ({ request_json, ...r }: Row): Exchange => ({
  ...r,
  request: request_json === null ? null : (JSON.parse(request_json) as CarriedRequest),
});

/** All SQL of the air-gapped node's exchanges and carried files (issue 16, item 3). */
export class AirgapStore {
  constructor(readonly db: NodeDb) {}

  /** Exchanges of one request key (method, path, body digest), oldest first. */
  byKey(method: string, path: string, bodySha256: string): Exchange[] {
    return (
      this.db
        .prepare('SELECT * FROM airgap_exchange WHERE method = ? AND path = ? AND body_sha256 = ? ORDER BY id')
        .all(method, path, bodySha256) as Row[]
    ).map(toExchange);
  }

  byNonce(nonce: string): Exchange | undefined {
    const r = this.db.prepare('SELECT * FROM airgap_exchange WHERE nonce = ?').get(nonce) as Row | undefined;
    return r ? toExchange(r) : undefined;
  }

  /** Requests still waiting for the coordinator's answer, oldest first. */
  pending(): Exchange[] {
    return (
      this.db
        .prepare('SELECT * FROM airgap_exchange WHERE nonce IS NOT NULL AND status IS NULL ORDER BY id')
        .all() as Row[]
    ).map(toExchange);
  }

  /** Store a newly signed request (not yet exported). */
  addRequest(e: {
    nonce: string;
    method: string;
    path: string;
    bodySha256: string;
    request: CarriedRequest;
    auditHead: string | null;
    at: Date;
  }): void {
    this.db
      .prepare(
        'INSERT INTO airgap_exchange (nonce, method, path, body_sha256, request_json, audit_head, created_at) VALUES (?,?,?,?,?,?,?)',
      )
      .run(e.nonce, e.method, e.path, e.bodySha256, JSON.stringify(e.request), e.auditHead, e.at.toISOString());
  }

  markExported(ids: readonly number[], file: string): void {
    const st = this.db.prepare('UPDATE airgap_exchange SET exported_file = ? WHERE id = ?');
    for (const id of ids) st.run(file, id);
  }

  /** Keep the coordinator's answer to a carried request. */
  answer(id: number, r: { status: number; contentType: string; body: Buffer; file: string; at: Date }): void {
    this.db
      .prepare(
        'UPDATE airgap_exchange SET status = ?, content_type = ?, response = ?, response_file = ?, answered_at = ? WHERE id = ? AND status IS NULL',
      )
      .run(r.status, r.contentType, r.body, r.file, r.at.toISOString(), id);
  }

  /** Keep a public document the coordinator added unasked (answered, never sent by this node). */
  addDocument(r: {
    method: string;
    path: string;
    bodySha256: string;
    status: number;
    contentType: string;
    body: Buffer;
    file: string;
    at: Date;
  }): void {
    this.db
      .prepare(
        'INSERT INTO airgap_exchange (nonce, method, path, body_sha256, created_at, status, content_type,' +
          ' response, response_file, answered_at) VALUES (NULL,?,?,?,?,?,?,?,?,?)',
      )
      .run(
        r.method,
        r.path,
        r.bodySha256,
        r.at.toISOString(),
        r.status,
        r.contentType,
        r.body,
        r.file,
        r.at.toISOString(),
      );
  }

  consume(id: number, at: Date): void {
    this.db
      .prepare('UPDATE airgap_exchange SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL')
      .run(at.toISOString(), id);
  }

  /** Record a carried file (export written, or response file imported). */
  addFile(f: { fileId: string; direction: 'export' | 'import'; name: string; sha256: string; at: Date }): void {
    this.db
      .prepare('INSERT INTO airgap_file (file_id, direction, name, sha256, at) VALUES (?,?,?,?,?)')
      .run(f.fileId, f.direction, f.name, f.sha256, f.at.toISOString());
  }

  file(
    direction: 'export' | 'import',
    by: { fileId?: string; sha256?: string },
  ): { file_id: string; name: string; sha256: string } | undefined {
    return (
      by.sha256 !== undefined
        ? this.db.prepare('SELECT * FROM airgap_file WHERE direction = ? AND sha256 = ?').get(direction, by.sha256)
        : this.db.prepare('SELECT * FROM airgap_file WHERE direction = ? AND file_id = ?').get(direction, by.fileId)
    ) as { file_id: string; name: string; sha256: string } | undefined;
  }
}
