import { SbError } from '../../shared/errors/sb-error.js';
import { recordEvent, tx, type CoordinatorDb } from '../store/db.js';
import { findExclusion, insertExclusion, type Exclusion } from '../store/exclusions.js';
import { getRound, isParticipant, type StoredRound } from '../store/rounds.js';
import { advancePhases, phaseMembers } from '../secagg/phases.js';
import { currentSubmission } from '../store/submissions.js';

/** Longest accepted reason, in characters. */
export const MAX_EXCLUSION_REASON = 500;

/** Input of {@link excludeContribution}. */
export interface ExcludeContributionInput {
  db: CoordinatorDb;
  roundId: string;
  institutionId: string;
  /** Why, in words the institution will read (e.g. the key holder's refusal code and message). */
  reason: string;
  now: Date;
}

/** What {@link excludeContribution} recorded. */
export interface ExcludeContributionResult extends Exclusion {
  /** True when the round is closed: close it again to write a bundle without the contribution. */
  needsReclose: boolean;
}

/**
 * Exclude an institution's contribution from a round (issue 13): typically the one the key
 * holder named when it refused the sum (`SB_ERR_CULPRITS`: no noise budget under the round key).
 * Allowed while the round is open or closed, never after a release (a release without the
 * contribution next to one with it would give its values away). One transaction records the
 * exclusion, with the reason and the submission that was current, and an event
 * `contribution.excluded`. From then on:
 *
 * - the institution's requests to submit to the round (a new envelope, or its acknowledged one
 *   again) are refused with `SB_ERR_EXCLUDED` (403) carrying the reason, and a signed status
 *   request tells it the same;
 * - `closeRound` leaves it out of the sum and the bundle; on a closed round, close again
 *   (`sectorbench coordinator round close`) to write the new bundle for the key holder;
 * - in a masked round (secure aggregation) it is allowed until the masked-input phase ends and
 *   then counts as dropped out: it is not waited for, not a member of any phase that had not
 *   ended (so not in the survivor set U3), its requests are refused, and the survivors reveal
 *   its mask-key shares so the key holder can remove its pairwise masks (coordinator/secagg).
 *   Once U3 is fixed, excluding a survivor is refused (`SB_ERR_SECAGG_EXCLUDE_TOO_LATE`: a new
 *   round is needed); a participant outside U3 may still be excluded (it is not in the sum).
 *
 * An exclusion is final for the round. Throws `SB_ERR_ROUND_UNKNOWN`, `SB_ERR_NOT_PARTICIPANT`,
 * `SB_ERR_ROUND_RELEASED`, `SB_ERR_ALREADY_EXCLUDED`, `SB_ERR_SECAGG_EXCLUDE_TOO_LATE`, `SB_ERR_USAGE` (empty or too long reason).
 */
export function excludeContribution(input: ExcludeContributionInput): ExcludeContributionResult {
  const { db, roundId, institutionId, now } = input;
  // One line, no control characters: it is logged and shown to the institution verbatim.
  const reason = input.reason.replace(/\p{Cc}+/gu, ' ').trim();
  if (reason.length === 0 || reason.length > MAX_EXCLUSION_REASON) {
    throw new SbError(
      'SB_ERR_USAGE',
      `--reason must say why in 1 to ${MAX_EXCLUSION_REASON} characters (it is shown to the institution); e.g. the key holder's refusal code.`,
      { length: reason.length },
    );
  }
  return tx(db, () => {
    const round = getRound(db, roundId);
    if (!isParticipant(db, roundId, institutionId)) {
      throw new SbError(
        'SB_ERR_NOT_PARTICIPANT',
        `institution ${institutionId} is not a participant of round ${roundId}; there is nothing to exclude. Check the id the key holder named.`,
        { institution_id: institutionId, round_id: roundId },
      );
    }
    if (round.state === 'released') {
      throw new SbError(
        'SB_ERR_ROUND_RELEASED',
        `round ${roundId} is released; a contribution can no longer be excluded (a second release without it would disclose its values). Open a new round.`,
        { round_id: roundId },
      );
    }
    const earlier = findExclusion(db, roundId, institutionId);
    if (earlier) {
      throw new SbError(
        'SB_ERR_ALREADY_EXCLUDED',
        `institution ${institutionId} was already excluded from round ${roundId} on ${earlier.excludedAt} (${earlier.reason}).` +
          `${round.state === 'closed' ? ' Close the round again to write a bundle without it.' : ''}`,
        { institution_id: institutionId, round_id: roundId },
      );
    }
    const u3Fixed = round.manifest.secagg ? checkNotSurvivor(db, round, institutionId, now) : false;
    const current = currentSubmission(db, roundId, institutionId);
    const exclusion: Exclusion = {
      roundId,
      institutionId,
      reason,
      excludedAt: now.toISOString(),
      sequence: current?.sequence ?? null,
      envelopeDigest: current?.envelopeDigest ?? null,
      roundState: round.state,
    };
    insertExclusion(db, exclusion);
    recordEvent(db, {
      at: exclusion.excludedAt,
      kind: 'contribution.excluded',
      roundId,
      institutionId,
      detail: {
        reason,
        sequence: exclusion.sequence,
        envelope_digest: exclusion.envelopeDigest,
        round_state: round.state,
      },
    });
    // Masked: the phase the institution was holding up may end now.
    if (round.manifest.secagg) advancePhases(db, round, now);
    return { ...exclusion, needsReclose: round.state === 'closed' && !(round.manifest.secagg && u3Fixed) };
  });
}

/**
 * Masked round: the survivor set U3 is fixed when the masked-input phase ends. Before that an
 * exclusion makes the institution a dropout (its masks are removed through its mask-key
 * shares); afterwards its masked input is in the sum the survivors signed and unmask, and
 * taking it out would need the other kind of share of it as well, which no node gives.
 * Throws `SB_ERR_SECAGG_EXCLUDE_TOO_LATE` for a member of U3; returns whether U3 is fixed.
 */
function checkNotSurvivor(db: CoordinatorDb, round: StoredRound, institutionId: string, now: Date): boolean {
  const roundId = round.id;
  const state = advancePhases(db, round, now);
  const u3 = phaseMembers(state, 'masked_input');
  if (u3?.includes(institutionId) && state.current !== 'failed')
    throw new SbError(
      'SB_ERR_SECAGG_EXCLUDE_TOO_LATE',
      `institution ${institutionId} is in the survivor set of masked round ${roundId}, ` +
        `fixed when the masked-input phase ended; ` +
        `its masked input cannot be taken out of the sum any more ` +
        `(its masks could only be removed by revealing both kinds of shares of it, ` +
        `which no node does). Nothing was changed. ` +
        `To leave it out, open a new round without it.`,
      { institution_id: institutionId, round_id: roundId, phase: state.current },
    );
  return u3 !== undefined;
}

/** The refusal an excluded institution gets (403), with the reason. */
export function excludedError(e: Exclusion): SbError {
  return new SbError(
    'SB_ERR_EXCLUDED',
    `the coordinator excluded the contribution of ${e.institutionId} from round ${e.roundId} on ${e.excludedAt}: ${e.reason}. ` +
      `It is not part of the sum ` +
      `and nothing more is accepted from ${e.institutionId} in this round; ` +
      `contact the coordinator.`,
    {
      institution_id: e.institutionId,
      round_id: e.roundId,
      reason: e.reason,
      excluded_at: e.excludedAt,
      ...(e.sequence === null ? {} : { sequence: e.sequence }),
    },
  );
}
