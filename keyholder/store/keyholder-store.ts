import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
];

/** An endorsement as recorded. */
export interface EndorsementRecord {
  roundId: string;
  hePublicKeyDigest: string;
  maxParticipants: number;
  /** Canonical JSON of the thresholds. */
  thresholds: string;
  endorsedAt: string;
  signature: string;
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
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, HOME_FILES.store);
    const db = new Database(path);
    chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
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
        'INSERT INTO endorsement (round_id, he_public_key_digest, max_participants, thresholds, endorsed_at, signature) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(e.roundId, e.hePublicKeyDigest, e.maxParticipants, e.thresholds, e.endorsedAt, e.signature);
  }

  endorsements(roundId: string): EndorsementRecord[] {
    return (
      this.db
        .prepare(
          'SELECT round_id, he_public_key_digest, max_participants, thresholds, endorsed_at, signature FROM endorsement WHERE round_id = ? ORDER BY id',
        )
        .all(roundId) as {
        round_id: string;
        he_public_key_digest: string;
        max_participants: number;
        thresholds: string;
        endorsed_at: string;
        signature: string;
      }[]
    ).map((r) => ({
      roundId: r.round_id,
      hePublicKeyDigest: r.he_public_key_digest,
      maxParticipants: r.max_participants,
      thresholds: r.thresholds,
      endorsedAt: r.endorsed_at,
      signature: r.signature,
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
  }): number {
    const r = this.db
      .prepare(
        "INSERT INTO decryption (round_id, kind, started_at, bundle_digest, institutions, sum_digest, outcome) VALUES (?, ?, ?, ?, ?, ?, 'started')",
      )
      .run(d.roundId, d.kind, d.at, d.bundleDigest, d.institutions, d.sumDigest);
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
    }));
  }

  recordRelease(r: ReleaseRecord): void {
    this.db
      .prepare(
        'INSERT INTO release (round_id, release_version, release_digest, previous_release_digest, bundle_digest, institutions, published_at, blocks_published, blocks_suppressed, release_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
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
          'SELECT round_id, release_version, release_digest, previous_release_digest, bundle_digest, institutions, published_at, blocks_published, blocks_suppressed FROM release WHERE round_id = ? ORDER BY release_version',
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
