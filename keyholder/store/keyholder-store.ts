import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';
import { z } from 'zod';
import { HOME_FILES } from '../config.js';

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. */
const MIGRATIONS: string[] = [
  `
  -- Endorsements this key holder signed (keyholder endorse).
  CREATE TABLE endorsement (
    id INTEGER PRIMARY KEY,
    round_id TEXT NOT NULL,
    he_public_key_digest TEXT NOT NULL,
    max_participants INTEGER NOT NULL,
    thresholds TEXT NOT NULL,          -- canonical JSON
    endorsed_at TEXT NOT NULL,
    signature TEXT NOT NULL
  );
  CREATE INDEX endorsement_round ON endorsement (round_id);
  -- Every use of the BFV secret key: logged as 'started' BEFORE the key is used, then completed.
  -- kind 'sum': decryption of a round's sector sum; kind 'noise-budget': noise budgets of
  -- individual contributions measured to find culprits (nothing is decoded).
  -- Holds digests and counts only, never a decrypted value.
  CREATE TABLE decryption (
    id INTEGER PRIMARY KEY,
    round_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('sum', 'noise-budget')),
    started_at TEXT NOT NULL,
    completed_at TEXT,
    bundle_digest TEXT NOT NULL,
    institutions INTEGER NOT NULL,
    sum_digest TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('started', 'decrypted', 'failed')),
    error_code TEXT,
    release_digest TEXT
  );
  CREATE INDEX decryption_round ON decryption (round_id);
  -- Releases signed.
  CREATE TABLE release (
    id INTEGER PRIMARY KEY,
    round_id TEXT NOT NULL,
    release_version INTEGER NOT NULL,
    release_digest TEXT NOT NULL UNIQUE,
    previous_release_digest TEXT,
    bundle_digest TEXT NOT NULL,
    institutions INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    blocks_published INTEGER NOT NULL,
    blocks_suppressed INTEGER NOT NULL,
    UNIQUE (round_id, release_version)
  );
  -- Bundles the key holder refused, with the reason.
  CREATE TABLE refusal (
    id INTEGER PRIMARY KEY,
    round_id TEXT,
    at TEXT NOT NULL,
    bundle_digest TEXT,
    code TEXT NOT NULL,
    message TEXT NOT NULL
  );
  `,
  `
  -- The signed release itself (public), so that the disclosure audit of a re-release can
  -- compare it with every earlier version of the round.
  ALTER TABLE release ADD COLUMN release_json TEXT;
  `,
  `
  -- Key custody (issue 11). Each key ceremony: the sealing, its custodians (names only) and k of n.
  CREATE TABLE ceremony (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('init', 'seal-existing', 'reshare')),
    seal_id TEXT NOT NULL,
    he_public_key_digest TEXT NOT NULL,
    k INTEGER NOT NULL,
    n INTEGER NOT NULL,
    custodians TEXT NOT NULL          -- JSON array of {name, protection, share_fingerprint}
  );
  -- Every unseal of the BFV secret key: logged as 'started' BEFORE the shares are opened, then
  -- 'unsealed' (with the custodians whose shares were combined) or 'refused' (with the code and
  -- the custodian named); wiped_at is when the key was erased from memory again.
  CREATE TABLE unseal (
    id INTEGER PRIMARY KEY,
    round_id TEXT,
    purpose TEXT NOT NULL CHECK (purpose IN ('release', 'reshare')),
    seal_id TEXT,
    started_at TEXT NOT NULL,
    presented TEXT NOT NULL,          -- JSON array of the custodian names on the share files
    outcome TEXT NOT NULL CHECK (outcome IN ('started', 'unsealed', 'refused')),
    custodians TEXT,                  -- JSON array of the custodians whose shares were combined
    unsealed_at TEXT,
    wiped_at TEXT,
    error_code TEXT,
    error_custodian TEXT
  );
  CREATE INDEX unseal_round ON unseal (round_id);
  ALTER TABLE decryption ADD COLUMN unseal_id INTEGER REFERENCES unseal (id);
  `,
  `
  -- Institutions this key holder enrolled itself (issue 11): it endorses only these, so the
  -- coordinator cannot add participants on its own. Public information only.
  CREATE TABLE participant (
    institution_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    brin TEXT NOT NULL,
    ed25519_public_key TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    added_at TEXT NOT NULL,
    removed_at TEXT
  );
  -- The participant list each endorsement covers (canonical JSON).
  ALTER TABLE endorsement ADD COLUMN participants TEXT;
  `,
];

