import type { CoordinatorDb } from './db.js';
import { getMeta, setMeta } from './db.js';

/**
 * An institution admitted to send a late (or, in an unmasked round, corrected) contribution to
 * a released round (issue 16, item 2; rounds/reopen.ts).
 */
export interface LateAdmission {
  roundId: string;
  institutionId: string;
  /**
   * `late`: the institution is not in the released sum; `correction`: it is. In an unmasked round
   * (or for a late, unmasked contribution of a masked round) a correction's envelope replaces the
   * one in the sum; for a survivor of a masked round it is an encrypted difference new − old,
   * added to the sum ({@link recordDifference}).
   */
  kind: 'late' | 'correction';
  admittedAt: string;
  /** ISO 8601; contributions are accepted until then. */
  deadline: string;
  /** The release version the admission follows (the version the next one replaces). */
  afterVersion: number;
}

// Kept in the `meta` table (key `late:<round>`, JSON list) rather than a table of its own, so the
// database schema (and its migrations) stay as they are; every admission is also an event.
const key = (roundId: string) => `late:${roundId}`;

/** Every late admission of a round, in the order they were made (a later one for the same institution replaces it). */
export function lateAdmissions(db: CoordinatorDb, roundId: string): LateAdmission[] {
  const raw = getMeta(db, key(roundId));
  return raw ? (JSON.parse(raw) as LateAdmission[]) : [];
}

/** The admission of one institution to a round, or undefined. */
export function findLateAdmission(
  db: CoordinatorDb,
  roundId: string,
  institutionId: string,
): LateAdmission | undefined {
  return lateAdmissions(db, roundId).find((a) => a.institutionId === institutionId);
}

/** Record admissions (inside the caller's transaction); replaces an earlier admission of the same institution. */
export function saveLateAdmissions(db: CoordinatorDb, roundId: string, add: readonly LateAdmission[]): void {
  const ids = new Set(add.map((a) => a.institutionId));
  const kept = lateAdmissions(db, roundId).filter((a) => !ids.has(a.institutionId));
  setMeta(db, key(roundId), JSON.stringify([...kept, ...add]));
}

/**
 * A correction of a masked round's survivor (issue 16, item 2; docs/DECISIONS.md 80): an
 * encrypted difference new − old, kept in `submissions` like any contribution (it is the
 * institution's current row there; the masked input it corrects stays in the sum) and listed
 * here so `round close` adds it to the masked sum instead of replacing the masked input.
 */
export interface DifferenceSubmission {
  institutionId: string;
  /** The `submissions.sequence` of the difference. */
  sequence: number;
  envelopeDigest: string;
  /** The latest published version when it was received: it changes every later version. */
  afterVersion: number;
}

const diffKey = (roundId: string) => `differences:${roundId}`;

/** Every difference of a round's masked survivors, in the order received. */
export function differenceSubmissions(db: CoordinatorDb, roundId: string): DifferenceSubmission[] {
  const raw = getMeta(db, diffKey(roundId));
  return raw ? (JSON.parse(raw) as DifferenceSubmission[]) : [];
}

/** Record a received difference (inside the caller's transaction, with its submission row). */
export function recordDifference(db: CoordinatorDb, roundId: string, d: DifferenceSubmission): void {
  setMeta(db, diffKey(roundId), JSON.stringify([...differenceSubmissions(db, roundId), d]));
}
