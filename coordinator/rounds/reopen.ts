import { SbError } from '../../shared/errors/sb-error.js';
import { recordEvent, tx, type CoordinatorDb } from '../store/db.js';
import { findExclusion } from '../store/exclusions.js';
import { findLateAdmission, saveLateAdmissions, type LateAdmission } from '../store/late.js';
import { findRelease } from '../store/releases.js';
import { getRound, isParticipant, type StoredRound } from '../store/rounds.js';
import { currentSubmission } from '../store/submissions.js';
import { advancePhases, phaseMembers } from '../secagg/phases.js';

/** Input of {@link reopenRound}. */
export interface ReopenRoundInput {
  db: CoordinatorDb;
  roundId: string;
  /** Participants admitted to send a late or corrected contribution. */
  institutions: readonly string[];
  /** Until when their contributions are accepted. */
  deadline: Date;
  now: Date;
}

/**
 * The institutions whose contributions are in a masked round's released sum: the survivor set
 * U3 (the members of the ended masked-input phase). Undefined for an unmasked round.
 */
export function maskedSurvivors(db: CoordinatorDb, round: StoredRound, now: Date): string[] | undefined {
  if (!round.manifest.secagg) return undefined;
  return phaseMembers(advancePhases(db, round, now), 'masked_input') ?? [];
}

/**
 * Reopen a released round for late or corrected contributions (issue 16, item 2; docs/DECISIONS.md
 * "Versioned re-release"): the named participants may send a contribution until `deadline`;
 * `round close` then writes a new bundle (the released sum's contributions plus the late ones,
 * and the published release chain) from which the key holder signs the next version.
 *
 * - A participant whose contribution is not in the released sum sends a **late** contribution.
 *   In a masked round it is sent unmasked (an ordinary encrypted contribution; the node says so
 *   before it is approved), because the masked round's pairwise masks were fixed among the
 *   survivors and are gone.
 * - A participant whose contribution is in the sum sends a **correction**. In an unmasked round
 *   its new envelope replaces the old one. In a masked round (a survivor, in U3) its masked input
 *   cannot be taken out of the sum (that would take both kinds of share of one survivor, which no
 *   node reveals), so the node sends an encrypted difference new − old, unmasked, which `round
 *   close` adds to the sum (docs/DECISIONS.md 80).
 *
 * Throws `SB_ERR_ROUND_NOT_RELEASED`, `SB_ERR_NOT_PARTICIPANT`, `SB_ERR_EXCLUDED`, `SB_ERR_USAGE`
 * (no institution, deadline not in the future).
 */
export function reopenRound(input: ReopenRoundInput): LateAdmission[] {
  const { db, roundId, now } = input;
  const ids = [...new Set(input.institutions.map((s) => s.trim()).filter((s) => s.length > 0))];
  if (ids.length === 0) throw new SbError('SB_ERR_USAGE', '--late must name at least one institution id.');
  if (!(input.deadline.getTime() > now.getTime()))
    throw new SbError(
      'SB_ERR_USAGE',
      `--deadline ${Number.isNaN(input.deadline.getTime()) ? '(not a date)' : input.deadline.toISOString()} must be an ISO 8601 time in the future.`,
    );
  return tx(db, () => {
    const round = getRound(db, roundId);
    const latest = findRelease(db, roundId);
    if (round.state !== 'released' || !latest)
      throw new SbError(
        'SB_ERR_ROUND_NOT_RELEASED',
        `round ${roundId} is ${round.state}, not released; ` +
          `a late contribution leads to a new version of a released round. ` +
          (round.state === 'open'
            ? 'While the round is open the institution can still submit normally.'
            : 'Have the key holder release the round first (or exclude and close again).'),
        { round_id: roundId, state: round.state },
      );
    const survivors = maskedSurvivors(db, round, now);
    const admissions: LateAdmission[] = ids.map((id) => {
      if (!isParticipant(db, roundId, id))
        throw new SbError(
          'SB_ERR_NOT_PARTICIPANT',
          `institution ${id} is not a participant of round ${roundId}; only the endorsed participants can contribute late. Nothing was changed.`,
          { institution_id: id, round_id: roundId },
        );
      const exclusion = findExclusion(db, roundId, id);
      if (exclusion)
        throw new SbError(
          'SB_ERR_EXCLUDED',
          `institution ${id} was excluded from round ${roundId} (${exclusion.reason}); an exclusion is final for the round. Nothing was changed.`,
          { institution_id: id, round_id: roundId },
        );
      // In the released sum: the survivor set U3 of a masked round, else the current submission.
      const inSum = survivors ? survivors.includes(id) : currentSubmission(db, roundId, id) !== undefined;
      const kind: LateAdmission['kind'] = inSum ? 'correction' : 'late';
      const earlier = findLateAdmission(db, roundId, id);
      return {
        roundId,
        institutionId: id,
        kind: earlier && earlier.kind === 'late' && kind === 'correction' ? 'late' : kind,
        admittedAt: now.toISOString(),
        deadline: input.deadline.toISOString(),
        afterVersion: latest.version,
      };
    });
    saveLateAdmissions(db, roundId, admissions);
    recordEvent(db, {
      at: now.toISOString(),
      kind: 'round.reopened',
      roundId,
      detail: {
        after_version: latest.version,
        deadline: input.deadline.toISOString(),
        late: admissions.filter((a) => a.kind === 'late').map((a) => a.institutionId),
        correction: admissions.filter((a) => a.kind === 'correction').map((a) => a.institutionId),
      },
    });
    return admissions;
  });
}

/**
 * Whether a released round takes a contribution from this institution now (an admission whose
 * deadline has not passed). Throws `SB_ERR_ROUND_CLOSED` (no admission) or
 * `SB_ERR_DEADLINE_PASSED` (admission ended), naming the next step.
 */
export function checkLateWindow(
  db: CoordinatorDb,
  round: StoredRound,
  institutionId: string,
  now: Date,
): LateAdmission {
  const a = findLateAdmission(db, round.id, institutionId);
  if (!a)
    throw new SbError(
      'SB_ERR_ROUND_CLOSED',
      `round ${round.id} is ${round.state}; no contributions are accepted any more. ` +
        `A late or corrected contribution to a released round needs the coordinator's 'round reopen --late ${institutionId}'.`,
      { round_id: round.id, state: round.state },
    );
  if (now.getTime() >= Date.parse(a.deadline))
    throw new SbError(
      'SB_ERR_DEADLINE_PASSED',
      `the late window of ${institutionId} in round ${round.id} ended at ${a.deadline}; nothing more is accepted. Ask the coordinator to reopen it.`,
      { round_id: round.id, deadline: a.deadline },
    );
  return a;
}
