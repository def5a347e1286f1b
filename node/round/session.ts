import { createHash } from 'node:crypto';
import type { RoundManifest } from '../../schemas/manifest.js';
import {
  PhaseAckSchema,
  PhaseRelaySchema,
  type PhaseAck,
  type PhaseMessage,
  type PhaseRelay,
  type SecAggManifest,
  type SecAggPhase,
} from '../../schemas/secagg.js';
import { SbError, isSbError } from '../../shared/errors/sb-error.js';
import { canonicalBytes } from '../../shared/protocol/canonical.js';
import { PURPOSE } from '../../shared/protocol/round-documents.js';
import { ROUTES } from '../../shared/protocol/routes.js';
import { verifyObject } from '../../shared/protocol/signed-object.js';
import { appendAudit, canonicalDigest } from '../audit/log.js';
import {
  type AuditedClientOptions,
  type AuditedSession,
  fetchManifestAudited,
  openAuditedSession,
} from '../audit/session.js';
import { SecAggStore } from '../store/secagg-store.js';
import type { Response } from '../client/coordinator-client.js';
import { AIRGAP_PENDING } from '../client/file-transport.js';

/** Whether an error is an offline request waiting for its carried answer (issue 16, item 3). */
export function isAirgapPending(e: unknown): boolean {
  return isSbError(e) && e.code === AIRGAP_PENDING;
}

/** Thrown inside a step when the round has to wait for others; not an error for the operator. */
export class Waiting {
  constructor(
    readonly phase: SecAggPhase,
    readonly reason: string,
  ) {}
}

/**
 * One node's participation in one masked round (issue 10): the audited session (config,
 * identity, database, signed HTTP client whose every request is logged), the verified manifest,
 * the secure-aggregation store, and the phase I/O — every message stored before it is sent and
 * logged with its digest, every relay kept as first received and logged.
 */
export class RoundSession {
  readonly store: SecAggStore;
  readonly me: string;
  readonly identityKeys: Map<string, Uint8Array>;
  readonly participants: string[];

  private constructor(
    readonly s: AuditedSession,
    readonly home: string,
    readonly manifest: RoundManifest,
    readonly secagg: SecAggManifest,
  ) {
    this.store = new SecAggStore(s.db);
    this.me = s.config.institution_id;
    this.participants = manifest.participants.map((p) => p.institution_id);
    this.identityKeys = new Map(
      manifest.participants.map((p) => [p.institution_id, new Uint8Array(Buffer.from(p.ed25519_public_key, 'base64'))]),
    );
  }

  /** Open the node, fetch and verify the manifest (logged); `SB_ERR_NOT_MASKED` for an unmasked round. */
  static async open(o: AuditedClientOptions & { roundId: string }): Promise<RoundSession> {
    const s = await openAuditedSession(o);
    try {
      const manifest = await fetchManifestAudited(s, o.roundId);
      if (!manifest.secagg)
        throw s.refusal(
          'round',
          o.roundId,
          new SbError(
            'SB_ERR_NOT_MASKED',
            [
              `round ${o.roundId} is not masked (no secure aggregation in its manifest);`,
              `send the contribution with 'sectorbench node submit'.`,
            ].join(' '),
          ),
        );
      return new RoundSession(s, o.home, manifest, manifest.secagg);
    } catch (e) {
      s.close();
      throw e;
    }
  }

  get roundId(): string {
    return this.manifest.round_id;
  }

  now(): Date {
    return this.s.now();
  }

  close(): void {
    this.s.close();
  }