/** An institution the key holder enrolled. */
export interface ParticipantRecord {
  institutionId: string;
  name: string;
  brin: string;
  /** Ed25519 public key, base64. */
  ed25519PublicKey: string;
  fingerprint: string;
  addedAt: string;
  removedAt: string | null;
}

/** A key ceremony as recorded. */
export interface CeremonyRecord {
  id?: number;
  at: string;
  kind: 'init' | 'seal-existing' | 'reshare';
  sealId: string;
  hePublicKeyDigest: string;
  k: number;
  n: number;
  custodians: { name: string; protection: string; share_fingerprint: string }[];
}

/** A row of the unseal log. */
export interface UnsealRecord {
  id: number;
  roundId: string | null;
  purpose: 'release' | 'reshare';
  sealId: string | null;
  startedAt: string;
  presented: string[];
  outcome: 'started' | 'unsealed' | 'refused';
  custodians: string[] | null;
  unsealedAt: string | null;
  wipedAt: string | null;
  errorCode: string | null;
  errorCustodian: string | null;
}

/** An endorsement as recorded. */
export interface EndorsementRecord {
  roundId: string;
  hePublicKeyDigest: string;
  maxParticipants: number;
  /** Canonical JSON of the thresholds. */
  thresholds: string;
  endorsedAt: string;
  signature: string;
  /** Canonical JSON of the endorsed participant list (null in logs from before issue 11). */
  participants: string | null;
}

/** A row of the decryption log. */
export interface DecryptionRecord {
  id: number;
  roundId: string;
  kind: 'sum' | 'noise-budget';
  startedAt: string;
  completedAt: string | null;
  bundleDigest: string;
  institutions: number;
  sumDigest: string;
  outcome: 'started' | 'decrypted' | 'failed';
  errorCode: string | null;
  releaseDigest: string | null;
  /** The unseal that made the key available for this use. */
  unsealId: number | null;
}

/** A signed release as recorded. */
export interface ReleaseRecord {
  roundId: string;
  releaseVersion: number;
  releaseDigest: string;
  previousReleaseDigest: string | null;
  bundleDigest: string;
  institutions: number;
  publishedAt: string;
  blocksPublished: number;
  blocksSuppressed: number;
  /** The signed release JSON, kept on insert (read back with `releaseDocuments`). */
  releaseJson?: string | null;
}

/** A refused bundle. */
export interface RefusalRecord {
  roundId: string | null;
  at: string;
  bundleDigest: string | null;
  code: string;
  message: string;
}

// Rows as SQLite returns them, parsed with a schema (a damaged log is named, never misread).
const EndorsementRow = z.object({
  round_id: z.string(),
  he_public_key_digest: z.string(),
  max_participants: z.number(),
  thresholds: z.string(),
  endorsed_at: z.string(),
  signature: z.string(),
  participants: z.string().nullable(),
});
const ParticipantRow = z.object({
  institution_id: z.string(),
  name: z.string(),
  brin: z.string(),
  ed25519_public_key: z.string(),
  fingerprint: z.string(),
  added_at: z.string(),
  removed_at: z.string().nullable(),
});
const DecryptionRow = z.object({
  id: z.number(),
  round_id: z.string(),
  kind: z.enum(['sum', 'noise-budget']),
  started_at: z.string(),
  completed_at: z.string().nullable(),
  bundle_digest: z.string(),
  institutions: z.number(),
  sum_digest: z.string(),
  outcome: z.enum(['started', 'decrypted', 'failed']),
  error_code: z.string().nullable(),
  release_digest: z.string().nullable(),
  unseal_id: z.number().nullable().optional(),
});
/** JSON text in a column, parsed with `schema`. */
const jsonText = <T extends z.ZodTypeAny>(schema: T) =>
  z.string().transform((text, ctx): z.infer<T> => {
    try {
      const r = schema.safeParse(JSON.parse(text));
      if (r.success) return r.data;
    } catch {
      /* reported below */
    }
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not the JSON expected' });
    return z.NEVER;
  });
