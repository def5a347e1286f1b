import { z } from 'zod';
import type { NodeDb } from './node-db.js';

const ApprovalRow = z.object({ approval_json: z.string() });

/**
 * All SQL of the privacy officers' approvals (node-db.ts table `approval`; issue 6). Verifying an
 * approval's signature and what it covers stays in node/audit/approval.ts.
 */

/** The stored approvals of a round (any vector), as JSON text, oldest first. */
export function approvalJsons(db: NodeDb, roundId: string): string[] {
  return db
    .prepare('SELECT approval_json FROM approval WHERE round_id = ? ORDER BY id')
    .all(roundId)
    .map((r) => ApprovalRow.parse(r).approval_json);
}

/**
 * Store an approval; true when it was stored, false when the same approver already approved this
 * round and vector (the insert is then a no-op), unless `replace` (a late approval, which then
 * takes the earlier one's place).
 */
export function insertApproval(
  db: NodeDb,
  a: {
    roundId: string;
    vectorDigest: string;
    approverPublicKey: string;
    json: string;
    storedAt: string;
    replace?: boolean;
  },
): boolean {
  const onConflict = a.replace
    ? 'ON CONFLICT (round_id, vector_digest, approver_public_key) DO UPDATE SET approval_json = excluded.approval_json,' +
      ' stored_at = excluded.stored_at WHERE approval.approval_json <> excluded.approval_json'
    : 'ON CONFLICT DO NOTHING';
  const r = db
    .prepare(
      `INSERT INTO approval (round_id, vector_digest, approver_public_key, approval_json, stored_at) VALUES (?,?,?,?,?) ${onConflict}`,
    )
    .run(a.roundId, a.vectorDigest, a.approverPublicKey, a.json, a.storedAt);
  return r.changes > 0;
}
