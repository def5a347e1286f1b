import { advanceRound, secaggStatus } from '../coordinator/index.js';
import type { SecAggPhase } from '../schemas/secagg.js';
import { runRound, type RoundProgress } from '../node/round/run-round.js';
import { SbError } from '../shared/errors/sb-error.js';
import type { LocalNode, LocalRound, LocalRoundOptions } from './local-round.js';

/** Options of {@link runMaskedPhases}. */
export interface MaskedPhasesOptions {
  /** Approvals before the masked input (issue 6). */
  beforeSubmit?: LocalRoundOptions['beforeSubmit'];
  /** Institutions that drop out after sharing their keys (the last `drop` of the round). */
  drop?: number;
  /** Stop every node after this phase too (tests of failing rounds). */
  stopAfter?: SecAggPhase;
}

/** What happened to each node. */
export interface MaskedPhasesResult {
  progress: Map<string, RoundProgress>;
  dropped: string[];
  /** Phases the coordinator ended early because some nodes did not act. */
  forced: SecAggPhase[];
}

/**
 * Every node runs `node round` over HTTP until each has done its part, as cron would run it:
 * advertise keys, share keys, (approval) masked input, survivor-set signature, reveal. The
 * last `drop` institutions stop after sharing their keys; when no node can move on because
 * they are missing, the coordinator's operator ends the phase early (`round advance --force`),
 * and the round goes on with the survivors — or fails closed below t.
 *
 * @throws SbError the first refusal of a node (e.g. `SB_ERR_SECAGG_BELOW_THRESHOLD`)
 */
export async function runMaskedPhases(round: LocalRound, o: MaskedPhasesOptions = {}): Promise<MaskedPhasesResult> {
  if (!round.masking) throw new SbError('SB_ERR_USAGE', `round ${round.roundId} is not masked.`);
  const drop = o.drop ?? 0;
  if (drop < 0 || drop >= round.nodes.length)
    throw new SbError('SB_ERR_USAGE', `--drop ${drop}: give a number from 0 to ${round.nodes.length - 1}.`);
  const dropped = round.nodes.slice(round.nodes.length - drop).map((n) => n.id);
  const progress = new Map<string, RoundProgress>();
  const forced: SecAggPhase[] = [];
  for (const node of round.nodes) if (!dropped.includes(node.id)) await o.beforeSubmit?.(node, round);
  const active = (n: LocalNode) => {
    const p = progress.get(n.id);
    return !p || p.state === 'waiting';
  };
  for (let pass = 0; pass < 20 && round.nodes.some(active); pass++) {
    let moved = false;
    for (const node of round.nodes.filter(active)) {
      const stopAfter = dropped.includes(node.id) ? 'share' : o.stopAfter;
      const p = await runRound({
        home: node.home,
        roundId: round.roundId,
        now: round.now,
        ...(stopAfter ? { stopAfter } : {}),
      });
      progress.set(node.id, p);
      for (const s of p.steps) round.log(`${node.id}: ${s}`);
      if (p.steps.length > 0) moved = true;
      if (p.state === 'stopped' && dropped.includes(node.id)) round.log(`${node.id}: drops out after sharing its keys`);
    }
    if (!moved && round.nodes.some(active)) {
      const st = secaggStatus(round.coordinator.db, round.roundId, round.now());
      const running = st.phases.find((p) => p.state === 'running');
      if (!running) break;
      round.log(
        `coordinator: phase ${running.phase} ends early (round advance --force); missing: ${running.missing.join(', ')}`,
      );
      const after = advanceRound(round.coordinator.db, round.roundId, round.now(), { force: true });
      forced.push(running.phase);
      if (after.failure) throw new SbError(after.failure.code, after.failure.message, { phase: after.failure.phase });
    }
  }
  return { progress, dropped, forced };
}
