import type { CoordinatorDb } from './db.js';

/** A contribution excluded from a round by the coordinator operator. */
export interface Exclusion {
  roundId: string;
  institutionId: string;
  /** The operator's reason, told to the institution. */
  reason: string;
  excludedAt: string;
  /** Sequence of the submission that was current when excluded, or null when there was none. */
  sequence: number | null;
  envelopeDigest: string | null;
  /** Round state when excluded: `open` or `closed`. */
  roundState: string;
}

interface Row {
  round_id: string;
  institution_id: string;
  reason: string;
  excluded_at: string;
  sequence: number | null;
  envelope_digest: string | null;
  round_state: string;
}

const COLUMNS = 'round_id, institution_id, reason, excluded_at, sequence, envelope_digest, round_state';

const toExclusion = (r: Row): Exclusion => ({
  roundId: r.round_id,
  institutionId: r.institution_id,
  reason: r.reason,
  excludedAt: r.excluded_at,
  sequence: r.sequence,
  envelopeDigest: r.envelope_digest,
  roundState: r.round_state,
});

/** The exclusion of an institution from a round, or undefined. */
export function findExclusion(db: CoordinatorDb, roundId: string, institutionId: string): Exclusion | undefined {
  const row = db
    .prepare<unknown[], Row>(`SELECT ${COLUMNS} FROM exclusions WHERE round_id = ? AND institution_id = ?`)
    .get(roundId, institutionId);
  return row ? toExclusion(row) : undefined;
}

/** Every exclusion of a round, by institution id. */
export function listExclusions(db: CoordinatorDb, roundId: string): Exclusion[] {
  return db
    .prepare<unknown[], Row>(`SELECT ${COLUMNS} FROM exclusions WHERE round_id = ? ORDER BY institution_id`)
    .all(roundId)
    .map(toExclusion);
}

/**
 * Ids of the institutions excluded from a round, sorted. Secure aggregation (issue 10) treats
 * them as dropped out: not in the survivor set, their masks recovered like a dropout's.
 */
export function excludedInstitutionIds(db: CoordinatorDb, roundId: string): string[] {
  return listExclusions(db, roundId).map((e) => e.institutionId);
}

/** Record an exclusion (inside the caller's transaction). */
export function insertExclusion(db: CoordinatorDb, e: Exclusion): void {
  db.prepare(`INSERT INTO exclusions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
    e.roundId,
    e.institutionId,
    e.reason,
    e.excludedAt,
    e.sequence,
    e.envelopeDigest,
    e.roundState,
  );
}
