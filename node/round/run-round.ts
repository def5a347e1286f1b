import type { Clock } from '../../shared/time/clock.js';
import type { Dispatcher } from 'undici';
import { type PhaseRelay, SECAGG_PHASES, type SecAggPhase } from '../../schemas/secagg.js';
import { isSbError, SbError } from '../../shared/errors/sb-error.js';
import {
  advertiseKeys,
  buildReveal,
  generateRoundSecrets,
  type MaskPool,
  maskInputParallel,
  openShares,
  type PeerKeys,
  type RoundSecrets,
  secretsMatch,
  shareKeys,
  signSurvivorSet,
  verifyAdvertisedKeys,
} from '../../shared/secagg/index.js';
import { submitWithSession } from './submit.js';
import { RoundStore } from '../store/round-store.js';
import { type ExportResult, exportPending } from '../client/airgap-files.js';
import { readNodeConfig } from '../client/config.js';
import { isOffline } from '../audit/session.js';
import { isAirgapPending, RoundSession, Waiting } from './session.js';

/** Options of {@link runRound}. */
export interface RunRoundOptions {
  home: string;
  roundId: string;
  coordinatorUrl?: string;
  dispatcher?: Dispatcher;
  now?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Stop after this phase (tests and the demo's `--drop`: an institution that shared its keys
   * and then went away). Default: go as far as the round allows.
   */
  stopAfter?: SecAggPhase;
  onStep?: (line: string) => void;
  /**
   * Air-gapped (issue 16, item 3): no network; requests wait in the node's database and every run
   * that made new ones writes them into one signed export file to carry to the coordinator
   * (node/client/airgap-files.ts). Default: the config's `transport`.
   */
  offline?: boolean;
  /** Folder for export files (default `<home>/airgap`). */
  exportDir?: string;
  /** Threads the masked input is computed on (default: the process-wide mask pool, shared/secagg/mask-pool.ts). */
  maskPool?: MaskPool;
  /**
   * Called as the masked-input step enters each stage (`compute`, `approval`, `encrypt`, `send`;
   * node/round/submit.ts): benchmarks time the stages with it (bench/round).
   */
  onPhase?: (phase: string) => void;
}

/** Where this node stands in a masked round after one run of {@link runRound}. */
export interface RoundProgress {
  roundId: string;
  /**
   * `waiting`: the node did what it could and waits for others or for a phase deadline;
   * `done`: it revealed its shares, the key holder can release; `dropped`: the round went on
   * without it; `stopped`: `stopAfter` reached.
   */
  state: 'waiting' | 'done' | 'dropped' | 'stopped';
  /** The phase the node is in (the next it acts in, or waits for). */
  phase: SecAggPhase;
  /** In words, for the operator. */
  message: string;
  /** What this run did (one line per step). */
  steps: string[];
  /** Offline: the export file this run wrote, to carry to the coordinator. */
  carry?: ExportResult;
}

/**
 * `sectorbench node round`: take part in a masked round (issue 10; Bonawitz et al., CCS 2017,
 * via shared/secagg). Does every step that is possible now and returns; safe to run again at
 * any time (from cron): each step is decided by what the node's database holds, every message
 * is stored before it is sent and resent unchanged, every relay is kept as first received. The
 * steps: advertise keys → (advertisements relayed) share keys → (U2 relayed) masked input,
 * which needs the privacy officers' approval of the vector → (U3 relayed) sign the survivor set
 * → (signatures relayed) reveal to the key holder, never both shares of one peer.
 *
 * @throws SbError when this node refuses (e.g. `SB_ERR_SECAGG_CONSISTENCY` when fewer than t
 *   survivors signed the same set, `SB_ERR_SECAGG_DOUBLE_REVEAL`), when the round failed closed
 *   (`SB_ERR_SECAGG_BELOW_THRESHOLD`), or the approval is missing (`SB_ERR_APPROVAL_MISSING`).
 *   Each is logged in the audit log.
 */
export async function runRound(o: RunRoundOptions): Promise<RoundProgress> {
  let p: RoundProgress;
  try {
    p = await runRoundOnce(o);
  } catch (e) {
    // Offline and not even the manifest is here yet: the run stops at its first request.
    if (!isAirgapPending(e)) throw e;
    p = {
      roundId: o.roundId,
      state: 'waiting',
      phase: 'advertise',
      message: `waiting for the manifest of round ${o.roundId} from the coordinator.`,
      steps: [],
    };
  }
  if ((p.state === 'waiting' || p.state === 'done') && isOffline(readNodeConfig(o.home), o.offline)) {
    const carry = await exportPending({
      home: o.home,
      ...(o.now ? { now: o.now } : {}),
      ...(o.exportDir ? { out: o.exportDir } : {}),
      onlyNew: true,
    });
    if (carry) {
      p.carry = carry;
      p.message =
        `${p.message} Carry ${carry.file} to the coordinator ('sectorbench coordinator import'), ` +
        "then import its answer here ('sectorbench node import-response') and run this command again.";
    }
  }
  return p;
}

