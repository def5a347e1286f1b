import Database from 'better-sqlite3';
import { SbError, errorMessage } from '../../shared/errors/sb-error.js';

/** A better-sqlite3 database handle of the coordinator. */
export type CoordinatorDb = Database.Database;

/** File name of the coordinator database inside its home folder. */
export const DB_FILE = 'coordinator.sqlite';

const SCHEMA_VERSION = 5;

const MIGRATION_1 = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE institutions (
  id TEXT PRIMARY KEY,
  ed25519_public_key TEXT NOT NULL UNIQUE,
  fingerprint TEXT NOT NULL,
  added_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;

CREATE TABLE rounds (
  id TEXT PRIMARY KEY,
  manifest_json TEXT NOT NULL,
  he_public_key BLOB NOT NULL,
  deadline TEXT NOT NULL,
  ciphertext_count INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'closed', 'released')),
  created_at TEXT NOT NULL,
  closed_at TEXT,
  bundle_dir TEXT,
  bundle_json TEXT
) STRICT;

CREATE TABLE participants (
  round_id TEXT NOT NULL REFERENCES rounds(id),
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  PRIMARY KEY (round_id, institution_id)
) STRICT;

CREATE TABLE submissions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  round_id TEXT NOT NULL REFERENCES rounds(id),
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  envelope_digest TEXT NOT NULL,
  wire BLOB NOT NULL,
  wire_bytes INTEGER NOT NULL,
  wire_sha256 TEXT NOT NULL,
  received_at TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  audit_head TEXT,
  -- sequence number of the submission that replaced this one (same round and institution)
  superseded_by INTEGER,
  UNIQUE (round_id, institution_id, envelope_digest),
  UNIQUE (round_id, sequence)
) STRICT;
CREATE UNIQUE INDEX submissions_current ON submissions (round_id, institution_id) WHERE superseded_by IS NULL;

CREATE TABLE receipts (
  submission_id INTEGER PRIMARY KEY REFERENCES submissions(id),
  receipt_json TEXT NOT NULL
) STRICT;

CREATE TABLE nonces (
  institution_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  seen_at_ms INTEGER NOT NULL,
  PRIMARY KEY (institution_id, nonce)
) STRICT;
CREATE INDEX nonces_seen ON nonces (seen_at_ms);

