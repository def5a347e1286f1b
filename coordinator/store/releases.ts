import { ReleaseSchema, type Release } from '../../schemas/release.js';
import type { CoordinatorDb } from './db.js';

/** A stored release version. */
export interface StoredRelease {
  roundId: string;
  version: number;
  release: Release;
  /** The release JSON exactly as the key holder signed it. */
  json: string;
  digest: string;
  publishedAt: string;
}

interface Row {
  round_id: string;
  version: number;
  release_json: string;
  digest: string;
  published_at: string;
}

const toStored = (r: Row): StoredRelease => ({
  roundId: r.round_id,
  version: r.version,
  release: ReleaseSchema.parse(JSON.parse(r.release_json)),
  json: r.release_json,
  digest: r.digest,
  publishedAt: r.published_at,
});

/** The latest release of a round, or a given version; undefined when none. */
export function findRelease(db: CoordinatorDb, roundId: string, version?: number): StoredRelease | undefined {
  const row =
    version === undefined
      ? db
          .prepare<unknown[], Row>('SELECT * FROM releases WHERE round_id = ? ORDER BY version DESC LIMIT 1')
          .get(roundId)
      : db.prepare<unknown[], Row>('SELECT * FROM releases WHERE round_id = ? AND version = ?').get(roundId, version);
  return row ? toStored(row) : undefined;
}

/** Every release version of a round, oldest first. */
export function listReleases(db: CoordinatorDb, roundId: string): StoredRelease[] {
  return db
    .prepare<unknown[], Row>('SELECT * FROM releases WHERE round_id = ? ORDER BY version')
    .all(roundId)
    .map(toStored);
}

/** Insert a release version (inside the caller's transaction). */
export function insertRelease(
  db: CoordinatorDb,
  r: { roundId: string; version: number; json: string; digest: string; publishedAt: string },
): void {
  db.prepare('INSERT INTO releases (round_id, version, release_json, digest, published_at) VALUES (?, ?, ?, ?, ?)').run(
    r.roundId,
    r.version,
    r.json,
    r.digest,
    r.publishedAt,
  );
}
