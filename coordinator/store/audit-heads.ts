import type { CoordinatorDb } from './db.js';

/** A node's audit-log head as the coordinator saw it in a signed request (issue 6). */
export interface SeenAuditHead {
  head: string;
  seenAt: string;
  path: string;
}

/** Record the `sb-audit-head` of a verified signed request (its own small transaction). */
export function recordAuditHead(
  db: CoordinatorDb,
  r: { institutionId: string; head: string; seenAt: Date; method: string; path: string; nonce: string },
): void {
  db.prepare(
    'INSERT INTO audit_heads (institution_id, head, seen_at, method, path, nonce) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(r.institutionId, r.head, r.seenAt.toISOString(), r.method, r.path, r.nonce);
}

/** The newest head recorded for an institution, leaving out the request with nonce `exceptNonce`. */
export function latestAuditHead(
  db: CoordinatorDb,
  institutionId: string,
  exceptNonce?: string,
): SeenAuditHead | undefined {
  const row = db
    .prepare<unknown[], { head: string; seen_at: string; path: string }>(
      'SELECT head, seen_at, path FROM audit_heads WHERE institution_id = ? AND nonce <> ? ORDER BY id DESC LIMIT 1',
    )
    .get(institutionId, exceptNonce ?? '');
  return row ? { head: row.head, seenAt: row.seen_at, path: row.path } : undefined;
}

/** Every distinct head recorded for an institution (first sighting, oldest first), leaving out the request with nonce `exceptNonce`. */
export function auditHeadHistory(db: CoordinatorDb, institutionId: string, exceptNonce?: string): SeenAuditHead[] {
  const rows = db
    .prepare<unknown[], { head: string; seen_at: string; path: string }>(
      'SELECT head, seen_at, path FROM audit_heads WHERE institution_id = ? AND nonce <> ? ORDER BY id',
    )
    .all(institutionId, exceptNonce ?? '');
  const seen = new Set<string>();
  const out: SeenAuditHead[] = [];
  for (const r of rows) {
    if (seen.has(r.head)) continue;
    seen.add(r.head);
    out.push({ head: r.head, seenAt: r.seen_at, path: r.path });
  }
  return out;
}
