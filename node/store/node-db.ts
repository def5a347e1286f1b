import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type NodeDb = Database.Database;

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
const MIGRATIONS: string[] = [
  `
  -- The imported dataset (INPUT.md): only what METRICS.md needs (data minimisation).
  CREATE TABLE dataset (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    imported_at TEXT NOT NULL,
    enrolments_file TEXT NOT NULL,
    enrolments_sha256 TEXT NOT NULL,
    enrolments_records INTEGER NOT NULL,
    enrolments_encoding TEXT NOT NULL,
    attendance_file TEXT NOT NULL,
    attendance_sha256 TEXT NOT NULL,
    attendance_records INTEGER NOT NULL,
    attendance_encoding TEXT NOT NULL,
    rows_skipped INTEGER NOT NULL,
    observations_dropped INTEGER NOT NULL,
    problems_total INTEGER NOT NULL,
    has_birth_date INTEGER NOT NULL,
    has_start_time INTEGER NOT NULL,
    max_date INTEGER
  );
  -- Dates are day numbers (days since 1970-01-01); exit reasons are reduced to a diploma flag.
  CREATE TABLE enrolment (
    idx INTEGER PRIMARY KEY,
    student_id TEXT NOT NULL,
    enrolment_id TEXT NOT NULL UNIQUE,
    birth_date INTEGER,
    crebo TEXT NOT NULL,
    niveau INTEGER NOT NULL,
    leerweg TEXT NOT NULL CHECK (leerweg IN ('BOL', 'BBL')),
    start_date INTEGER NOT NULL,
    end_date INTEGER,
    diploma INTEGER NOT NULL,
    line INTEGER NOT NULL
  );
  -- Weekly sums per enrolment instead of observations; rows in (enrolment, monday, sy) order.
  CREATE TABLE enrolment_week (
    enrolment INTEGER NOT NULL,
    monday INTEGER NOT NULL,
    sy INTEGER NOT NULL,
    min_present INTEGER NOT NULL,
    min_abs_auth INTEGER NOT NULL,
    min_abs_unauth INTEGER NOT NULL,
    min_unregistered INTEGER NOT NULL,
    n_registered INTEGER NOT NULL,
    n_late INTEGER NOT NULL,
    n_counted INTEGER NOT NULL,
    n_all INTEGER NOT NULL,
    n_outside INTEGER NOT NULL
  );
  `,
  `
  -- Rounds this node took part in: the verified manifest as fetched.
  CREATE TABLE round (
    round_id TEXT PRIMARY KEY,
    manifest_json TEXT NOT NULL,
    fetched_at TEXT NOT NULL
  );
  -- The outbox: a contribution is stored (with the plaintext vector it encrypts) before it is
  -- sent, so a crash between sending and the receipt loses nothing; resending the same bytes is
  -- idempotent at the coordinator.
  CREATE TABLE submission (
    id INTEGER PRIMARY KEY,
    round_id TEXT NOT NULL REFERENCES round(round_id),
    envelope_digest TEXT NOT NULL UNIQUE,
    envelope_json TEXT NOT NULL,
    vector_json TEXT NOT NULL,
    wire BLOB NOT NULL,
    wire_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    receipt_json TEXT
  );
  CREATE INDEX submission_round ON submission(round_id, id);
  `,
  `
  -- Issue 6, node/audit/README.md. The audit log: append-only, each entry hash-chained to the
  -- previous one and signed with the node's key. The triggers stop accidental edits; deliberate
  -- ones are caught by \`sectorbench node audit verify\`.
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    round_id TEXT,
    payload_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    signature TEXT NOT NULL
  );
  CREATE INDEX audit_log_round ON audit_log(round_id, seq);
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  -- Privacy officers' signed approvals (schemas/approval.ts).
  CREATE TABLE approval (
    id INTEGER PRIMARY KEY,
    round_id TEXT NOT NULL,
    vector_digest TEXT NOT NULL,
    approver_public_key TEXT NOT NULL,
    approval_json TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    UNIQUE (round_id, vector_digest, approver_public_key)
  );
  -- The round's BFV public key as used for encryption, for \`audit verify --deep\`.
  CREATE TABLE round_he_key (
    round_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    public_key BLOB NOT NULL
  );
  `,
];

/**
 * Open (and create or migrate) the node's database `node.sqlite` under its home folder.
 * WAL mode, so a crash never loses a committed transaction (ARCHITECTURE.md "Data at rest").
 */
export function openNodeDb(home: string): NodeDb {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const db = new Database(join(home, 'node.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: NodeDb): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
