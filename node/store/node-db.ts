import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';

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
  `
  -- Issue 10, secure aggregation (node/round/). The round's secrets (X25519 secret keys and
  -- self-mask seed: as sensitive as the plaintext, never sent), each phase message stored before
  -- it is sent (resent as is after a crash) with the coordinator's signed acknowledgement, what
  -- each ended phase relayed (kept, so the coordinator cannot change its story to this node),
  -- the shares this node holds of its peers' secrets, and what it revealed (never both shares
  -- of one peer, also after a restart).
  CREATE TABLE secagg_secrets (
    round_id TEXT PRIMARY KEY,
    secrets_json TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE secagg_outbox (
    round_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    message_json TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ack_json TEXT,
    PRIMARY KEY (round_id, phase)
  );
  CREATE TABLE secagg_relay (
    round_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    relay_json TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (round_id, phase)
  );
  CREATE TABLE secagg_held_share (
    round_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    self_seed_share TEXT NOT NULL,
    mask_key_share TEXT NOT NULL,
    PRIMARY KEY (round_id, owner)
  );
  CREATE TABLE secagg_reveal_record (
    round_id TEXT PRIMARY KEY,
    record_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  `
  -- Issue 16, item 3: air-gapped nodes (node/client/file-transport.ts). Each request the node
  -- would have sent over HTTP, stored signed when first made and carried in export files until
  -- the coordinator's answer is imported (then used once; the round's manifest and BFV key, also
  -- when the coordinator adds them unasked, are kept for every later run). The carried files.
  CREATE TABLE airgap_exchange (
    id INTEGER PRIMARY KEY,
    nonce TEXT UNIQUE,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    request_json TEXT,
    audit_head TEXT,
    created_at TEXT NOT NULL,
    exported_file TEXT,
    status INTEGER,
    content_type TEXT,
    response BLOB,
    answered_at TEXT,
    response_file TEXT,
    consumed_at TEXT
  );
  CREATE INDEX airgap_exchange_key ON airgap_exchange (method, path, body_sha256);
  CREATE TABLE airgap_file (
    file_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('export', 'import')),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    PRIMARY KEY (file_id, direction, sha256)
  );
  `,
];

/**
 * How long a statement waits for another process's lock before giving up with
 * `SB_ERR_DB_IN_USE` (SQLite's busy timeout). An import holds the write lock while it replaces
 * the dataset; readers never wait in WAL mode.
 */
export const BUSY_TIMEOUT_MS = 5_000;

export interface OpenNodeDbOptions {
  /**
   * `create` (default) makes the home folder and database when missing (import, init);
   * `existing` refuses a missing home or database with a coded error and creates nothing
   * (vector, quality, audit: a typo in --home must not leave an empty node behind).
   */
  mode?: 'create' | 'existing';
}

/**
 * Open (and create or migrate) the node's database `node.sqlite` under its home folder.
 * WAL mode, so a crash never loses a committed transaction (ARCHITECTURE.md "Data at rest"),
 * and a busy timeout of {@link BUSY_TIMEOUT_MS}.
 *
 * @throws SbError `SB_ERR_HOME_NOT_FOUND` (mode `existing`), `SB_ERR_HOME_NOT_DIR`,
 *   `SB_ERR_HOME_UNWRITABLE`, `SB_ERR_DB_IN_USE`, `SB_ERR_DB_UNREADABLE`
 */
export function openNodeDb(home: string, options: OpenNodeDbOptions = {}): NodeDb {
  const file = join(home, 'node.sqlite');
  if (options.mode === 'existing') {
    const st = statSync(home, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) {
      throw new SbError('SB_ERR_HOME_NOT_DIR', `${home}: is a file, not a node home folder. Check --home.`, {
        file: home,
      });
    }
    if (!st) {
      throw new SbError(
        'SB_ERR_HOME_NOT_FOUND',
        `${home}: no such folder, so no node here; nothing was created. Check --home, or import a dataset ` +
          `first with \`sectorbench node import --home ${home} --enrolments FILE --attendance FILE\`.`,
        { file: home },
      );
    }
    if (!existsSync(file)) {
      throw new SbError(
        'SB_ERR_NO_DATASET',
        `no dataset has been imported into ${home} yet (it holds no node.sqlite); nothing was created. ` +
          `Run \`sectorbench node import --home ${home} --enrolments FILE --attendance FILE\` first.`,
        { file: home },
      );
    }
  } else {
    makeDir(home, 0o700, "the node's home folder");
  }
  try {
    const db = new Database(file, { fileMustExist: options.mode === 'existing', timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
    return db;
  } catch (e) {
    throw nodeDbError(e, file);
  }
}

/**
 * Translate an error from SQLite on the node database into a coded error naming the file;
 * other errors pass unchanged. Locked or busy (another `sectorbench` process, or a tool such as
 * DB Browser holding a transaction) becomes `SB_ERR_DB_IN_USE`.
 */
export function nodeDbError(e: unknown, file: string): unknown {
  const code = (e as { code?: unknown }).code;
  if (!(e instanceof Error) || e.name !== 'SqliteError' || typeof code !== 'string') return e;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new SbError(
      'SB_ERR_DB_IN_USE',
      `${file}: the node database is in use by another process (waited ${BUSY_TIMEOUT_MS / 1000} ` +
        's). Wait until the other sectorbench command (an import?) has finished, or close the program ' +
        'that has the database open, and run this again.',
      { file, sqlite: code },
      { cause: e },
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return new SbError(
      'SB_ERR_HOME_UNWRITABLE',
      `${file}: the node database cannot be opened for writing (${code}). Check the permissions of the home folder and of node.sqlite for this user.`,
      { file, sqlite: code },
      { cause: e },
    );
  }
  return new SbError(
    'SB_ERR_DB_UNREADABLE',
    `${file}: the node database cannot be used (${code}). Check that --home points at a node home; restore node.sqlite from a backup if it was damaged.`,
    { file, sqlite: code },
    { cause: e },
  );
}

/**
 * Run `fn` inside one read transaction, so every statement it runs sees the same committed
 * snapshot (WAL): an import committing meanwhile cannot yield a vector that mixes two datasets.
 * Nested use joins the outer transaction.
 */
export function inReadTransaction<T>(db: NodeDb, fn: () => T): T {
  if (db.inTransaction) return fn();
  db.exec('BEGIN DEFERRED');
  try {
    return fn();
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
  }
}

function migrate(db: NodeDb): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    // A newer sectorbench wrote it: this one would misread it (docs/OPERATIONS.md "Migrations").
    throw new SbError(
      'SB_ERR_DB_VERSION',
      `the node database has schema version ${version}, this sectorbench knows ${MIGRATIONS.length}; install the sectorbench that wrote it (or newer).`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** The schema version this code migrates the node database to (`doctor`, `restore`). */
export function nodeSchemaVersion(): number {
  return MIGRATIONS.length;
}

/** The node database file of a home. */
export function nodeDbFile(home: string): string {
  return join(home, 'node.sqlite');
}

/**
 * Open an existing node database file without migrating it and without waiting for locks:
 * what `doctor`, `backup` and `restore` use (shared/ops/sqlite-file.ts).
 */
export function openNodeFile(file: string, o: { readonly: boolean }): NodeDb {
  return new Database(file, { readonly: o.readonly, fileMustExist: true, timeout: 0 });
}
