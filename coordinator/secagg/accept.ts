import { createHash } from 'node:crypto';
import {
  PhaseMessageSchema,
  SECAGG_PHASES,
  type PhaseAck,
  type PhaseRelay,
  type SecAggPhase,
} from '../../schemas/secagg.js';
import type { Identity } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { formatZodIssues } from '../../shared/errors/zod-issues.js';
import { canonicalBytes } from '../../shared/protocol/canonical.js';
import { PURPOSE } from '../../shared/protocol/round-documents.js';
import { signObject } from '../../shared/protocol/signed-object.js';
import { recordEvent, tx, type CoordinatorDb } from '../store/db.js';
import { findExclusion } from '../store/exclusions.js';
import { getRound, isParticipant } from '../store/rounds.js';
import { excludedError } from '../rounds/exclude.js';
import { findAction, insertAction, phaseItems } from '../store/secagg.js';
import { advancePhases, failedError, phaseMembers } from './phases.js';

/** Largest payload of one item (bytes of its JSON); shares and signatures are far smaller. */
export const MAX_ITEM_BYTES = 16 * 1024;

/** Input of {@link acceptPhaseMessage}. */
export interface AcceptPhaseInput {
  db: CoordinatorDb;
  identity: Identity;
  roundId: string;
  phase: SecAggPhase;
  /** The authenticated institution of the signed request. */
  institutionId: string;
  /** The request body: a PhaseMessageSchema JSON document. */
  body: Uint8Array;
  now: Date;
}

function signAck(identity: Identity, a: Omit<PhaseAck, 'coordinator_signature' | 'type' | 'version'>): PhaseAck {
  return signObject(
    PURPOSE.secaggAck,
    { type: 'sectorbench.secagg-ack' as const, version: 1 as const, ...a },
    'coordinator_signature',
    identity.secretKey,
  );
}

type PhaseItem = { to: string | null; payloadJson: string };
type PhaseState = ReturnType<typeof advancePhases>;

/**
 * Read a phase message from the request body: not `masked_input` (that is a contribution), JSON,
 * PhaseMessageSchema, naming the request's round, phase and sender, every item's payload at most
 * {@link MAX_ITEM_BYTES}. Throws `SB_ERR_SECAGG_MESSAGE`. Returns the items with their payload
 * JSON and the message digest (SHA-256 of its canonical bytes).
 */
function readPhaseMessage(input: AcceptPhaseInput): { items: PhaseItem[]; digest: string } {
  const { roundId, phase, institutionId } = input;
  if (phase === 'masked_input')
    throw new SbError(
      'SB_ERR_SECAGG_MESSAGE',
      'the masked input is a contribution: POST it to /v1/rounds/:id/contributions (wire format v1).',
    );
  let parsedJson: unknown;
  try {
    parsedJson = JSON.parse(Buffer.from(input.body).toString('utf8'));
  } catch {
    throw new SbError('SB_ERR_SECAGG_MESSAGE', `the ${phase} message is not JSON; send a sectorbench.secagg-message.`);
  }
  const p = PhaseMessageSchema.safeParse(parsedJson);
  if (!p.success)
    throw new SbError(
      'SB_ERR_SECAGG_MESSAGE',
      `the ${phase} message is malformed: ${formatZodIssues(p.error.issues, { limit: 3 })}.`,
    );
  const msg = p.data;
  if (msg.round_id !== roundId || msg.phase !== phase || msg.from !== institutionId)
    throw new SbError(
      'SB_ERR_SECAGG_MESSAGE',
      `the message names round ${msg.round_id}, phase ${msg.phase}, sender ${msg.from}; ` +
        `the request is for round ${roundId}, phase ${phase}, from ${institutionId}.`,
    );
  const items = msg.items.map((it) => {
    const payloadJson = JSON.stringify(it.payload);
    if (payloadJson === undefined || Buffer.byteLength(payloadJson) > MAX_ITEM_BYTES)
      throw new SbError(
        'SB_ERR_SECAGG_MESSAGE',
        `an item of the ${phase} message is empty or larger than ${MAX_ITEM_BYTES} bytes.`,
      );
    return { to: it.to, payloadJson };
  });
  const digest = createHash('sha256').update(canonicalBytes(msg)).digest('hex');
  return { items, digest };
}

