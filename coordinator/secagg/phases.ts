import { SECAGG_PHASES, type SecAggPhase, type SecAggStatus } from '../../schemas/secagg.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { recordEvent, type CoordinatorDb } from '../store/db.js';
import { getRound, type StoredRound } from '../store/rounds.js';
import {
  actedIn,
  endedPhases,
  findFailure,
  insertEndedPhase,
  insertFailure,
  type EndedPhase,
  type SecAggFailure,
} from '../store/secagg.js';
import { excludedInstitutionIds } from '../store/exclusions.js';
import { currentSubmissions } from '../store/submissions.js';

/** Where a masked round stands after {@link advancePhases}. */
export interface PhaseState {
  /** The running phase, `done` after `unmask` ended with enough members, or `failed`. */
  current: SecAggPhase | 'done' | 'failed';
  ended: EndedPhase[];
  failure: SecAggFailure | null;
  /** Of the running phase: who is expected to act, and who has. */
  expected: string[];
  acted: string[];
}

/** The manifest's masking part; throws `SB_ERR_NOT_MASKED` for an unmasked round. */
export function secaggOf(round: StoredRound) {
  const s = round.manifest.secagg;
  if (!s)
    throw new SbError(
      'SB_ERR_NOT_MASKED',
      `round ${round.id} is not a masked round (its manifest has no secagg part); it has no secure-aggregation phases.`,
      { round_id: round.id },
    );
  return s;
}

/**
 * Who acted in a phase so far: phase messages, or for `masked_input` the current contributions;
 * never an excluded institution (rounds/exclude.ts): in a phase that has not ended it counts as
 * not having acted, i.e. as dropped out.
 */
function actors(db: CoordinatorDb, roundId: string, phase: SecAggPhase, excluded: ReadonlySet<string>): Set<string> {
  const ids =
    phase === 'masked_input'
      ? currentSubmissions(db, roundId).map((s) => s.institutionId)
      : actedIn(db, roundId, phase);
  return new Set(ids.filter((id) => !excluded.has(id)));
}

/**
 * Bring a masked round's phases up to date (call inside a write transaction): a running phase
 * ends when every node expected in it has acted, when its deadline has passed, or — once, for
 * the operator's `round advance` — when `force` is set. An institution excluded by the operator
 * (rounds/exclude.ts) before a phase ended is neither waited for nor a member of it: it counts
 * as dropped out from that phase on. Its members (who acted in time) are the
 * nodes expected in the next phase: advertise → U1, share → U2, masked_input → U3 (the survivor
 * set), consistency → U4, unmask → U5 (Bonawitz et al., CCS 2017, figure 4). A phase that ends
 * with fewer than t members fails the round closed (`SB_ERR_SECAGG_BELOW_THRESHOLD`): nothing
 * more is accepted and nothing is handed to the key holder.
 */