const CeremonyRow = z.object({
  id: z.number(),
  at: z.string(),
  kind: z.enum(['init', 'seal-existing', 'reshare']),
  seal_id: z.string(),
  he_public_key_digest: z.string(),
  k: z.number(),
  n: z.number(),
  custodians: jsonText(z.array(z.object({ name: z.string(), protection: z.string(), share_fingerprint: z.string() }))),
});
const UnsealRow = z.object({
  id: z.number(),
  round_id: z.string().nullable(),
  purpose: z.enum(['release', 'reshare']),
  seal_id: z.string().nullable(),
  started_at: z.string(),
  presented: jsonText(z.array(z.string())),
  outcome: z.enum(['started', 'unsealed', 'refused']),
  custodians: jsonText(z.array(z.string())).nullable(),
  unsealed_at: z.string().nullable(),
  wiped_at: z.string().nullable(),
  error_code: z.string().nullable(),
  error_custodian: z.string().nullable(),
});
const ReleaseRow = z.object({
  round_id: z.string(),
  release_version: z.number(),
  release_digest: z.string(),
  previous_release_digest: z.string().nullable(),
  bundle_digest: z.string(),
  institutions: z.number(),
  published_at: z.string(),
  blocks_published: z.number(),
  blocks_suppressed: z.number(),
});
const RefusalRow = z.object({
  round_id: z.string().nullable(),
  at: z.string(),
  bundle_digest: z.string().nullable(),
  code: z.string(),
  message: z.string(),
});

/**
 * Rows of one table parsed with its schema.
 * @throws SbError `SB_ERR_STORE_CORRUPT` naming the table and the next step
 */
function parseRows<T extends z.ZodTypeAny>(table: string, schema: T, rows: unknown[]): z.infer<T>[] {
  return rows.map((row) => {
    const r = schema.safeParse(row);
    if (r.success) return r.data;
    throw new SbError(
      'SB_ERR_STORE_CORRUPT',
      `a row of table ${table} in the key holder's log (keyholder.sqlite) is damaged; restore the log from ` +
        "a backup ('sectorbench keyholder restore --home DIR --from FILE').",
      { table },
    );
  });
}

/**
 * The key holder's log (`<home>/keyholder.sqlite`, better-sqlite3, WAL): endorsements issued,
 * every use of the BFV secret key, releases signed and refusals. Every write is its own
 * transaction, so a crash loses nothing already logged; a decryption whose row still says
 * `started` was interrupted.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Data at rest" (key holder)
 */
export class KeyHolderStore {
  readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Open (and create or migrate) the store in a key holder's data folder. */
  static open(dataDir: string): KeyHolderStore {
    makeDir(dataDir, 0o700, "the key holder's data folder");
    const path = join(dataDir, HOME_FILES.store);
    const db = new Database(path);
    chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = z
      .number()
      .int()
      .parse(db.pragma('user_version', { simple: true }));
    if (version > MIGRATIONS.length) {
      db.close();
      // A newer sectorbench wrote it: this one would misread it (docs/OPERATIONS.md "Migrations").
      throw new SbError(
        'SB_ERR_DB_VERSION',
        `the key holder's log ${path} has schema version ${version}, this sectorbench knows ${MIGRATIONS.length};` +
          ' install the sectorbench that wrote it (or newer).',
      );
    }
    for (const [i, sql] of MIGRATIONS.entries()) {
      if (i < version) continue;
      db.transaction(() => {
        db.exec(sql);
        db.pragma(`user_version = ${i + 1}`);
      })();
    }
    return new KeyHolderStore(db);
  }