/** The sender is a participant of the round (`SB_ERR_NOT_PARTICIPANT`) and not excluded (`SB_ERR_EXCLUDED`). */
function checkSender(db: CoordinatorDb, roundId: string, institutionId: string): void {
  if (!isParticipant(db, roundId, institutionId))
    throw new SbError(
      'SB_ERR_NOT_PARTICIPANT',
      `institution ${institutionId} is not a participant of round ${roundId}.`,
      {
        institution_id: institutionId,
      },
    );
  const exclusion = findExclusion(db, roundId, institutionId);
  if (exclusion) throw excludedError(exclusion);
}

/**
 * The phase is the round's current one (`SB_ERR_SECAGG_PHASE_ENDED`,
 * `SB_ERR_SECAGG_PHASE_NOT_STARTED`) and the sender is expected in it
 * (`SB_ERR_SECAGG_NOT_EXPECTED`: it did not act in time in an earlier phase).
 */
function checkPhaseOpen(state: PhaseState, roundId: string, phase: SecAggPhase, institutionId: string): void {
  if (state.current !== phase) {
    const ended =
      state.current === 'done' || SECAGG_PHASES.indexOf(state.current as SecAggPhase) > SECAGG_PHASES.indexOf(phase);
    throw new SbError(
      ended ? 'SB_ERR_SECAGG_PHASE_ENDED' : 'SB_ERR_SECAGG_PHASE_NOT_STARTED',
      ended
        ? `phase ${phase} of round ${roundId} has ended; ` +
            `this institution ${phaseMembers(state, phase)?.includes(institutionId) ? 'acted in it' : 'is counted as dropped out'}.`
        : `phase ${phase} of round ${roundId} has not started; the round is in phase ${state.current}. Run the node again later.`,
      { phase, current: state.current },
    );
  }
  if (!state.expected.includes(institutionId))
    throw new SbError(
      'SB_ERR_SECAGG_NOT_EXPECTED',
      `institution ${institutionId} did not act in time in an earlier phase of round ${roundId}, ` +
        `so it is not expected in phase ${phase}; ` +
        `it counts as dropped out.`,
      { phase },
    );
}

/**
 * The items are addressed as the phase requires: share — one item to each other member of U1
 * (complete graph) or to distinct neighbours in U1 (sparse graph); other phases — exactly one item
 * addressed to nobody. Throws `SB_ERR_SECAGG_MESSAGE`.
 */
function checkAddressing(
  round: ReturnType<typeof getRound>,
  state: PhaseState,
  phase: SecAggPhase,
  institutionId: string,
  items: readonly PhaseItem[],
): void {
  if (phase === 'share') {
    const peers = state.expected.filter((id) => id !== institutionId);
    const to = items.map((i) => i.to ?? '');
    // Complete graph: one box for every other node of U1; sparse graph: for its neighbours in U1.
    const complete = round.manifest.secagg?.graph.kind === 'complete';
    const fits = complete
      ? to.length === peers.length && peers.every((id) => to.includes(id))
      : to.every((id) => peers.includes(id));
    if (new Set(to).size !== to.length || !fits)
      throw new SbError(
        'SB_ERR_SECAGG_MESSAGE',
        `the share message must hold exactly one item for each ${complete ? 'other institution' : 'neighbour'} that advertised keys (of ${peers.join(', ')}).`,
      );
  } else if (items.length !== 1 || items[0]?.to !== null) {
    throw new SbError(
      'SB_ERR_SECAGG_MESSAGE',
      `the ${phase} message holds exactly one item, addressed to nobody (to: null).`,
    );
  }
}