export function advancePhases(
  db: CoordinatorDb,
  round: StoredRound,
  now: Date,
  options: { force?: boolean } = {},
): PhaseState {
  const secagg = secaggOf(round);
  let force = options.force ?? false;
  const ended = endedPhases(db, round.id);
  const failure = findFailure(db, round.id) ?? null;
  if (failure) return { current: 'failed', ended, failure, expected: [], acted: [] };
  const excluded = new Set(excludedInstitutionIds(db, round.id));
  let previous = round.manifest.participants.map((p) => p.institution_id).sort();
  for (const phase of SECAGG_PHASES) {
    const done = ended.find((e) => e.phase === phase);
    if (done) {
      previous = done.members;
      continue;
    }
    const all = actors(db, round.id, phase, excluded);
    const acted = previous.filter((id) => all.has(id));
    // An excluded node is not waited for: the phase ends once every other expected node acted.
    const pending = previous.filter((id) => !all.has(id) && !excluded.has(id));
    const due = now.getTime() >= Date.parse(secagg.deadlines[phase]);
    if (pending.length > 0 && !due && !force) {
      return { current: phase, ended, failure: null, expected: previous, acted };
    }
    const e: EndedPhase = { phase, endedAt: now.toISOString(), members: acted, forced: force && !due };
    insertEndedPhase(db, round.id, e);
    ended.push(e);
    recordEvent(db, {
      at: e.endedAt,
      kind: 'secagg.phase-ended',
      roundId: round.id,
      detail: { phase, expected: previous.length, members: acted.length, forced: e.forced },
    });
    force = false;
    if (acted.length < secagg.threshold) {
      const f: SecAggFailure = {
        phase,
        code: 'SB_ERR_SECAGG_BELOW_THRESHOLD',
        message:
          `round ${round.id} failed closed in phase ${phase}: ${acted.length} of ${previous.length} expected institutions acted before it ended, ` +
          `fewer than the masking threshold t = ${secagg.threshold}. ` +
          `Nothing is decrypted; the coordinator must open a new round.`,
        failedAt: e.endedAt,
      };
      insertFailure(db, round.id, f);
      recordEvent(db, {
        at: e.endedAt,
        kind: 'secagg.failed',
        roundId: round.id,
        detail: { phase, members: acted.length, threshold: secagg.threshold },
      });
      return { current: 'failed', ended, failure: f, expected: [], acted: [] };
    }
    previous = acted;
  }
  return { current: 'done', ended, failure: null, expected: [], acted: [] };
}

/** The members of an ended phase, or undefined while it runs. */
export function phaseMembers(state: PhaseState, phase: SecAggPhase): string[] | undefined {
  return state.ended.find((e) => e.phase === phase)?.members;
}

/** Throw the round's failure as a coded error (409). */
export function failedError(roundId: string, f: SecAggFailure): SbError {
  return new SbError(f.code, f.message, { round_id: roundId, phase: f.phase });
}

/**
 * Per phase: who was expected, who acted, who is missing, deadlines; after advancing the
 * phases (one write transaction).
 */
export function secaggStatus(db: CoordinatorDb, roundId: string, now: Date): SecAggStatus {
  return db
    .transaction(() => {
      const round = getRound(db, roundId);
      const secagg = secaggOf(round);
      const state = advancePhases(db, round, now);
      let previous = round.manifest.participants.map((p) => p.institution_id).sort();
      let reached = true;
      const phases = SECAGG_PHASES.map((phase) => {
        const e = state.ended.find((x) => x.phase === phase);
        if (e) {
          const row = {
            phase,
            deadline: secagg.deadlines[phase],
            state: 'ended' as const,
            ended_at: e.endedAt,
            expected: previous,
            acted: e.members,
            missing: previous.filter((id) => !e.members.includes(id)),
          };
          previous = e.members;
          return row;
        }
        const running = reached && state.current === phase;
        reached = false;
        const acted = running ? state.acted : [];
        return {
          phase,
          deadline: secagg.deadlines[phase],
          state: running ? ('running' as const) : ('pending' as const),
          ended_at: null,
          expected: running ? previous : [],
          acted,
          missing: running ? previous.filter((id) => !acted.includes(id)) : [],
        };
      });
      return {
        round_id: roundId,
        threshold: secagg.threshold,
        current_phase: state.current,
        failure: state.failure
          ? { phase: state.failure.phase, code: state.failure.code, message: state.failure.message }
          : null,
        phases,
      };
    })
    .immediate();
}

/**
 * `sectorbench coordinator round advance`: bring the phases up to date and, with `force`, end
 * the running phase now (its members are who acted so far; fewer than t fails the round
 * closed). Returns the status afterwards.
 */
export function advanceRound(
  db: CoordinatorDb,
  roundId: string,
  now: Date,
  options: { force?: boolean } = {},
): SecAggStatus {
  db.transaction(() => {
    advancePhases(db, getRound(db, roundId), now, options);
  }).immediate();
  return secaggStatus(db, roundId, now);
}