  close(): void {
    this.db.close();
  }

  recordEndorsement(e: EndorsementRecord): void {
    this.db
      .prepare(
        'INSERT INTO endorsement (round_id, he_public_key_digest, max_participants, thresholds, endorsed_at,' +
          ' signature, participants) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(e.roundId, e.hePublicKeyDigest, e.maxParticipants, e.thresholds, e.endorsedAt, e.signature, e.participants);
  }

  endorsements(roundId: string): EndorsementRecord[] {
    const rows = this.db
      .prepare(
        'SELECT round_id, he_public_key_digest, max_participants, thresholds, endorsed_at, signature,' +
          ' participants FROM endorsement WHERE round_id = ? ORDER BY id',
      )
      .all(roundId);
    return parseRows('endorsement', EndorsementRow, rows).map((r) => ({
      roundId: r.round_id,
      hePublicKeyDigest: r.he_public_key_digest,
      maxParticipants: r.max_participants,
      thresholds: r.thresholds,
      endorsedAt: r.endorsed_at,
      signature: r.signature,
      participants: r.participants,
    }));
  }

  /** Enrol an institution (refuses a duplicate id or key with `SB_ERR_INSTITUTION_EXISTS`). */
  addParticipant(p: Omit<ParticipantRecord, 'removedAt'>): void {
    const found = this.db
      .prepare('SELECT institution_id FROM participant WHERE institution_id = ? OR ed25519_public_key = ?')
      .get(p.institutionId, p.ed25519PublicKey);
    const existing = found === undefined ? undefined : z.object({ institution_id: z.string() }).parse(found);
    if (existing)
      throw new SbError(
        'SB_ERR_INSTITUTION_EXISTS',
        existing.institution_id === p.institutionId
          ? `institution ${p.institutionId} is enrolled already; remove it first to enrol another key.`
          : `this identity key is enrolled already for institution ${existing.institution_id}; every institution has its own key.`,
        { institution_id: existing.institution_id },
      );
    this.db
      .prepare(
        'INSERT INTO participant (institution_id, name, brin, ed25519_public_key, fingerprint, added_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(p.institutionId, p.name, p.brin, p.ed25519PublicKey, p.fingerprint, p.addedAt);
  }

  /** Mark an institution removed: later endorsements leave it out. */
  removeParticipant(institutionId: string, at: string): boolean {
    return (
      this.db
        .prepare('UPDATE participant SET removed_at = ? WHERE institution_id = ? AND removed_at IS NULL')
        .run(at, institutionId).changes > 0
    );
  }

  /** Enrolled institutions (by id), removed ones included. */
  participants(): ParticipantRecord[] {
    const rows = this.db.prepare('SELECT * FROM participant ORDER BY institution_id').all();
    return parseRows('participant', ParticipantRow, rows).map((r) => ({
      institutionId: r.institution_id,
      name: r.name,
      brin: r.brin,
      ed25519PublicKey: r.ed25519_public_key,
      fingerprint: r.fingerprint,
      addedAt: r.added_at,
      removedAt: r.removed_at,
    }));
  }

  /** Log the intent to use the secret key; call BEFORE using it. Returns the log row id. */
  decryptionStarted(d: {
    roundId: string;
    kind: 'sum' | 'noise-budget';
    at: string;
    bundleDigest: string;
    institutions: number;
    sumDigest: string;
    unsealId: number;
  }): number {
    const r = this.db
      .prepare(
        'INSERT INTO decryption (round_id, kind, started_at, bundle_digest, institutions, sum_digest,' +
          " outcome, unseal_id) VALUES (?, ?, ?, ?, ?, ?, 'started', ?)",
      )
      .run(d.roundId, d.kind, d.at, d.bundleDigest, d.institutions, d.sumDigest, d.unsealId);
    return Number(r.lastInsertRowid);
  }

  /** Complete a logged decryption. */
  decryptionCompleted(id: number, d: { at: string; outcome: 'decrypted' | 'failed'; errorCode?: string }): void {
    this.db
      .prepare('UPDATE decryption SET completed_at = ?, outcome = ?, error_code = ? WHERE id = ?')
      .run(d.at, d.outcome, d.errorCode ?? null, id);
  }

  /** Link a decryption to the release built from it. */
  decryptionReleased(id: number, releaseDigest: string): void {
    this.db.prepare('UPDATE decryption SET release_digest = ? WHERE id = ?').run(releaseDigest, id);
  }

  /** The decryption log, oldest first (all rounds, or one). */
  decryptions(roundId?: string): DecryptionRecord[] {
    const rows =
      roundId === undefined
        ? this.db.prepare('SELECT * FROM decryption ORDER BY id').all()
        : this.db.prepare('SELECT * FROM decryption WHERE round_id = ? ORDER BY id').all(roundId);
    return parseRows('decryption', DecryptionRow, rows).map((r) => ({
      id: r.id,
      roundId: r.round_id,
      kind: r.kind,
      startedAt: r.started_at,
      completedAt: r.completed_at,
      bundleDigest: r.bundle_digest,
      institutions: r.institutions,
      sumDigest: r.sum_digest,
      outcome: r.outcome,
      errorCode: r.error_code,
      releaseDigest: r.release_digest,
      unsealId: r.unseal_id ?? null,
    }));
  }

  /** Record a key ceremony. */
  recordCeremony(c: CeremonyRecord): void {
    this.db
      .prepare(
        'INSERT INTO ceremony (at, kind, seal_id, he_public_key_digest, k, n, custodians) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(c.at, c.kind, c.sealId, c.hePublicKeyDigest, c.k, c.n, JSON.stringify(c.custodians));
  }

  /** Key ceremonies, oldest first. */
  ceremonies(): CeremonyRecord[] {
    const rows = this.db.prepare('SELECT * FROM ceremony ORDER BY id').all();
    return parseRows('ceremony', CeremonyRow, rows).map((r) => ({
      id: r.id,
      at: r.at,
      kind: r.kind,
      sealId: r.seal_id,
      hePublicKeyDigest: r.he_public_key_digest,
      k: r.k,
      n: r.n,
      custodians: r.custodians,
    }));
  }

  /** Log an unseal attempt; call BEFORE opening any share. Returns the log row id. */
  unsealStarted(u: {
    roundId: string | null;
    purpose: 'release' | 'reshare';
    sealId: string | null;
    at: string;
    presented: string[];
  }): number {
    const r = this.db
      .prepare(
        "INSERT INTO unseal (round_id, purpose, seal_id, started_at, presented, outcome) VALUES (?, ?, ?, ?, ?, 'started')",
      )
      .run(u.roundId, u.purpose, u.sealId, u.at, JSON.stringify(u.presented));
    return Number(r.lastInsertRowid);
  }

  /** The key was unsealed with these custodians' shares. */
  unsealSucceeded(id: number, u: { at: string; custodians: string[] }): void {
    this.db
      .prepare("UPDATE unseal SET outcome = 'unsealed', unsealed_at = ?, custodians = ? WHERE id = ?")
      .run(u.at, JSON.stringify(u.custodians), id);
  }

  /** The unseal was refused (quorum, wrong or foreign share …). */
  unsealRefused(id: number, u: { at: string; errorCode: string; custodian: string | null }): void {
    this.db
      .prepare("UPDATE unseal SET outcome = 'refused', wiped_at = ?, error_code = ?, error_custodian = ? WHERE id = ?")
      .run(u.at, u.errorCode, u.custodian, id);
  }

  /** The unsealed key was erased from memory. */
  unsealWiped(id: number, at: string): void {
    this.db.prepare('UPDATE unseal SET wiped_at = ? WHERE id = ?').run(at, id);
  }

  /** The unseal log, oldest first (all, or one round's). */
  unseals(roundId?: string): UnsealRecord[] {
    const rows =
      roundId === undefined
        ? this.db.prepare('SELECT * FROM unseal ORDER BY id').all()
        : this.db.prepare('SELECT * FROM unseal WHERE round_id = ? ORDER BY id').all(roundId);
    return parseRows('unseal', UnsealRow, rows).map((r) => ({
      id: r.id,
      roundId: r.round_id,
      purpose: r.purpose,
      sealId: r.seal_id,
      startedAt: r.started_at,
      presented: r.presented,
      outcome: r.outcome,
      custodians: r.custodians,
      unsealedAt: r.unsealed_at,
      wipedAt: r.wiped_at,
      errorCode: r.error_code,
      errorCustodian: r.error_custodian,
    }));
  }

  recordRelease(r: ReleaseRecord): void {
    this.db
      .prepare(
        'INSERT INTO release (round_id, release_version, release_digest, previous_release_digest, bundle_digest,' +
          ' institutions, published_at, blocks_published, blocks_suppressed, release_json) VALUES (?,' +
          ' ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        r.roundId,
        r.releaseVersion,
        r.releaseDigest,
        r.previousReleaseDigest,
        r.bundleDigest,
        r.institutions,
        r.publishedAt,
        r.blocksPublished,
        r.blocksSuppressed,
        r.releaseJson ?? null,
      );
  }

  /** Releases signed for a round, oldest version first. */
  releases(roundId: string): ReleaseRecord[] {
    const rows = this.db
      .prepare(
        'SELECT round_id, release_version, release_digest, previous_release_digest, bundle_digest, ' +
          'institutions, published_at, blocks_published, blocks_suppressed FROM release WHERE round_id ' +
          '= ? ORDER BY release_version',
      )
      .all(roundId);
    return parseRows('release', ReleaseRow, rows).map((r) => ({
      roundId: r.round_id,
      releaseVersion: r.release_version,
      releaseDigest: r.release_digest,
      previousReleaseDigest: r.previous_release_digest,
      bundleDigest: r.bundle_digest,
      institutions: r.institutions,
      publishedAt: r.published_at,
      blocksPublished: r.blocks_published,
      blocksSuppressed: r.blocks_suppressed,
    }));
  }

  /** The signed release documents (JSON) of a round kept in the log, oldest version first. */
  releaseDocuments(roundId: string): string[] {
    const rows = this.db
      .prepare(
        'SELECT release_json FROM release WHERE round_id = ? AND release_json IS NOT NULL ORDER BY release_version',
      )
      .all(roundId);
    return parseRows('release', z.object({ release_json: z.string() }), rows).map((r) => r.release_json);
  }

  recordRefusal(r: RefusalRecord): void {
    this.db
      .prepare('INSERT INTO refusal (round_id, at, bundle_digest, code, message) VALUES (?, ?, ?, ?, ?)')
      .run(r.roundId, r.at, r.bundleDigest, r.code, r.message);
  }

  refusals(roundId?: string): RefusalRecord[] {
    const rows =
      roundId === undefined
        ? this.db.prepare('SELECT * FROM refusal ORDER BY id').all()
        : this.db.prepare('SELECT * FROM refusal WHERE round_id = ? ORDER BY id').all(roundId);
    return parseRows('refusal', RefusalRow, rows).map((r) => ({
      roundId: r.round_id,
      at: r.at,
      bundleDigest: r.bundle_digest,
      code: r.code,
      message: r.message,
    }));
  }
}

/** The schema version this code migrates the key holder's log to (`doctor`, `restore`). */
export function keyHolderSchemaVersion(): number {
  return MIGRATIONS.length;
}

/**
 * Open an existing key holder log file without migrating it and without waiting for locks:
 * what `doctor`, `backup` and `restore` use (shared/ops/sqlite-file.ts).
 */
export function openKeyHolderFile(file: string, o: { readonly: boolean }): Database.Database {
  return new Database(file, { readonly: o.readonly, fileMustExist: true, timeout: 0 });
}
