import { ReceiptSchema, type Receipt } from '../../schemas/receipt.js';
import type { CoordinatorDb } from './db.js';

/** An accepted submission (without its wire bytes). */
export interface SubmissionInfo {
  id: number;
  roundId: string;
  institutionId: string;
  envelopeDigest: string;
  wireBytes: number;
  wireSha256: string;
  receivedAt: string;
  sequence: number;
  auditHead: string | null;
  /** Sequence number of the submission that replaced this one, or null while current. */
  supersededBy: number | null;
}

interface Row {
  id: number;
  round_id: string;
  institution_id: string;
  envelope_digest: string;
  wire_bytes: number;
  wire_sha256: string;
  received_at: string;
  sequence: number;
  audit_head: string | null;
  superseded_by: number | null;
}

const COLUMNS =
  'id, round_id, institution_id, envelope_digest, wire_bytes, wire_sha256, received_at, sequence, audit_head, superseded_by';

const toInfo = (r: Row): SubmissionInfo => ({
  id: r.id,
  roundId: r.round_id,
  institutionId: r.institution_id,
  envelopeDigest: r.envelope_digest,
  wireBytes: r.wire_bytes,
  wireSha256: r.wire_sha256,
  receivedAt: r.received_at,
  sequence: r.sequence,
  auditHead: r.audit_head,
  supersededBy: r.superseded_by,
});

/** The submission of an envelope digest by an institution in a round, or undefined. */
export function findSubmissionByDigest(
  db: CoordinatorDb,
  roundId: string,
  institutionId: string,
  envelopeDigest: string,
): SubmissionInfo | undefined {
  const row = db
    .prepare<unknown[], Row>(
      `SELECT ${COLUMNS} FROM submissions WHERE round_id = ? AND institution_id = ? AND envelope_digest = ?`,
    )
    .get(roundId, institutionId, envelopeDigest);
  return row ? toInfo(row) : undefined;
}

/** The current (not superseded) submission of an institution in a round, or undefined. */
export function currentSubmission(
  db: CoordinatorDb,
  roundId: string,
  institutionId: string,
): SubmissionInfo | undefined {
  const row = db
    .prepare<unknown[], Row>(
      `SELECT ${COLUMNS} FROM submissions WHERE round_id = ? AND institution_id = ? AND superseded_by IS NULL`,
    )
    .get(roundId, institutionId);
  return row ? toInfo(row) : undefined;
}

/** Current submissions of a round, by institution id. */
export function currentSubmissions(db: CoordinatorDb, roundId: string): SubmissionInfo[] {
  return db
    .prepare<unknown[], Row>(
      `SELECT ${COLUMNS} FROM submissions WHERE round_id = ? AND superseded_by IS NULL ORDER BY institution_id`,
    )
    .all(roundId)
    .map(toInfo);
}

/** Every submission of a round (current and superseded), in sequence order. */
export function allSubmissions(db: CoordinatorDb, roundId: string): SubmissionInfo[] {
  return db
    .prepare<unknown[], Row>(`SELECT ${COLUMNS} FROM submissions WHERE round_id = ? ORDER BY sequence`)
    .all(roundId)
    .map(toInfo);
}

/** The wire bytes of a submission. */
export function submissionWire(db: CoordinatorDb, id: number): Uint8Array {
  const row = db.prepare<unknown[], { wire: Buffer }>('SELECT wire FROM submissions WHERE id = ?').get(id);
  if (!row) throw new Error(`submission ${id} vanished`);
  return new Uint8Array(row.wire.buffer, row.wire.byteOffset, row.wire.byteLength);
}

/** The receipt of a submission. */
export function submissionReceipt(db: CoordinatorDb, submissionId: number): Receipt {
  const row = db
    .prepare<unknown[], { receipt_json: string }>('SELECT receipt_json FROM receipts WHERE submission_id = ?')
    .get(submissionId);
  if (!row) throw new Error(`submission ${submissionId} has no receipt`);
  return ReceiptSchema.parse(JSON.parse(row.receipt_json));
}

/** Next sequence number of a round (inside the caller's transaction). */
export function nextSequence(db: CoordinatorDb, roundId: string): number {
  // An aggregate query always returns one row; MAX is NULL while the round has no submission.
  const row = db
    .prepare<unknown[], { m: number | null }>('SELECT MAX(sequence) AS m FROM submissions WHERE round_id = ?')
    .get(roundId);
  const m = row?.m ?? null;
  return m === null ? 0 : m + 1;
}

/**
 * Insert a submission as the institution's current one, marking its previous current
 * submission superseded (inside the caller's transaction). Returns the new row id.
 */
export function insertSubmission(
  db: CoordinatorDb,
  s: {
    roundId: string;
    institutionId: string;
    envelopeDigest: string;
    wire: Uint8Array;
    wireSha256: string;
    receivedAt: string;
    sequence: number;
    auditHead: string | null;
  },
): number {
  db.prepare(
    'UPDATE submissions SET superseded_by = ? WHERE round_id = ? AND institution_id = ? AND superseded_by IS NULL',
  ).run(s.sequence, s.roundId, s.institutionId);
  const r = db
    .prepare(
      'INSERT INTO submissions ' +
        '(round_id, institution_id, envelope_digest, wire, wire_bytes, wire_sha256, received_at, sequence, audit_head) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      s.roundId,
      s.institutionId,
      s.envelopeDigest,
      Buffer.from(s.wire.buffer, s.wire.byteOffset, s.wire.byteLength),
      s.wire.byteLength,
      s.wireSha256,
      s.receivedAt,
      s.sequence,
      s.auditHead,
    );
  return Number(r.lastInsertRowid);
}

/** Store a submission's receipt (inside the caller's transaction). */
export function insertReceipt(db: CoordinatorDb, submissionId: number, receipt: Receipt): void {
  db.prepare('INSERT INTO receipts (submission_id, receipt_json) VALUES (?, ?)').run(
    submissionId,
    JSON.stringify(receipt),
  );
}

/** Counts for the public status: submitted (institutions with a current submission) and all submissions. */
export function submissionCounts(db: CoordinatorDb, roundId: string): { submitted: number; submissions: number } {
  // An aggregate query always returns one row; SUM is NULL while the round has no submission.
  const row = db
    .prepare<unknown[], { total: number; cur: number | null }>(
      'SELECT COUNT(*) AS total, SUM(CASE WHEN superseded_by IS NULL THEN 1 ELSE 0 END) AS cur FROM submissions WHERE round_id = ?',
    )
    .get(roundId);
  return { submitted: row?.cur ?? 0, submissions: row?.total ?? 0 };
}
