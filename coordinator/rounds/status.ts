import type { CoordinatorDb } from '../store/db.js';
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
  };
}