async function runRoundOnce(o: RunRoundOptions): Promise<RoundProgress> {
  const r = await RoundSession.open(o);
  const steps: string[] = [];
  const step: Step = (line) => {
    steps.push(line);
    o.onStep?.(line);
  };
  const progress = (state: RoundProgress['state'], phase: SecAggPhase, message: string): RoundProgress => ({
    roundId: r.roundId,
    state,
    phase,
    message,
    steps,
  });
  const stop = (phase: SecAggPhase) => o.stopAfter === phase;
  try {
    const { me, roundId } = r;
    // 0. Advertise keys.
    const own = await advertise(r, step);
    if (stop('advertise')) return progress('stopped', 'share', 'stopped after advertising keys');
    const { peers, ads } = await advertisedPeers(r, own);
    if (!ads.members.includes(me))
      return progress(
        'dropped',
        'advertise',
        `this node's keys arrived after the advertise phase ended; round ${roundId} goes on without it.`,
      );
    // 1. Share keys.
    await share(r, own, peers, step);
    if (stop('share')) return progress('stopped', 'masked_input', 'stopped after sharing keys');
    const u2 = await sharedSet(r, own, peers);
    if (!u2.includes(me))
      return progress(
        'dropped',
        'share',
        `this node's key shares arrived after the share phase ended; round ${roundId} goes on without it.`,
      );
    // 2. Masked input (needs the approval of the vector; the outbox makes it idempotent).
    const early = await maskedInput(r, o, { own, peers, ads, u2 }, step, progress);
    if (early) return early;
    if (stop('masked_input')) return progress('stopped', 'consistency', 'stopped after the masked input');
    // 3. Consistency check: sign U2 and U3 as relayed.
    const u3 = (await r.relay('masked_input')).members;
    if (!u3.includes(me))
      return progress(
        'dropped',
        'masked_input',
        `the coordinator did not take this node's masked input in time; round ${roundId} goes on without it and this node reveals nothing.`,
      );
    await signSurvivors(r, u2, u3, step);
    if (stop('consistency')) return progress('stopped', 'unmask', 'stopped after signing the survivor set');
    // 4. Unmasking: consistency first, never both shares of one peer, record persisted before sending.
    await reveal(r, own, u2, u3, step);
    return progress(
      'done',
      'unmask',
      `this node has done its part of round ${roundId}; the key holder can release after the unmask phase (until ${r.secagg.deadlines.unmask}).`,
    );
  } catch (e) {
    if (e instanceof Waiting) {
      const ph = e.phase;
      return progress(
        'waiting',
        nextPhase(ph),
        `phase ${ph} runs until ${r.secagg.deadlines[ph]}; waiting for ${e.reason}. Run this command again later (it resumes where it stopped).`,
      );
    }
    if (isSbError(e) && e.code === 'SB_ERR_SECAGG_BELOW_THRESHOLD') throw r.failed(e);
    throw e;
  } finally {
    r.close();
  }
}

type Step = (line: string) => void;
type Progress = (state: RoundProgress['state'], phase: SecAggPhase, message: string) => RoundProgress;

/** Phase 0: this round's secrets (made once, stored), and the signed advertisement sent (again). */
async function advertise(r: RoundSession, step: Step): Promise<RoundSecrets> {
  const { me, roundId } = r;
  let secrets = r.store.secrets(roundId);
  if (!secrets) {
    secrets = generateRoundSecrets(roundId, me);
    r.store.saveSecrets(secrets, r.now());
  }
  const own = secrets;
  const sentAdvertise = r.store.outbox(roundId, 'advertise')?.ack;
  await r.send('advertise', () => ({ items: [{ to: null, payload: advertiseKeys(own, r.s.identity.secretKey) }] }));
  if (!sentAdvertise) step('keys advertised');
  return own;
}

/**
 * The advertise relay, verified (and this node's own advertisement in it unchanged).
 * @throws SbError `SB_ERR_SECAGG_KEYS` when the relay holds another advertisement for this node
 */
