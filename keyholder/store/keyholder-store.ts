import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';
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
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      db.close();
      // A newer sectorbench wrote it: this one would misread it (docs/OPERATIONS.md "Migrations").
      throw new SbError(
        'SB_ERR_DB_VERSION',
        `the key holder's log ${path} has schema version ${version}, this sectorbench knows ${MIGRATIONS.length};` +
          ' install the sectorbench that wrote it (or newer).',
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v] as string);
        db.pragma(`user_version = ${v + 1}`);
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
    return (
      this.db
        .prepare(
          'SELECT round_id, he_public_key_digest, max_participants, thresholds, endorsed_at, signature,' +
            ' participants FROM endorsement WHERE round_id = ? ORDER BY id',
        )
        .all(roundId) as {
        round_id: string;
        he_public_key_digest: string;
        max_participants: number;
        thresholds: string;
        endorsed_at: string;
        signature: string;
        participants: string | null;
      }[]
    ).map((r) => ({
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
    const existing = this.db
      .prepare('SELECT institution_id FROM participant WHERE institution_id = ? OR ed25519_public_key = ?')
      .get(p.institutionId, p.ed25519PublicKey) as { institution_id: string } | undefined;
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
    return (
      this.db.prepare('SELECT * FROM participant ORDER BY institution_id').all() as Record<string, unknown>[]
    ).map((r) => ({
      institutionId: r.institution_id as string,
      name: r.name as string,
      brin: r.brin as string,
      ed25519PublicKey: r.ed25519_public_key as string,
      fingerprint: r.fingerprint as string,
      addedAt: r.added_at as string,
      removedAt: r.removed_at as string | null,
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
    const rows = (
      roundId === undefined
        ? this.db.prepare('SELECT * FROM decryption ORDER BY id').all()
        : this.db.prepare('SELECT * FROM decryption WHERE round_id = ? ORDER BY id').all(roundId)
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      roundId: r.round_id as string,
      kind: r.kind as 'sum' | 'noise-budget',
      startedAt: r.started_at as string,
      completedAt: r.completed_at as string | null,
      bundleDigest: r.bundle_digest as string,
      institutions: r.institutions as number,
      sumDigest: r.sum_digest as string,
      outcome: r.outcome as DecryptionRecord['outcome'],
      errorCode: r.error_code as string | null,
      releaseDigest: r.release_digest as string | null,
      unsealId: (r.unseal_id as number | null) ?? null,
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
    return (this.db.prepare('SELECT * FROM ceremony ORDER BY id').all() as Record<string, unknown>[]).map((r) => ({
      id: r.id as number,
      at: r.at as string,
      kind: r.kind as CeremonyRecord['kind'],
      sealId: r.seal_id as string,
      hePublicKeyDigest: r.he_public_key_digest as string,
      k: r.k as number,
      n: r.n as number,
      custodians: JSON.parse(r.custodians as string) as CeremonyRecord['custodians'],
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
    const rows = (
      roundId === undefined
        ? this.db.prepare('SELECT * FROM unseal ORDER BY id').all()
        : this.db.prepare('SELECT * FROM unseal WHERE round_id = ? ORDER BY id').all(roundId)
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      roundId: r.round_id as string | null,
      purpose: r.purpose as UnsealRecord['purpose'],
      sealId: r.seal_id as string | null,
      startedAt: r.started_at as string,
      presented: JSON.parse(r.presented as string) as string[],
      outcome: r.outcome as UnsealRecord['outcome'],
      custodians: r.custodians === null ? null : (JSON.parse(r.custodians as string) as string[]),
      unsealedAt: r.unsealed_at as string | null,
      wipedAt: r.wiped_at as string | null,
      errorCode: r.error_code as string | null,
      errorCustodian: r.error_custodian as string | null,
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
    return (
      this.db
        .prepare(
          'SELECT round_id, release_version, release_digest, previous_release_digest, bundle_digest, ' +
            'institutions, published_at, blocks_published, blocks_suppressed FROM release WHERE round_id ' +
            '= ? ORDER BY release_version',
        )
        .all(roundId) as Record<string, unknown>[]
    ).map((r) => ({
      roundId: r.round_id as string,
      releaseVersion: r.release_version as number,
      releaseDigest: r.release_digest as string,
      previousReleaseDigest: r.previous_release_digest as string | null,
      bundleDigest: r.bundle_digest as string,
      institutions: r.institutions as number,
      publishedAt: r.published_at as string,
      blocksPublished: r.blocks_published as number,
      blocksSuppressed: r.blocks_suppressed as number,
    }));
  }

  /** The signed release documents (JSON) of a round kept in the log, oldest version first. */
  releaseDocuments(roundId: string): string[] {
    return (
      this.db
        .prepare(
          'SELECT release_json FROM release WHERE round_id = ? AND release_json IS NOT NULL ORDER BY release_version',
        )
        .all(roundId) as { release_json: string }[]
    ).map((r) => r.release_json);
  }

  recordRefusal(r: RefusalRecord): void {
    this.db
      .prepare('INSERT INTO refusal (round_id, at, bundle_digest, code, message) VALUES (?, ?, ?, ?, ?)')
      .run(r.roundId, r.at, r.bundleDigest, r.code, r.message);
  }

  refusals(roundId?: string): RefusalRecord[] {
    const rows = (
      roundId === undefined
        ? this.db.prepare('SELECT * FROM refusal ORDER BY id').all()
        : this.db.prepare('SELECT * FROM refusal WHERE round_id = ? ORDER BY id').all(roundId)
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      roundId: r.round_id as string | null,
      at: r.at as string,
      bundleDigest: r.bundle_digest as string | null,
      code: r.code as string,
      message: r.message as string,
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
