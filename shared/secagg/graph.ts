import { createHash } from 'node:crypto';
import { SbError } from '../errors/sb-error.js';
import { MAX_SHARES } from './threshold.js';

/**
 * Which pairs of nodes mask each other and hold each other's shares.
 * - `complete`: every pair (Bonawitz et al., CCS 2017); at most {@link MAX_SHARES} participants.
 * - `harary`: the sparse graph of Bell et al., "Secure Single-Server Aggregation with
 *   (Poly)Logarithmic Overhead", CCS 2020, in the shape Flower's SecAgg+ uses: the participants
 *   on a ring in a pseudo-random order fixed by the round id, each node linked to the `degree / 2`
 *   nodes on either side (a Harary graph H(degree, n)). `degree` is even, 2 <= degree < n.
 *   Each node then shares its secrets among its neighbours and itself (`degree + 1` shareholders)
 *   and masks only with its neighbours.
 */
export type MaskGraph = { kind: 'complete' } | { kind: 'harary'; degree: number };

/** The complete graph. */
export const COMPLETE_GRAPH: MaskGraph = Object.freeze({ kind: 'complete' });

function ringKey(roundId: string, id: string): string {
  return createHash('sha256').update(`sectorbench/v1/secagg/graph\n${roundId}\n${id}`).digest('hex');
}

/**
 * Number of nodes that hold shares of one node's secrets (the node itself included): n for the
 * complete graph, degree + 1 for the sparse graph. The Shamir threshold is out of this number.
 */
export function shareholderCount(graph: MaskGraph, participants: number): number {
  return graph.kind === 'complete' ? participants : graph.degree + 1;
}

/**
 * A node's neighbours in the mask graph over the manifest's participants (itself excluded),
 * sorted by id (JavaScript string order).
 *
 * @param roundId round id (fixes the ring order of the sparse graph, so the coordinator cannot pick neighbours)
 * @param participants every participant's institution id (order does not matter; no duplicates)
 * @param graph the round's graph
 * @param id the node
 * @throws SbError `SB_ERR_SECAGG_PARAMS` when `id` is not a participant, ids repeat, the complete
 *   graph has more than 255 participants or the sparse graph's degree is not even and below n
 */
export function neighbours(roundId: string, participants: readonly string[], graph: MaskGraph, id: string): string[] {
  const n = participants.length;
  if (new Set(participants).size !== n)
    throw new SbError('SB_ERR_SECAGG_PARAMS', 'the participant list repeats an institution id; fix the manifest.');
  if (!participants.includes(id))
    throw new SbError('SB_ERR_SECAGG_PARAMS', `${id} is not a participant of round ${roundId}.`, { institution: id });
  if (graph.kind === 'complete') {
    if (n > MAX_SHARES)
      throw new SbError(
        'SB_ERR_SECAGG_PARAMS',
        `the complete mask graph takes at most ${MAX_SHARES} participants (Shamir in GF(2^8)), the round has ${n}; use the sparse graph.`,
        { participants: n },
      );
    return participants.filter((p) => p !== id).sort();
  }
  const k = graph.degree;
  if (!Number.isInteger(k) || k < 2 || k % 2 !== 0 || k >= n || k + 1 > MAX_SHARES)
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `the sparse graph's degree ${k} must be even, at least 2, below the ${n} participants and at most ${MAX_SHARES - 1}.`,
      { degree: k, participants: n },
    );
  const ring = participants
    .map((p) => ({ p, key: ringKey(roundId, p) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => e.p);
  const pos = ring.indexOf(id);
  const out = new Set<string>();
  for (let d = 1; d <= k / 2; d++) {
    out.add(ring[(pos + d) % n] as string);
    out.add(ring[(pos - d + n) % n] as string);
  }
  return [...out].sort();
}