CREATE TABLE releases (
  round_id TEXT NOT NULL REFERENCES rounds(id),
  version INTEGER NOT NULL,
  release_json TEXT NOT NULL,
  digest TEXT NOT NULL,
  published_at TEXT NOT NULL,
  PRIMARY KEY (round_id, version)
) STRICT;

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  round_id TEXT,
  institution_id TEXT,
  detail TEXT
) STRICT;
`;

/** Issue 6: every audit-log head a node sent in a signed request (history, newest last). */
const MIGRATION_2 = `
CREATE TABLE audit_heads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  head TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  nonce TEXT NOT NULL
) STRICT;
CREATE INDEX audit_heads_institution ON audit_heads (institution_id, id);
`;

/**
 * Issue 13: contributions the coordinator excluded from a round (the key holder named them, or
 * they were found bad otherwise), with the operator's reason; the institution is told it on its
 * next request. Secure aggregation treats an excluded institution as dropped out.
 */
const MIGRATION_EXCLUSIONS = `
CREATE TABLE exclusions (
  round_id TEXT NOT NULL REFERENCES rounds(id),
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  reason TEXT NOT NULL,
  excluded_at TEXT NOT NULL,
  -- the submission current when excluded (NULL when the institution had not submitted)
  sequence INTEGER,
  envelope_digest TEXT,
  round_state TEXT NOT NULL,
  PRIMARY KEY (round_id, institution_id)
) STRICT;
`;

/**
 * Issue 10, secure aggregation: every phase message (payload per recipient, opaque to the
 * coordinator: shares are encrypted to their peer, reveals to the key holder), who acted in
 * which phase, each ended phase with its members, and a round that failed closed.
 */
const MIGRATION_SECAGG = `
CREATE TABLE secagg_actions (
  round_id TEXT NOT NULL REFERENCES rounds(id),
  phase TEXT NOT NULL,
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  digest TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (round_id, phase, institution_id)
) STRICT;
CREATE TABLE secagg_items (
  round_id TEXT NOT NULL REFERENCES rounds(id),
  phase TEXT NOT NULL,
  sender TEXT NOT NULL,
  -- '' when the item is for nobody in particular
  recipient TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  PRIMARY KEY (round_id, phase, sender, recipient)
) STRICT;
CREATE TABLE secagg_phases (
  round_id TEXT NOT NULL REFERENCES rounds(id),
  phase TEXT NOT NULL,
  ended_at TEXT NOT NULL,
  members_json TEXT NOT NULL,
  forced INTEGER NOT NULL,
  PRIMARY KEY (round_id, phase)
) STRICT;
CREATE TABLE secagg_failures (
  round_id TEXT PRIMARY KEY REFERENCES rounds(id),
  phase TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  failed_at TEXT NOT NULL
) STRICT;
`;

/**
 * Issue 16, item 3: requests carried by hand from air-gapped nodes (coordinator/airgap/). Each
 * answered request is kept under its institution and nonce, so importing the same export file
 * again hands back the same answers instead of running the requests twice (the nonce is also in
 * `nonces`, which would refuse a second run as a replay).
 */
const MIGRATION_AIRGAP = `
CREATE TABLE airgap_requests (
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  nonce TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  request_file_sha256 TEXT NOT NULL,
  status INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  body BLOB NOT NULL,
  imported_at TEXT NOT NULL,
  PRIMARY KEY (institution_id, nonce)
) STRICT;
`;

/**
 * Open (creating and migrating if needed) the coordinator database: WAL, `synchronous=FULL`
 * (a commit is on disk before a receipt is returned), foreign keys on.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Data at rest"
 */
export function openCoordinatorDb(path: string, options: { readonly?: boolean } = {}): CoordinatorDb {
  let db: CoordinatorDb;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (e) {
    throw new SbError(
      'SB_ERR_DB_OPEN',
      `cannot open the coordinator database ${path}: ${errorMessage(e)}; run 'sectorbench coordinator init --home DIR' first.`,
      { path },
      { cause: e },
    );
  }
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  }
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) migrate(db);
  return db;
}

function migrate(db: CoordinatorDb): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new SbError(
      'SB_ERR_DB_VERSION',
      `the coordinator database has schema version ${version}, this sectorbench knows ${SCHEMA_VERSION}; upgrade sectorbench.`,
    );
  }
  if (version < 1) {
    db.transaction(() => {
      db.exec(MIGRATION_1);
      db.pragma('user_version = 1');
    }).immediate();
  }
  if (version < 2) {
    db.transaction(() => {
      db.exec(MIGRATION_2);
      db.pragma('user_version = 2');
    }).immediate();
  }
  if (version < 3) {
    db.transaction(() => {
      db.exec(MIGRATION_EXCLUSIONS);
      db.pragma('user_version = 3');
    }).immediate();
  }
  if (version < 4) {
    db.transaction(() => {
      db.exec(MIGRATION_SECAGG);
      db.pragma('user_version = 4');
    }).immediate();
  }
  if (version < 5) {
    db.transaction(() => {
      db.exec(MIGRATION_AIRGAP);
      db.pragma('user_version = 5');
    }).immediate();
  }
}

/** Run `fn` in one IMMEDIATE transaction (takes the write lock first, so checks and writes are atomic). */
export function tx<T>(db: CoordinatorDb, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** Record an event (inside the caller's transaction). Never holds payloads. */
export function recordEvent(
  db: CoordinatorDb,
  e: { at: string; kind: string; roundId?: string; institutionId?: string; detail?: Record<string, unknown> },
): void {
  db.prepare('INSERT INTO events (at, kind, round_id, institution_id, detail) VALUES (?, ?, ?, ?, ?)').run(
    e.at,
    e.kind,
    e.roundId ?? null,
    e.institutionId ?? null,
    e.detail ? JSON.stringify(e.detail) : null,
  );
}

/** Read a meta value. */
export function getMeta(db: CoordinatorDb, key: string): string | undefined {
  const row = db.prepare<unknown[], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key);
  return row?.value;
}

/** Write a meta value (inside the caller's transaction). */
export function setMeta(db: CoordinatorDb, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
    key,
    value,
  );
}

/** The schema version this code migrates the coordinator database to (`doctor`, `restore`). */
export function coordinatorSchemaVersion(): number {
  return SCHEMA_VERSION;
}

/**
 * Open an existing coordinator database file without migrating it and without waiting for
 * locks: what `doctor`, `backup` and `restore` use (shared/ops/sqlite-file.ts).
 */
export function openCoordinatorFile(file: string, o: { readonly: boolean }): CoordinatorDb {
  return new Database(file, { readonly: o.readonly, fileMustExist: true, timeout: 0 });
}
