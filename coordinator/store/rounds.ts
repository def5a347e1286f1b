import { RoundManifestSchema, type RoundManifest } from '../../schemas/manifest.js';
import { SbError } from '../../shared/errors/sb-error.js';
import type { CoordinatorDb } from './db.js';

/** Round states: `open` (accepting contributions), `closed` (bundle handed over), `released`. */
export type RoundState = 'open' | 'closed' | 'released';

/** A round as stored. */
export interface StoredRound {
  id: string;
  manifest: RoundManifest;
  /** The manifest exactly as signed and served (JSON text). */
  manifestJson: string;
  state: RoundState;
  deadline: string;
  ciphertextCount: number;
  createdAt: string;
  closedAt: string | null;
  bundleDir: string | null;
}

interface Row {
  id: string;
  manifest_json: string;
  state: RoundState;
  deadline: string;
  ciphertext_count: number;
  created_at: string;
  closed_at: string | null;
  bundle_dir: string | null;
}

const COLUMNS = 'id, manifest_json, state, deadline, ciphertext_count, created_at, closed_at, bundle_dir';

function toRound(r: Row): StoredRound {
  return {
    id: r.id,
    manifest: RoundManifestSchema.parse(JSON.parse(r.manifest_json)),
    manifestJson: r.manifest_json,
    state: r.state,
    deadline: r.deadline,
    ciphertextCount: r.ciphertext_count,
    createdAt: r.created_at,
    closedAt: r.closed_at,
    bundleDir: r.bundle_dir,
  };
}

/** One round, or undefined. */
export function findRound(db: CoordinatorDb, id: string): StoredRound | undefined {
  const row = db.prepare<unknown[], Row>(`SELECT ${COLUMNS} FROM rounds WHERE id = ?`).get(id);
  return row ? toRound(row) : undefined;
}

/** One round; throws `SB_ERR_ROUND_UNKNOWN` (404). */
export function getRound(db: CoordinatorDb, id: string): StoredRound {
  const r = findRound(db, id);
  if (!r)
    throw new SbError(
      'SB_ERR_ROUND_UNKNOWN',
      `round ${id} does not exist on this coordinator; check the round id in the manifest.`,
      { round_id: id },
    );
  return r;
}

/** All rounds, newest first. */
export function listRounds(db: CoordinatorDb): StoredRound[] {
  return db.prepare<unknown[], Row>(`SELECT ${COLUMNS} FROM rounds ORDER BY created_at DESC, id`).all().map(toRound);
}

/** The round's BFV public key bytes. */
export function getHePublicKey(db: CoordinatorDb, id: string): Uint8Array | undefined {
  const row = db.prepare<unknown[], { he_public_key: Buffer }>('SELECT he_public_key FROM rounds WHERE id = ?').get(id);
  return row ? new Uint8Array(row.he_public_key) : undefined;
}

/** Whether an institution is a participant of a round. */
export function isParticipant(db: CoordinatorDb, roundId: string, institutionId: string): boolean {
  return (
    db.prepare('SELECT 1 FROM participants WHERE round_id = ? AND institution_id = ?').get(roundId, institutionId) !==
    undefined
  );
}

/** Insert a new round with its participants (inside the caller's transaction). */
export function insertRound(
  db: CoordinatorDb,
  r: {
    manifest: RoundManifest;
    manifestJson: string;
    hePublicKey: Uint8Array;
    ciphertextCount: number;
    createdAt: string;
  },
): void {
  db.prepare(
    'INSERT INTO rounds (id, manifest_json, he_public_key, deadline, ciphertext_count, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(
    r.manifest.round_id,
    r.manifestJson,
    Buffer.from(r.hePublicKey),
    r.manifest.deadline,
    r.ciphertextCount,
    'open',
    r.createdAt,
  );
  const ins = db.prepare('INSERT INTO participants (round_id, institution_id) VALUES (?, ?)');
  for (const p of r.manifest.participants) ins.run(r.manifest.round_id, p.institution_id);
}
