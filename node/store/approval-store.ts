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
 * Store an approval; true when it was new, false when the same approver already approved this
 * round and vector (the insert is then a no-op).
 */
export function insertApproval(
  db: NodeDb,
  a: { roundId: string; vectorDigest: string; approverPublicKey: string; json: string; storedAt: string },
): boolean {
  const r = db
    .prepare(
      'INSERT INTO approval (round_id, vector_digest, approver_public_key, approval_json, stored_at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING',
    )
    .run(a.roundId, a.vectorDigest, a.approverPublicKey, a.json, a.storedAt);
  return r.changes > 0;
}