/**
 * Accept one node's message of a secure-aggregation phase (ARCHITECTURE.md "The round",
 * step 2): the round is masked and has not failed, the phase is running, the sender is expected
 * in it (advertise: every participant; share: U1; consistency: U3; unmask: U4), the items are
 * addressed as the phase requires (share: exactly one to every other member of U1; otherwise one
 * item to nobody in particular). The same message again returns the same acknowledgement, also
 * after the phase ended; a different one is refused (`SB_ERR_SECAGG_CONFLICT`), so a node's
 * advertised keys and shares can never change. `masked_input` goes through the contributions
 * route. Stored and acknowledged in one transaction. An excluded institution is refused
 * (`SB_ERR_EXCLUDED`, 403, with the operator's reason), here and in {@link relayPhase}.
 */
export function acceptPhaseMessage(input: AcceptPhaseInput): { status: 'created' | 'existing'; ack: PhaseAck } {
  const { db, roundId, phase, institutionId, now } = input;
  const { items, digest } = readPhaseMessage(input);
  const receivedAt = now.toISOString();
  const ack = (at: string): PhaseAck =>
    signAck(input.identity, { round_id: roundId, phase, institution_id: institutionId, digest, received_at: at });

  return tx(db, () => {
    const round = getRound(db, roundId);
    checkSender(db, roundId, institutionId);
    const existing = findAction(db, roundId, phase, institutionId);
    if (existing) {
      if (existing.digest !== digest)
        throw new SbError(
          'SB_ERR_SECAGG_CONFLICT',
          `institution ${institutionId} already sent a different ${phase} message in round ${roundId} (digest ${existing.digest}); ` +
            `a phase message cannot be changed.`,
          { phase, digest: existing.digest },
        );
      return { status: 'existing' as const, ack: ack(existing.receivedAt) };
    }
    const state = advancePhases(db, round, now);
    if (state.failure) throw failedError(roundId, state.failure);
    checkPhaseOpen(state, roundId, phase, institutionId);
    checkAddressing(round, state, phase, institutionId, items);
    insertAction(db, { roundId, phase, institutionId, digest, bytes: input.body.byteLength, receivedAt, items });
    recordEvent(db, {
      at: receivedAt,
      kind: `secagg.${phase}`,
      roundId,
      institutionId,
      detail: { bytes: input.body.byteLength },
    });
    advancePhases(db, round, now);
    return { status: 'created' as const, ack: ack(receivedAt) };
  });
}

/**
 * What the coordinator relays to a participant once a phase has ended: its members and the
 * payloads for the caller — `advertise`: every member's advertisement; `share`: the shares
 * addressed to the caller from members; `masked_input`: no payloads (the members are the
 * survivor set U3); `consistency`: every member's survivor-set signature; `unmask`: nothing.
 * Throws `SB_ERR_SECAGG_WAIT` (409) while the phase runs and the failure when the round failed.
 */
export function relayPhase(
  db: CoordinatorDb,
  roundId: string,
  phase: SecAggPhase,
  institutionId: string,
  now: Date,
): PhaseRelay {
  return tx(db, () => {
    const round = getRound(db, roundId);
    // Excluded (issue 13): told why, and relayed nothing more.
    checkSender(db, roundId, institutionId);
    const state = advancePhases(db, round, now);
    if (state.failure) throw failedError(roundId, state.failure);
    const members = phaseMembers(state, phase);
    if (!members)
      throw new SbError(
        'SB_ERR_SECAGG_WAIT',
        `phase ${phase} of round ${roundId} has not ended yet (the round is in phase ${state.current}); ask again later.`,
        { phase, current: state.current },
      );
    const items =
      phase === 'share'
        ? phaseItems(db, roundId, phase, institutionId, members)
        : phase === 'advertise' || phase === 'consistency'
          ? phaseItems(db, roundId, phase, null, members)
          : [];
    return { round_id: roundId, phase, members, items };
  });
}