async function advertisedPeers(
  r: RoundSession,
  own: RoundSecrets,
): Promise<{ peers: Map<string, PeerKeys>; ads: PhaseRelay }> {
  const { me, roundId } = r;
  let peers: Map<string, PeerKeys> = new Map();
  const ads = await r.relay('advertise', (rel) => {
    peers = verifyAdvertisedKeys(
      roundId,
      rel.items.map((i) => i.payload),
      r.identityKeys,
    );
    const mine = peers.get(me);
    if (rel.members.includes(me) && (!mine || !secretsMatch(own, mine)))
      throw new SbError(
        'SB_ERR_SECAGG_KEYS',
        [
          'the coordinator relayed another advertisement for this node than the one it sent in',
          `round ${roundId}; stop and tell the coordinator.`,
        ].join(' '),
      );
  });
  if (peers.size === 0)
    peers = verifyAdvertisedKeys(
      roundId,
      ads.items.map((i) => i.payload),
      r.identityKeys,
    );
  return { peers, ads };
}

/** Phase 1: Shamir-share the secrets, one box per shareholder, own share kept (made once, resent as stored). */
async function share(r: RoundSession, own: RoundSecrets, peers: Map<string, PeerKeys>, step: Step): Promise<void> {
  const { roundId, secagg } = r;
  const sentShare = r.store.outbox(roundId, 'share')?.ack;
  if (!r.store.outbox(roundId, 'share')) {
    const res = await shareKeys({
      secrets: own,
      peers,
      participants: r.participants,
      graph: secagg.graph,
      threshold: secagg.threshold,
    });
    r.store.saveHeldShares(roundId, [res.own]);
    await r.send('share', () => ({
      items: res.outgoing.map((b) => ({ to: b.to, payload: b })),
      log: { shareholders: res.shareholders },
    }));
  } else await r.send('share', () => ({ items: [] }));
  if (!sentShare) step('key shares sent, each encrypted to its peer');
}

/** The share relay: the boxes addressed to this node opened and stored; returns U2. */
async function sharedSet(r: RoundSession, own: RoundSecrets, peers: Map<string, PeerKeys>): Promise<string[]> {
  const shared = await r.relay('share', (rel) => {
    const held = openShares(
      own,
      rel.items.map((i) => i.payload),
      peers,
    );
    r.store.saveHeldShares(r.roundId, held.values());
  });
  return shared.members;
}

/**
 * Phase 2: the masked input, through the submit path (approval, mask on the mask pool, encrypt,
 * sign, store, audit log, send, receipt), unless a receipt is already held. Returns a progress
 * when the node has to wait (approval) or was left out (phase ended); null to go on.
 */
async function maskedInput(
  r: RoundSession,
  o: RunRoundOptions,
  k: { own: RoundSecrets; peers: Map<string, PeerKeys>; ads: PhaseRelay; u2: string[] },
  step: Step,
  progress: Progress,
): Promise<RoundProgress | null> {
  const { roundId, secagg } = r;
  if (new RoundStore(r.s.db).hasReceipt(roundId)) return null;
  try {
    const sub = await submitWithSession(r.s, r.home, r.manifest, {
      ...(o.onPhase ? { onPhase: o.onPhase } : {}),
      masking: {
        mask: (slots) =>
          maskInputParallel(
            { secrets: k.own, slots, peers: k.peers, shared: k.u2, participants: r.participants, graph: secagg.graph },
            o.maskPool,
          ),
        log: {
          public: {
            protocol: secagg.protocol,
            shared: k.u2,
            graph: secagg.graph,
            advertisements: k.ads.items.map((i) => i.payload),
          },
          secret: {
            secagg_self_seed: Buffer.from(k.own.selfSeed).toString('base64'),
            secagg_mask_secret_key: Buffer.from(k.own.maskSecretKey).toString('base64'),
          },
        },
      },
    });
    step(`masked input sent (${sub.wireBytes.toLocaleString('en-GB')} bytes, receipt ${sub.receipt.sequence})`);
  } catch (e) {
    if (isSbError(e) && (e.code === 'SB_ERR_APPROVAL_MISSING' || e.code === 'SB_ERR_NO_APPROVERS'))
      return progress(
        'waiting',
        'masked_input',
        [
          `waiting for the privacy officers' approval of the vector`,
          `(until ${secagg.deadlines.masked_input}): ${e.message}`,
        ].join(' '),
      );
    if (isSbError(e) && (e.code === 'SB_ERR_SECAGG_PHASE_ENDED' || e.code === 'SB_ERR_SECAGG_NOT_EXPECTED'))
      return progress(
        'dropped',
        'masked_input',
        `the masked-input phase ended before this node's input arrived; round ${roundId} goes on without it.`,
      );
    // Offline: the masked input waits in the export file; ask for the phase's relay with it.
    if (!isAirgapPending(e)) throw e;
    step('masked input stored, to be carried in the export file');
  }
  return null;
}

