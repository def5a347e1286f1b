import { z } from 'zod';
import type { NodeDb } from './node-db.js';

/** One stored row of the node's audit log (node-db.ts table `audit_log`), as SQLite holds it. */
export const AuditRowSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  kind: z.string(),
  round_id: z.string().nullable(),
  payload_json: z.string(),
  prev_hash: z.string(),
  hash: z.string(),
  signature: z.string(),
});
export type AuditRow = z.infer<typeof AuditRowSchema>;

const HeadRow = z.object({ seq: z.number().int(), hash: z.string() });

/**
 * All SQL of the node's audit log (issue 10, "round spine": SQL lives in node/store and returns
 * schema-parsed values). The chaining, signing and verification stay in node/audit/log.ts.
 */

/** The newest entry's sequence number and hash, or undefined for an empty log. */
export function auditLogHead(db: NodeDb): { seq: number; hash: string } | undefined {
  const r = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get();
  return r === undefined ? undefined : HeadRow.parse(r);
}

/** Append one row; the caller holds the transaction that chains it to the head. */
export function insertAuditRow(db: NodeDb, r: AuditRow): void {
  db.prepare(
    'INSERT INTO audit_log (seq, at, kind, round_id, payload_json, prev_hash, hash, signature) VALUES (?,?,?,?,?,?,?,?)',
  ).run(r.seq, r.at, r.kind, r.round_id, r.payload_json, r.prev_hash, r.hash, r.signature);
}

/**
 * Rows in stored order (by `seq`), all or one round's. A row altered outside sectorbench into
 * another shape (a blob where text belongs) is returned with each field as text, not refused:
 * `audit verify` must report it (its hash no longer matches), not stop at it.
 */
export function auditRows(db: NodeDb, roundId?: string): AuditRow[] {
  const rows =
    roundId === undefined
      ? db.prepare('SELECT * FROM audit_log ORDER BY seq').all()
      : db.prepare('SELECT * FROM audit_log WHERE round_id = ? ORDER BY seq').all(roundId);
  return rows.map((r) => {
    const p = AuditRowSchema.safeParse(r);
    return p.success ? p.data : asText(r);
  });
}

/** A damaged row with every field as text (seq as a number), for verification to report. */
function asText(r: unknown): AuditRow {
  const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
  const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v));
  return {
    seq: Number(o.seq),
    at: text(o.at),
    kind: text(o.kind),
    round_id: o.round_id === null || o.round_id === undefined ? null : text(o.round_id),
    payload_json: text(o.payload_json),
    prev_hash: text(o.prev_hash),
    hash: text(o.hash),
    signature: text(o.signature),
  };
}
