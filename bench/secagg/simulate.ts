/**
 * A secure-aggregation round simulated in one process (tests and bench/secagg): every node's
 * secrets, advertisements, share boxes, masked inputs, survivor-set signatures and reveals, made
 * with shared/secagg only (no node/, coordinator/ or HTTP). The "coordinator" here is honest
 * unless a test overrides what it relays.
 */
import { createHash } from 'node:crypto';
import type {
  AdvertisedKeys,
  EncryptedReveal,
  EncryptedShares,
  SurvivorSetSignature,
} from '../../schemas/secagg-messages.js';
import { split } from 'shamir-secret-sharing';
import { identityFromSeed, type Identity } from '../../shared/crypto/identity.js';
import {
  advertiseKeys,
  buildReveal,
  generateRevealKeyPair,
  generateRoundSecrets,
  type HeldShares,
  type MaskGraph,
  maskInput,
  neighbours,
  openShares,
  type PeerKeys,
  type RevealKeyPair,
  type RoundSecrets,
  shareKeys,
  signSurvivorSet,
  verifyAdvertisedKeys,
} from '../../shared/secagg/index.js';

/** Deterministic random bytes from a label (tests and benchmarks only: reproducible secrets). */
export function seededRandom(label: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const h = createHash('sha256').update(`${label}/${counter++}`).digest();
      out.set(h.subarray(0, Math.min(32, n - off)), off);
      off += 32;
    }
    return out;
  };
}

export interface SimNode {
  id: string;
  identity: Identity;
  secrets: RoundSecrets;
  advertised: AdvertisedKeys;
  peers?: Map<string, PeerKeys>;
  outgoing?: EncryptedShares[];
  held?: Map<string, HeldShares>;
  masked?: BigUint64Array;
}

export interface SimRound {
  roundId: string;
  ids: string[];
  threshold: number;
  graph: MaskGraph;
  identityKeys: Map<string, Uint8Array>;
  nodes: Map<string, SimNode>;
  keyHolder: RevealKeyPair;
  advertisements: AdvertisedKeys[];
}

/** Round 0 for `ids`: secrets (seeded by `seed`), advertisements, verified by every node. */
export function advertiseAll(o: {
  roundId: string;
  ids: string[];
  threshold: number;
  graph: MaskGraph;
  seed?: string;
}): SimRound {
  const seed = o.seed ?? 'sim';
  const nodes = new Map<string, SimNode>();
  const identityKeys = new Map<string, Uint8Array>();
  o.ids.forEach((id, i) => {
    const identity = identityFromSeed(seededRandom(`${seed}/identity/${i}`)(32));
    const secrets = generateRoundSecrets(o.roundId, id, seededRandom(`${seed}/secrets/${id}`));
    identityKeys.set(id, identity.publicKey);
    nodes.set(id, { id, identity, secrets, advertised: advertiseKeys(secrets, identity.secretKey) });
  });
  const advertisements = [...nodes.values()].map((n) => n.advertised);
  // Every node would verify the same list to the same map: verify once (n^2 signature checks
  // would only slow the simulation down; a node's own cost is one verifyAdvertisedKeys).
  const peers = verifyAdvertisedKeys(o.roundId, advertisements, identityKeys);
  for (const n of nodes.values()) n.peers = peers;
  return {
    roundId: o.roundId,
    ids: o.ids,
    threshold: o.threshold,
    graph: o.graph,
    identityKeys,
    nodes,
    keyHolder: generateRevealKeyPair(seededRandom(`${seed}/keyholder`)),
    advertisements,
  };
}

/** Round 1: every node shares; every node opens the boxes addressed to it. */
export async function shareAll(r: SimRound): Promise<void> {
  const own = new Map<string, HeldShares>();
  for (const n of r.nodes.values()) {
    const s = await shareKeys({
      secrets: n.secrets,
      peers: n.peers as Map<string, PeerKeys>,
      participants: r.ids,
      graph: r.graph,
      threshold: r.threshold,
    });
    n.outgoing = s.outgoing;
    own.set(n.id, s.own);
  }
  const all = [...r.nodes.values()].flatMap((n) => n.outgoing ?? []);
  for (const n of r.nodes.values()) {
    const held = openShares(
      n.secrets,
      all.filter((e) => e.to === n.id),
      n.peers as Map<string, PeerKeys>,
    );
    held.set(n.id, own.get(n.id) as HeldShares);
    n.held = held;
  }
}

/**
 * Round 1 without the boxes (benchmarks at 500 nodes only): each node's secrets split among its
 * shareholders with the same library, the shares put straight into the holders' maps. The boxes
 * cost is measured per node separately with {@link shareKeys}.
 */
export async function shareAllDirect(r: SimRound): Promise<void> {
  for (const n of r.nodes.values()) n.held = new Map();
  for (const n of r.nodes.values()) {
    const holders = [n.id, ...neighbours(r.roundId, r.ids, r.graph, n.id)].sort();
    const seeds = await split(n.secrets.selfSeed, holders.length, r.threshold);
    const keys = await split(n.secrets.maskSecretKey, holders.length, r.threshold);
    holders.forEach((h, i) => {
      (r.nodes.get(h) as SimNode).held?.set(n.id, {
        from: n.id,
        selfSeedShare: seeds[i] as Uint8Array,
        maskKeyShare: keys[i] as Uint8Array,
      });
    });
  }
}

/** Round 2 for the nodes in `survivors`: mask their slots with U2 = every node. */
export function maskAll(r: SimRound, slots: ReadonlyMap<string, BigUint64Array>, survivors: readonly string[]): void {
  for (const id of survivors) {
    const n = r.nodes.get(id) as SimNode;
    n.masked = maskInput({
      secrets: n.secrets,
      slots: slots.get(id) as BigUint64Array,
      peers: n.peers as Map<string, PeerKeys>,
      shared: r.ids,
      participants: r.ids,
      graph: r.graph,
    });
  }
}

/** Round 3: each survivor signs (U2 = every node, U3 = survivors). */
export function signAll(r: SimRound, survivors: readonly string[]): SurvivorSetSignature[] {
  return survivors.map((id) => {
    const n = r.nodes.get(id) as SimNode;
    return signSurvivorSet(r.roundId, id, { shared: r.ids, survivors }, n.identity.secretKey);
  });
}

/** Round 4: each survivor reveals (no earlier record). */
export function revealAll(
  r: SimRound,
  survivors: readonly string[],
  signatures: readonly SurvivorSetSignature[],
): EncryptedReveal[] {
  return survivors.map((id) => {
    const n = r.nodes.get(id) as SimNode;
    return buildReveal({
      secrets: n.secrets,
      held: n.held as Map<string, HeldShares>,
      sets: { shared: r.ids, survivors },
      signatures,
      identityKeys: r.identityKeys,
      threshold: r.threshold,
      previous: null,
      keyHolderRevealKey: r.keyHolder.publicKey,
    }).reveal;
  });
}
