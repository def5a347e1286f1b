import { randomBytes } from 'node:crypto';
import { split } from 'shamir-secret-sharing';
import nacl from 'tweetnacl';
import { EncryptedSharesSchema, type EncryptedShares } from '../../schemas/secagg-messages.js';
import { SbError } from '../errors/sb-error.js';
import { canonicalBytes } from '../protocol/canonical.js';
import { b64, type RandomBytes, unb64 } from './bytes.js';
import { type MaskGraph, neighbours } from './graph.js';
import type { PeerKeys, RoundSecrets } from './keys.js';
import { checkThreshold } from './threshold.js';

/** Byte length of one Shamir share of a 32-byte secret (`shamir-secret-sharing`: value bytes + x-coordinate). */
export const SHARE_BYTES = 33;

/** The two shares a node holds of one peer's secrets (or of its own). */
export interface HeldShares {
  /** Whose secrets these are shares of. */
  from: string;
  /** Shamir share (33 bytes) of `from`'s self-mask seed. */
  selfSeedShare: Uint8Array;
  /** Shamir share (33 bytes) of `from`'s mask secret key. */
  maskKeyShare: Uint8Array;
}

/** Output of {@link shareKeys}. */
export interface ShareKeysResult {
  /** Sorted ids of the nodes that hold shares of this node's secrets (itself included). */
  shareholders: string[];
  /** One box per other shareholder, to relay through the coordinator. */
  outgoing: EncryptedShares[];
  /** The node's own pair of shares; keep it with the shares received from peers. */
  own: HeldShares;
}

/** Options of {@link shareKeys}. */
export interface ShareKeysOptions {
  secrets: RoundSecrets;
  /** Verified advertisements of the round (verifyAdvertisedKeys): the nodes that completed round 0. */
  peers: ReadonlyMap<string, PeerKeys>;
  /** Every participant id of the manifest. */
  participants: readonly string[];
  graph: MaskGraph;
  /** Shamir threshold t of the manifest. */
  threshold: number;
  /** Nonce source (default node:crypto). Shamir's own coefficients always come from the OS CSPRNG. */
  random?: RandomBytes;
}

function plaintext(roundId: string, from: string, to: string, s: HeldShares): Uint8Array {
  return canonicalBytes({
    type: 'sectorbench.secagg-shares-plaintext',
    round_id: roundId,
    from,
    to,
    self_seed_share: b64(s.selfSeedShare),
    mask_key_share: b64(s.maskKeyShare),
  });
}

/**
 * Round 1, share keys: split the self-mask seed and the mask secret key t-of-m with Shamir
 * (`shamir-secret-sharing`, GF(2^8), audited), where the m shareholders are this node and its
 * neighbours in the graph that advertised keys; encrypt each peer's pair of shares to that peer's
 * box key with nacl.box from this node's box key. The plaintext names round, sender and
 * recipient, so a box cannot be replayed to another peer or round.
 *
 * @returns the boxes to send (one per peer) and the node's own pair of shares
 * @throws SbError `SB_ERR_SECAGG_BELOW_THRESHOLD` when fewer than t shareholders advertised keys
 *   (the round cannot reach t survivors; nothing is shared), `SB_ERR_SECAGG_PARAMS` on a bad
 *   threshold or graph
 * @see Bonawitz et al., CCS 2017, Figure 4, round 1 (ShareKeys)
 */