  /**
   * Send this phase's message: build it once (stored with its digest before sending, and logged),
   * send the stored bytes again on every run until the coordinator's signed acknowledgement of
   * exactly this digest is kept. Offline (air-gapped node), returns null while the request waits
   * in the export file for its carried answer, so the run goes on to ask for the phase's relay in
   * the same file (one carry per phase).
   */
  async send(
    phase: SecAggPhase,
    build: () => { items: PhaseMessage['items']; log?: Record<string, unknown> },
  ): Promise<PhaseAck | null> {
    let entry = this.store.outbox(this.roundId, phase);
    if (!entry) {
      const built = build();
      const message: PhaseMessage = {
        type: 'sectorbench.secagg-message',
        version: 1,
        round_id: this.roundId,
        phase,
        from: this.me,
        items: built.items,
      };
      const digest = createHash('sha256').update(canonicalBytes(message)).digest('hex');
      const bytes = Buffer.byteLength(JSON.stringify(message));
      this.store.tx(() => {
        this.store.saveOutbox(message, digest, this.now());
        appendAudit(this.s.db, this.s.identity, {
          kind: 'secagg_message',
          roundId: this.roundId,
          at: this.now(),
          payload: {
            phase,
            digest,
            bytes,
            items: message.items.map((i) => ({ to: i.to, payload_digest: canonicalDigest(i.payload as object) })),
            ...(phase === 'share' ? {} : { message }),
            ...(built.log ?? {}),
          },
        });
      });
      entry = { message, digest, ack: null };
    }
    if (entry.ack) return entry.ack;
    const body = new Uint8Array(Buffer.from(JSON.stringify(entry.message)));
    let res: Response;
    try {
      res = await this.s.client.send('POST', ROUTES.secaggPhase(this.roundId, phase), body);
    } catch (e) {
      if (isAirgapPending(e)) return null;
      throw this.s.refusal(`secagg:${phase}`, this.roundId, e);
    }
    const ack = PhaseAckSchema.safeParse(JSON.parse(res.body.toString('utf8')));
    const pinned = new Uint8Array(Buffer.from(this.s.config.pinned.coordinator.ed25519_public_key, 'base64'));
    if (
      !ack.success ||
      ack.data.digest !== entry.digest ||
      ack.data.phase !== phase ||
      ack.data.institution_id !== this.me ||
      !verifyObject(PURPOSE.secaggAck, ack.data as unknown as Record<string, unknown>, 'coordinator_signature', pinned)
    )
      throw this.s.refusal(
        `secagg:${phase}`,
        this.roundId,
        new SbError(
          'SB_ERR_RECEIPT_INVALID',
          [
            `the coordinator's acknowledgement of the ${phase} message is not signed by the pinned`,
            'coordinator key or names another message;',
            'run the command again, and contact the coordinator if it persists.',
          ].join(' '),
        ),
      );
    this.store.tx(() => {
      this.store.saveAck(ack.data);
      appendAudit(this.s.db, this.s.identity, {
        kind: 'secagg_ack',
        roundId: this.roundId,
        at: this.now(),
        payload: { phase, ack: ack.data },
      });
    });
    return ack.data;
  }

  /**
   * What an ended phase relays to this node: the stored copy when there is one (a coordinator
   * cannot change its story afterwards), else fetched, checked by `check` and stored. Throws
   * {@link Waiting} while the phase runs.
   */
  async relay(phase: SecAggPhase, check?: (r: PhaseRelay) => void): Promise<PhaseRelay> {
    const stored = this.store.relay(this.roundId, phase);
    if (stored) return stored;
    let res: Response;
    try {
      res = await this.s.client.send('GET', ROUTES.secaggPhase(this.roundId, phase));
    } catch (e) {
      if (isSbError(e) && e.code === 'SB_ERR_SECAGG_WAIT') {
        // Offline: the carried answer said "still running"; ask again in the next export file.
        if (this.s.offline) await this.s.client.send('GET', ROUTES.secaggPhase(this.roundId, phase)).catch(() => {});
        throw new Waiting(
          phase,
          this.s.offline ? 'other institutions (ask again: carry the next export file)' : 'other institutions',
        );
      }
      if (isAirgapPending(e)) throw new Waiting(phase, "the coordinator's answer to the export file");
      throw this.s.refusal(`secagg:${phase}`, this.roundId, e);
    }
    const p = PhaseRelaySchema.safeParse(JSON.parse(res.body.toString('utf8')));
    if (!p.success || p.data.round_id !== this.roundId || p.data.phase !== phase)
      throw this.s.refusal(
        `secagg:${phase}`,
        this.roundId,
        new SbError('SB_ERR_PROTOCOL', `the coordinator's relay of phase ${phase} is malformed; nothing more is sent.`),
      );
    try {
      check?.(p.data);
    } catch (e) {
      throw this.s.refusal(`secagg:${phase}`, this.roundId, e);
    }
    this.store.tx(() => {
      this.store.saveRelay(p.data, this.now());
      appendAudit(this.s.db, this.s.identity, {
        kind: 'secagg_relay',
        roundId: this.roundId,
        at: this.now(),
        payload: {
          phase,
          members: p.data.members,
          items: p.data.items.length,
          item_digests: p.data.items.map((i) => ({ from: i.from, digest: canonicalDigest(i.payload as object) })),
          ...(phase === 'share' ? {} : { relay: p.data }),
        },
      });
    });
    return p.data;
  }

  /** Log that this node stops in this round (fail closed), and return the error to throw. */
  failed(e: unknown): unknown {
    if (isSbError(e))
      appendAudit(this.s.db, this.s.identity, {
        kind: 'secagg_outcome',
        roundId: this.roundId,
        at: this.now(),
        payload: { code: e.code, message: e.message },
      });
    return e;
  }
}
