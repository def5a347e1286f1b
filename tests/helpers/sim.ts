/**
 * Checked accessors into the in-process SecAgg simulation (bench/secagg/simulate.ts): each throws
 * when the node or the phase's state is missing, where a cast would let `undefined` through.
 */
import type { SimNode, SimRound } from '../../bench/secagg/simulate.js';
import type { PeerKeys } from '../../shared/secagg/keys.js';

/** The simulated node `id` of round `r`. */
export function simNode(r: Pick<SimRound, 'nodes'>, id: string): SimNode {
  const n = r.nodes.get(id);
  if (!n) throw new Error(`no simulated node ${id}`);
  return n;
}

/** The peers' advertised keys node `n` verified (after advertiseAll). */
export function peersOf(n: SimNode): Map<string, PeerKeys> {
  if (!n.peers) throw new Error(`${n.id} has no verified peers yet`);
  return n.peers;
}

/** Node `n`'s masked input (after maskAll). */
export function maskedOf(n: SimNode): BigUint64Array {
  if (!n.masked) throw new Error(`${n.id} has no masked input yet`);
  return n.masked;
}
