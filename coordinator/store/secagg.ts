import { z } from 'zod';
import { InstitutionId } from '../../schemas/common.js';
import { SecAggPhaseSchema, type SecAggPhase } from '../../schemas/secagg.js';
import type { CoordinatorDb } from './db.js';

/** One institution's action in a phase: the digest and size of the message it sent. */
export interface SecAggAction {
  institutionId: string;
  digest: string;
  bytes: number;
  receivedAt: string;
}

/** An ended phase: who acted in time (its members), when it ended, whether it was ended early by the operator. */
export interface EndedPhase {
  phase: SecAggPhase;
  endedAt: string;
  members: string[];
  forced: boolean;
}

/** A round that failed closed. */
export interface SecAggFailure {
  phase: SecAggPhase;
  code: string;
  message: string;
  failedAt: string;
}

const Members = z.array(InstitutionId);

/** The action of one institution in one phase, or undefined. */
export function findAction(
  db: CoordinatorDb,
  roundId: string,
  phase: SecAggPhase,
  institutionId: string,
): SecAggAction | undefined {
  const r = db
    .prepare<unknown[], { institution_id: string; digest: string; bytes: number; received_at: string }>(
      'SELECT institution_id, digest, bytes, received_at FROM secagg_actions WHERE round_id = ? AND phase = ? AND institution_id = ?',
    )
    .get(roundId, phase, institutionId);
  return r && { institutionId: r.institution_id, digest: r.digest, bytes: r.bytes, receivedAt: r.received_at };
}

/** Institutions that acted in a phase, sorted. */
export function actedIn(db: CoordinatorDb, roundId: string, phase: SecAggPhase): string[] {
  return db
    .prepare<unknown[], { institution_id: string }>(
      'SELECT institution_id FROM secagg_actions WHERE round_id = ? AND phase = ? ORDER BY institution_id',
    )
    .all(roundId, phase)
    .map((r) => r.institution_id);
}

/** Record one phase message: the action and its items (inside the caller's transaction). */
export function insertAction(
  db: CoordinatorDb,
  a: {
    roundId: string;
    phase: SecAggPhase;
    institutionId: string;
    digest: string;
    bytes: number;
    receivedAt: string;
    items: { to: string | null; payloadJson: string }[];
  },
): void {
  db.prepare(
    'INSERT INTO secagg_actions (round_id, phase, institution_id, digest, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(a.roundId, a.phase, a.institutionId, a.digest, a.bytes, a.receivedAt);
  const ins = db.prepare(
    'INSERT INTO secagg_items (round_id, phase, sender, recipient, payload_json) VALUES (?, ?, ?, ?, ?)',
  );
  for (const it of a.items) ins.run(a.roundId, a.phase, a.institutionId, it.to ?? '', it.payloadJson);
}

/**
 * Items of a phase for a recipient (`null`: the items addressed to nobody in particular), from
 * the given senders only, in sender order.
 */
export function phaseItems(
  db: CoordinatorDb,
  roundId: string,
  phase: SecAggPhase,
  recipient: string | null,
  senders: readonly string[],
): { from: string; payload: unknown }[] {
  const allowed = new Set(senders);
  return db
    .prepare<unknown[], { sender: string; payload_json: string }>(
      'SELECT sender, payload_json FROM secagg_items WHERE round_id = ? AND phase = ? AND recipient = ? ORDER BY sender',
    )
    .all(roundId, phase, recipient ?? '')
    .filter((r) => allowed.has(r.sender))
    .map((r) => ({ from: r.sender, payload: JSON.parse(r.payload_json) }));
}

/** Every ended phase of a round, in phase order. */
export function endedPhases(db: CoordinatorDb, roundId: string): EndedPhase[] {
  const rows = db
    .prepare<unknown[], { phase: string; ended_at: string; members_json: string; forced: number }>(
      'SELECT phase, ended_at, members_json, forced FROM secagg_phases WHERE round_id = ?',
    )
    .all(roundId);
  const order = SecAggPhaseSchema.options;
  return rows
    .map((r) => ({
      phase: SecAggPhaseSchema.parse(r.phase),
      endedAt: r.ended_at,
      members: Members.parse(JSON.parse(r.members_json)),
      forced: r.forced === 1,
    }))
    .sort((a, b) => order.indexOf(a.phase) - order.indexOf(b.phase));
}

/** Record the end of a phase (inside the caller's transaction). */
export function insertEndedPhase(db: CoordinatorDb, roundId: string, e: EndedPhase): void {
  db.prepare('INSERT INTO secagg_phases (round_id, phase, ended_at, members_json, forced) VALUES (?, ?, ?, ?, ?)').run(
    roundId,
    e.phase,
    e.endedAt,
    JSON.stringify(e.members),
    e.forced ? 1 : 0,
  );
}

/** The failure of a round, or undefined. */
export function findFailure(db: CoordinatorDb, roundId: string): SecAggFailure | undefined {
  const r = db
    .prepare<unknown[], { phase: string; code: string; message: string; failed_at: string }>(
      'SELECT phase, code, message, failed_at FROM secagg_failures WHERE round_id = ?',
    )
    .get(roundId);
  return r && { phase: SecAggPhaseSchema.parse(r.phase), code: r.code, message: r.message, failedAt: r.failed_at };
}

/** Record that a round failed closed (inside the caller's transaction). */
export function insertFailure(db: CoordinatorDb, roundId: string, f: SecAggFailure): void {
  db.prepare('INSERT INTO secagg_failures (round_id, phase, code, message, failed_at) VALUES (?, ?, ?, ?, ?)').run(
    roundId,
    f.phase,
    f.code,
    f.message,
    f.failedAt,
  );
}