export async function shareKeys(options: ShareKeysOptions): Promise<ShareKeysResult> {
  const { secrets, peers, graph, threshold } = options;
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const me = secrets.institutionId;
  const shareholders = [
    me,
    ...neighbours(secrets.roundId, options.participants, graph, me).filter((p) => peers.has(p)),
  ].sort();
  if (shareholders.length < threshold) {
    throw new SbError(
      'SB_ERR_SECAGG_BELOW_THRESHOLD',
      `only ${shareholders.length} node(s) including this one advertised keys, fewer than the threshold ` +
        `t = ${threshold}: round ${secrets.roundId} cannot be unmasked, so nothing is shared. The ` +
        'round fails closed; the coordinator must open a new round.',
      { shareholders: shareholders.length, threshold },
    );
  }
  checkThreshold(threshold, shareholders.length);
  const seedShares = await split(secrets.selfSeed, shareholders.length, threshold);
  const keyShares = await split(secrets.maskSecretKey, shareholders.length, threshold);
  const outgoing: EncryptedShares[] = [];
  let own: HeldShares | undefined;
  shareholders.forEach((to, i) => {
    const held: HeldShares = {
      from: me,
      selfSeedShare: seedShares[i] as Uint8Array,
      maskKeyShare: keyShares[i] as Uint8Array,
    };
    if (to === me) {
      own = held;
      return;
    }
    const peer = peers.get(to) as PeerKeys;
    const nonce = random(nacl.box.nonceLength);
    const box = nacl.box(plaintext(secrets.roundId, me, to, held), nonce, peer.boxPublicKey, secrets.boxSecretKey);
    outgoing.push({
      type: 'sectorbench.secagg-shares',
      version: 1,
      round_id: secrets.roundId,
      from: me,
      to,
      nonce: b64(nonce),
      box: b64(box),
    });
  });
  return { shareholders, outgoing, own: own as HeldShares };
}

/**
 * Open the share boxes relayed to this node (round 1 output): each must parse, be for this
 * round and this node, come from a node with a verified advertisement, open with that node's
 * box key, and carry the same round, sender and recipient inside; one box per sender.
 *
 * @param received the relayed payloads (unknown JSON)
 * @returns sender id -> its pair of shares held by this node, in id order
 * @throws SbError `SB_ERR_SECAGG_SHARE` naming the sender of a box that fails any check (the
 *   node should stop: a coordinator that tampers with boxes is misbehaving)
 */
export function openShares(
  secrets: RoundSecrets,
  received: readonly unknown[],
  peers: ReadonlyMap<string, PeerKeys>,
): Map<string, HeldShares> {
  const me = secrets.institutionId;
  const out = new Map<string, HeldShares>();
  for (const [i, raw] of received.entries()) {
    const p = EncryptedSharesSchema.safeParse(raw);
    const from = p.success ? p.data.from : `item ${i}`;
    const bad = (why: string): SbError =>
      new SbError(
        'SB_ERR_SECAGG_SHARE',
        `the shares relayed from ${from} in round ${secrets.roundId} ${why}; stop taking part and tell the coordinator.`,
        { from, index: i },
      );
    if (!p.success) throw bad('are not a share box');
    const e = p.data;
    if (e.round_id !== secrets.roundId) throw bad(`are for round ${e.round_id}`);
    if (e.to !== me) throw bad(`are addressed to ${e.to}, not to this node`);
    if (out.has(e.from)) throw bad('came twice');
    const peer = peers.get(e.from);
    if (!peer) throw bad('come from a node without a verified key advertisement');
    const opened = nacl.box.open(unb64(e.box), unb64(e.nonce), peer.boxPublicKey, secrets.boxSecretKey);
    if (!opened) throw bad('do not open with its advertised key (forged or altered)');
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(new TextDecoder().decode(opened)) as Record<string, unknown>;
    } catch {
      throw bad('hold no JSON');
    }
    if (
      j.type !== 'sectorbench.secagg-shares-plaintext' ||
      j.round_id !== secrets.roundId ||
      j.from !== e.from ||
      j.to !== me ||
      typeof j.self_seed_share !== 'string' ||
      typeof j.mask_key_share !== 'string'
    )
      throw bad('name another round, sender or recipient inside the box');
    const selfSeedShare = unb64(j.self_seed_share as string);
    const maskKeyShare = unb64(j.mask_key_share as string);
    if (selfSeedShare.length !== SHARE_BYTES || maskKeyShare.length !== SHARE_BYTES)
      throw bad('have shares of the wrong size');
    out.set(e.from, { from: e.from, selfSeedShare, maskKeyShare });
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