/** Phase 3: sign U2 and U3 as relayed (once; resent as stored). */
async function signSurvivors(r: RoundSession, u2: string[], u3: string[], step: Step): Promise<void> {
  const { me, roundId } = r;
  const sentSig = r.store.outbox(roundId, 'consistency')?.ack;
  await r.send('consistency', () => ({
    items: [{ to: null, payload: signSurvivorSet(roundId, me, { shared: u2, survivors: u3 }, r.s.identity.secretKey) }],
  }));
  if (!sentSig) step(`survivor set signed (${u3.length} survivors of ${u2.length})`);
}

/**
 * Phase 4: the reveal to the key holder — only after t matching survivor signatures, never both
 * shares of one peer, the record persisted before sending.
 * @throws Waiting until the coordinator acknowledges the reveal (offline: the export file)
 */
async function reveal(r: RoundSession, own: RoundSecrets, u2: string[], u3: string[], step: Step): Promise<void> {
  const { roundId, secagg } = r;
  const sigs = await r.relay('consistency');
  const sentReveal = r.store.outbox(roundId, 'unmask')?.ack;
  if (!r.store.outbox(roundId, 'unmask')) {
    const key = new Uint8Array(Buffer.from(secagg.reveal_public_key, 'base64'));
    let built: ReturnType<typeof buildReveal>;
    try {
      built = buildReveal({
        secrets: own,
        held: r.store.heldShares(roundId),
        sets: { shared: u2, survivors: u3 },
        signatures: sigs.items.map((i) => i.payload),
        identityKeys: r.identityKeys,
        threshold: secagg.threshold,
        previous: r.store.revealRecord(roundId),
        keyHolderRevealKey: key,
      });
    } catch (e) {
      throw r.failed(r.s.refusal('secagg:unmask', roundId, e));
    }
    const b = built;
    r.store.tx(() => r.store.saveRevealRecord(b.record, r.now()));
    const ack = await r.send('unmask', () => ({
      items: [{ to: null, payload: b.reveal }],
      log: { revealed: { self_seed: b.record.self_seed, mask_key: b.record.mask_key }, signers: b.proof.signers },
    }));
    if (!ack) throw new Waiting('unmask', "the coordinator's acknowledgement of the reveal (export file)");
  } else if (!(await r.send('unmask', () => ({ items: [] }))))
    throw new Waiting('unmask', "the coordinator's acknowledgement of the reveal (export file)");
  if (!sentReveal) step('shares revealed to the key holder (encrypted to its reveal key)');
}

function nextPhase(p: SecAggPhase): SecAggPhase {
  return SECAGG_PHASES[Math.min(SECAGG_PHASES.indexOf(p) + 1, SECAGG_PHASES.length - 1)] as SecAggPhase;
}

/**
 * Build a reveal for given survivor sets outside the normal flow — what a coordinator that asks
 * again with another story would get. Goes through the same persisted reveal record, so it
 * refuses to give the other share of any peer revealed before (also after a restart).
 * Exposed for the node's tests and `audit` tooling; the coordinator never reaches it directly.
 */
export async function revealAgain(
  o: { home: string; roundId: string; now?: Clock; dispatcher?: Dispatcher },
  sets: { shared: string[]; survivors: string[] },
  signatures: readonly unknown[],
): Promise<void> {
  const r = await RoundSession.open(o);
  try {
    const secrets = r.store.secrets(r.roundId);
    if (!secrets) throw new SbError('SB_ERR_SECAGG_REVEAL', `this node holds no secrets of round ${r.roundId}.`);
    const built = buildReveal({
      secrets,
      held: r.store.heldShares(r.roundId),
      sets,
      signatures,
      identityKeys: r.identityKeys,
      threshold: r.secagg.threshold,
      previous: r.store.revealRecord(r.roundId),
      keyHolderRevealKey: new Uint8Array(Buffer.from(r.secagg.reveal_public_key, 'base64')),
    });
    r.store.tx(() => r.store.saveRevealRecord(built.record, r.now()));
  } catch (e) {
    throw r.s.refusal('secagg:unmask', r.roundId, e);
  } finally {
    r.close();
  }
}
