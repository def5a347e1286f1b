import type { CoordinatorDb } from '../store/db.js';
import { findExclusion, listExclusions } from '../store/exclusions.js';
import { listReleases } from '../store/releases.js';
import { getRound, type RoundState } from '../store/rounds.js';
import { submissionCounts } from '../store/submissions.js';

/** Public status of a round: counts only, never payloads or who submitted. */
export interface RoundStatus {
  round_id: string;
  studiejaar: string;
  state: RoundState;
  deadline: string;
  participants: number;
  submitted: number;
  submissions: number;
  closed_at: string | null;
  release_versions: number;
  /** Contributions the coordinator excluded (rounds/exclude.ts); never who. */
  excluded: number;
}

/** What a signed status request tells the asking institution about itself. */
export interface OwnStatus {
  institution_id: string;
  excluded: boolean;
  /** The operator's reason, when excluded. */
  reason?: string;
  excluded_at?: string;
}

/** Status of a round (throws `SB_ERR_ROUND_UNKNOWN`). */
export function roundStatus(db: CoordinatorDb, roundId: string): RoundStatus {
  const r = getRound(db, roundId);
  const c = submissionCounts(db, roundId);
  return {
    round_id: r.id,
    studiejaar: r.manifest.studiejaar,
    state: r.state,
    deadline: r.deadline,
    participants: r.manifest.participants.length,
    submitted: c.submitted,
    submissions: c.submissions,
    closed_at: r.closedAt,
    release_versions: listReleases(db, roundId).length,
    excluded: listExclusions(db, roundId).length,
  };
}

/** The asking institution's own state in a round (for a signed status request). */
export function ownStatus(db: CoordinatorDb, roundId: string, institutionId: string): OwnStatus {
  const e = findExclusion(db, roundId, institutionId);
  return e
    ? { institution_id: institutionId, excluded: true, reason: e.reason, excluded_at: e.excludedAt }
    : { institution_id: institutionId, excluded: false };
}
