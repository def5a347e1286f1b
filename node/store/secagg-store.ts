import { z } from 'zod';
import { InstitutionId, RoundId, Sha256Hex } from '../../schemas/common.js';
import { RevealRecordSchema, type RevealRecord } from '../../schemas/secagg-messages.js';
import {
  PhaseAckSchema,
  PhaseMessageSchema,
  PhaseRelaySchema,
  type PhaseAck,
  type PhaseMessage,
  type PhaseRelay,
  type SecAggPhase,
} from '../../schemas/secagg.js';
import type { HeldShares, RoundSecrets } from '../../shared/secagg/index.js';
import type { NodeDb } from './node-db.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** Rows as node-db.ts declares them (the JSON inside is parsed with its own schema). */
const SecretsRow = z.object({ secrets_json: z.string() });
const OutboxRow = z.object({ message_json: z.string(), digest: z.string(), ack_json: z.string().nullable() });
const RelayRow = z.object({ relay_json: z.string() });
const HeldShareRow = z.object({ owner: z.string(), self_seed_share: z.string(), mask_key_share: z.string() });
const RevealRow = z.object({ record_json: z.string() });
const Key32 = z.string().refine((s) => Buffer.from(s, 'base64').length === 32, '32 bytes, base64');

const SecretsSchema = z
  .object({
    round_id: RoundId,
    institution_id: InstitutionId,
    box_public_key: Key32,
    box_secret_key: Key32,
    mask_public_key: Key32,
    mask_secret_key: Key32,
    self_seed: Key32,
  })
  .strict();

/** A phase message in the outbox, with the coordinator's acknowledgement once it came. */
export interface OutboxEntry {
  message: PhaseMessage;
  digest: string;
  ack: PhaseAck | null;
}

/**
 * All SQL of the node's secure-aggregation state (node-db.ts, fourth migration); every read is parsed
 * with its schema. Secrets stay in this database (like the plaintext vector) and are never sent.
 */
export class SecAggStore {
  constructor(private readonly db: NodeDb) {}

  /** The round's secrets, or undefined before the node advertised keys. */
  secrets(roundId: string): RoundSecrets | undefined {
    const row = this.db.prepare('SELECT secrets_json FROM secagg_secrets WHERE round_id = ?').get(roundId);
    if (row === undefined) return undefined;
    const r = SecretsRow.parse(row);
    const s = SecretsSchema.parse(JSON.parse(r.secrets_json));
    return {
      roundId: s.round_id,
      institutionId: s.institution_id,
      boxPublicKey: unb64(s.box_public_key),
      boxSecretKey: unb64(s.box_secret_key),
      maskPublicKey: unb64(s.mask_public_key),
      maskSecretKey: unb64(s.mask_secret_key),
      selfSeed: unb64(s.self_seed),
    };
  }

  /** Store the round's secrets (once; a second call keeps the first). */
  saveSecrets(s: RoundSecrets, at: Date): void {
    this.db
      .prepare(
        'INSERT INTO secagg_secrets (round_id, secrets_json, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(
        s.roundId,
        JSON.stringify({
          round_id: s.roundId,
          institution_id: s.institutionId,
          box_public_key: b64(s.boxPublicKey),
          box_secret_key: b64(s.boxSecretKey),
          mask_public_key: b64(s.maskPublicKey),
          mask_secret_key: b64(s.maskSecretKey),
          self_seed: b64(s.selfSeed),
        }),
        at.toISOString(),
      );
  }

  /** The stored message of a phase, or undefined. */
  outbox(roundId: string, phase: SecAggPhase): OutboxEntry | undefined {
    const row = this.db
      .prepare('SELECT message_json, digest, ack_json FROM secagg_outbox WHERE round_id = ? AND phase = ?')
      .get(roundId, phase);
    if (row === undefined) return undefined;
    const r = OutboxRow.parse(row);
    return {
      message: PhaseMessageSchema.parse(JSON.parse(r.message_json)),
      digest: Sha256Hex.parse(r.digest),
      ack: r.ack_json ? PhaseAckSchema.parse(JSON.parse(r.ack_json)) : null,
    };
  }

  /** Store a phase message before it is sent. */
  saveOutbox(message: PhaseMessage, digest: string, at: Date): void {
    this.db
      .prepare('INSERT INTO secagg_outbox (round_id, phase, message_json, digest, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(message.round_id, message.phase, JSON.stringify(message), digest, at.toISOString());
  }

  /** Keep the coordinator's acknowledgement of a phase message. */
  saveAck(ack: PhaseAck): void {
    this.db
      .prepare('UPDATE secagg_outbox SET ack_json = ? WHERE round_id = ? AND phase = ?')
      .run(JSON.stringify(ack), ack.round_id, ack.phase);
  }

  /** What an ended phase relayed, as first received, or undefined. */
  relay(roundId: string, phase: SecAggPhase): PhaseRelay | undefined {
    const row = this.db
      .prepare('SELECT relay_json FROM secagg_relay WHERE round_id = ? AND phase = ?')
      .get(roundId, phase);
    return row === undefined ? undefined : PhaseRelaySchema.parse(JSON.parse(RelayRow.parse(row).relay_json));
  }

  /** Keep what an ended phase relayed (the first version stays). */
  saveRelay(relay: PhaseRelay, at: Date): void {
    this.db
      .prepare(
        'INSERT INTO secagg_relay (round_id, phase, relay_json, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(relay.round_id, relay.phase, JSON.stringify(relay), at.toISOString());
  }

  /** The shares this node holds, by owner (itself included). */
  heldShares(roundId: string): Map<string, HeldShares> {
    const rows = this.db
      .prepare('SELECT owner, self_seed_share, mask_key_share FROM secagg_held_share WHERE round_id = ? ORDER BY owner')
      .all(roundId)
      .map((r) => HeldShareRow.parse(r));
    return new Map(
      rows.map((r) => [
        InstitutionId.parse(r.owner),
        { from: r.owner, selfSeedShare: unb64(r.self_seed_share), maskKeyShare: unb64(r.mask_key_share) },
      ]),
    );
  }

  /** Store held shares (existing ones are kept). */
  saveHeldShares(roundId: string, shares: Iterable<HeldShares>): void {
    const ins = this.db.prepare(
      'INSERT INTO secagg_held_share (round_id, owner, self_seed_share, mask_key_share) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    for (const h of shares) ins.run(roundId, h.from, b64(h.selfSeedShare), b64(h.maskKeyShare));
  }

  /** What this node revealed in a round, or null. */
  revealRecord(roundId: string): RevealRecord | null {
    const row = this.db.prepare('SELECT record_json FROM secagg_reveal_record WHERE round_id = ?').get(roundId);
    return row === undefined ? null : RevealRecordSchema.parse(JSON.parse(RevealRow.parse(row).record_json));
  }

  /** Persist the reveal record (before the reveal is sent). */
  saveRevealRecord(record: RevealRecord, at: Date): void {
    this.db
      .prepare(
        'INSERT INTO secagg_reveal_record (round_id, record_json, updated_at) VALUES (?, ?, ?) ON CONFLICT(round_id) ' +
          'DO UPDATE SET record_json = excluded.record_json, updated_at = excluded.updated_at',
      )
      .run(record.round_id, JSON.stringify(record), at.toISOString());
  }

  /** Run `fn` in one transaction. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
