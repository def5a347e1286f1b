import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import {
  EncryptedRevealSchema,
  RevealRecordSchema,
  type EncryptedReveal,
  type RevealRecord,
} from '../../schemas/secagg-messages.js';
import { SbError } from '../errors/sb-error.js';
import { canonicalBytes } from '../protocol/canonical.js';
import { b64, type RandomBytes, unb64 } from './bytes.js';
import type { PeerKeys, RoundSecrets } from './keys.js';
import { SHARE_BYTES, type HeldShares } from './shares.js';
import {
  type ConsistencyProof,
  checkSurvivorSignatures,
  setsDigest,
  sortedSet,
  type SurvivorSets,
} from './survivors.js';

/** An X25519 key pair (nacl.box) of the key holder, that reveals are encrypted to. */
export interface RevealKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** Make the key holder's reveal key pair (tweetnacl; 32-byte keys). */
export function generateRevealKeyPair(random: RandomBytes = (n) => new Uint8Array(randomBytes(n))): RevealKeyPair {
  const kp = nacl.box.keyPair.fromSecretKey(random(32));
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}

/** An empty reveal record for a round (nothing revealed yet). */
export function emptyRevealRecord(roundId: string): RevealRecord {
  return { round_id: roundId, self_seed: [], mask_key: [] };
}

/** Options of {@link buildReveal}. */
export interface BuildRevealOptions {
  secrets: RoundSecrets;
  /** The shares this node holds (openShares, plus its own pair from shareKeys), by owner. */
  held: ReadonlyMap<string, HeldShares>;
  /** The sets the coordinator relayed at the end of the masked-input phase. */
  sets: SurvivorSets;
  /** Every survivor-set signature the coordinator relayed (unknown JSON). */
  signatures: readonly unknown[];
  /** institution id -> Ed25519 public key, from the verified manifest. */
  identityKeys: ReadonlyMap<string, Uint8Array>;
  /** Shamir threshold t of the manifest. */
  threshold: number;
  /**
   * What this node revealed before in this round (persisted by the node store), or null.
   * The new record is returned; persist it BEFORE sending the reveal.
   */
  previous: RevealRecord | null;
  /** The key holder's X25519 reveal public key (32 bytes), from the key holder's endorsement. */
  keyHolderRevealKey: Uint8Array;
  random?: RandomBytes;
}

/** Output of {@link buildReveal}. */
export interface BuildRevealResult {
  reveal: EncryptedReveal;
  /** The reveal record after this reveal (union of the previous one and this one). */
  record: RevealRecord;
  /** The consistency check that allowed it. */
  proof: ConsistencyProof;
}

/**
 * Round 4, unmasking: this node's reveal, encrypted to the key holder (nacl.box from its box key
 * to the key holder's reveal key), so the coordinator that relays it learns nothing. For each
 * node in U3 (survivors) whose shares it holds: its share of that node's self-mask seed; for each
 * node in U2 \ U3 (dropped after sharing): its share of that node's mask secret key; never both
 * for one node, also across calls: a request that would reveal the other kind for a node in
 * `previous` is refused. Before anything, the consistency check: at least t survivors must have
 * signed exactly these sets.
 *
 * @throws SbError `SB_ERR_SECAGG_DOUBLE_REVEAL` (naming the peer) when the sets would reveal
 *   the other share of a node revealed before; `SB_ERR_SECAGG_CONSISTENCY`,
 *   `SB_ERR_SECAGG_BELOW_THRESHOLD`, `SB_ERR_SECAGG_PARAMS` from the consistency check or when
 *   this node is not a survivor; `SB_ERR_SECAGG_REVEAL` when the previous record is of another
 *   round or malformed. Nothing is encrypted when any check fails.
 * @see Bonawitz et al., CCS 2017, Figure 4, round 4 (Unmasking)
 */
export function buildReveal(options: BuildRevealOptions): BuildRevealResult {
  const { secrets, threshold } = options;
  const roundId = secrets.roundId;
  const me = secrets.institutionId;
  const proof = checkSurvivorSignatures({
    roundId,
    threshold,
    sets: options.sets,
    signatures: options.signatures,
    identityKeys: options.identityKeys,
  });
  if (!proof.survivors.includes(me))
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `${me} is not in the survivor set of round ${roundId}: its masked input was not taken, so it reveals nothing.`,
    );
  const prev = previousRecord(options.previous, roundId);
  const { selfSeedShares, maskKeyShares } = sharesToReveal(options.held, proof, prev, roundId);
  const record: RevealRecord = {
    round_id: roundId,
    self_seed: sortedSet([...prev.self_seed, ...Object.keys(selfSeedShares)]),
    mask_key: sortedSet([...prev.mask_key, ...Object.keys(maskKeyShares)]),
  };
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const nonce = random(nacl.box.nonceLength);
  const digest = setsDigest(proof);
  const plaintext = canonicalBytes({
    type: 'sectorbench.secagg-reveal-plaintext',
    round_id: roundId,
    from: me,
    sets_digest: digest,
    self_seed_shares: selfSeedShares,
    mask_key_shares: maskKeyShares,
  });
  const box = nacl.box(plaintext, nonce, options.keyHolderRevealKey, secrets.boxSecretKey);
  return {
    reveal: {
      type: 'sectorbench.secagg-reveal',
      version: 1,
      round_id: roundId,
      from: me,
      sets_digest: digest,
      nonce: b64(nonce),
      box: b64(box),
    },
    record,
    proof,
  };
}

/**
 * The node's stored reveal record of this round, checked (none yet: an empty one).
 * @throws SbError `SB_ERR_SECAGG_REVEAL` when it is malformed or of another round
 */
function previousRecord(previous: RevealRecord | null, roundId: string): RevealRecord {
  const parsed = RevealRecordSchema.safeParse(previous ?? emptyRevealRecord(roundId));
  if (!parsed.success || parsed.data.round_id !== roundId)
    throw new SbError(
      'SB_ERR_SECAGG_REVEAL',
      `the stored reveal record is not one of round ${roundId}; the node store is damaged. Reveal nothing and restore the store from backup.`,
    );
  return parsed.data;
}

/**
 * The shares to reveal, by owner (base64): the self-seed share of each survivor (U3), the
 * mask-key share of each node that shared keys and dropped (U2 \ U3); never the other kind of a
 * node whose share was revealed before (`prev`).
 * @throws SbError `SB_ERR_SECAGG_DOUBLE_REVEAL` naming the peer
 */
function sharesToReveal(
  held: ReadonlyMap<string, HeldShares>,
  proof: ConsistencyProof,
  prev: RevealRecord,
  roundId: string,
): { selfSeedShares: Record<string, string>; maskKeyShares: Record<string, string> } {
  const survivors = new Set(proof.survivors);
  const shared = new Set(proof.shared);
  const prevSeed = new Set(prev.self_seed);
  const prevKey = new Set(prev.mask_key);
  const selfSeedShares: Record<string, string> = {};
  const maskKeyShares: Record<string, string> = {};
  for (const [owner, h] of held) {
    if (survivors.has(owner)) {
      if (prevKey.has(owner)) throw doubleReveal(owner, roundId, 'mask-key', 'self-seed');
      selfSeedShares[owner] = b64(h.selfSeedShare);
    } else if (shared.has(owner)) {
      if (prevSeed.has(owner)) throw doubleReveal(owner, roundId, 'self-seed', 'mask-key');
      maskKeyShares[owner] = b64(h.maskKeyShare);
    }
  }
  return { selfSeedShares, maskKeyShares };
}

/** The refusal to reveal `asked` of `owner` after `before` was revealed (both would unmask it). */
function doubleReveal(owner: string, roundId: string, before: string, asked: string): SbError {
  return new SbError(
    'SB_ERR_SECAGG_DOUBLE_REVEAL',
    `${owner}'s ${before} share was revealed before in round ${roundId}; revealing its ${asked} ` +
      `share too would expose its masked input. Refused: the coordinator's survivor sets contradict ` +
      'what it said before.',
    { peer: owner },
  );
}

/** One opened reveal: the shares one survivor gave, by owner. */
export interface OpenedReveal {
  from: string;
  selfSeedShares: Map<string, Uint8Array>;
  maskKeyShares: Map<string, Uint8Array>;
}

/**
 * Key holder: open the reveals of a round. Each must parse, be for this round and these sets,
 * come from a survivor with a verified advertisement (box opens with its advertised box key and
 * the key holder's reveal secret key), appear once, and give self-seed shares only of survivors
 * and mask-key shares only of dropped nodes in U2. A reveal that fails is reported, not counted.
 *
 * @returns the opened reveals in sender order, and the senders whose reveal was rejected with why
 */
export function openReveals(options: {
  roundId: string;
  sets: SurvivorSets;
  reveals: readonly unknown[];
  peers: ReadonlyMap<string, PeerKeys>;
  revealSecretKey: Uint8Array;
}): { opened: OpenedReveal[]; rejected: { from: string; reason: string }[] } {
  const survivors = new Set(options.sets.survivors);
  const ctx: RevealContext = {
    roundId: options.roundId,
    digest: setsDigest(options.sets),
    survivors,
    dropped: new Set(options.sets.shared.filter((x) => !survivors.has(x))),
    peers: options.peers,
    revealSecretKey: options.revealSecretKey,
  };
  const opened = new Map<string, OpenedReveal>();
  const rejected: { from: string; reason: string }[] = [];
  for (const [i, raw] of options.reveals.entries()) {
    const r = openReveal(ctx, raw, i, opened);
    if ('reason' in r) rejected.push(r);
    else opened.set(r.from, r);
  }
  return {
    opened: [...opened.values()].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0)),
    rejected,
  };
}

/** What {@link openReveals} checks every reveal against. */
interface RevealContext {
  roundId: string;
  digest: string;
  survivors: Set<string>;
  dropped: Set<string>;
  peers: ReadonlyMap<string, PeerKeys>;
  revealSecretKey: Uint8Array;
}

type Rejection = { from: string; reason: string };

/** One reveal: the envelope's checks, the box opened, the plaintext's checks, the shares taken. */
function openReveal(
  ctx: RevealContext,
  raw: unknown,
  i: number,
  opened: ReadonlyMap<string, OpenedReveal>,
): OpenedReveal | Rejection {
  const p = EncryptedRevealSchema.safeParse(raw);
  if (!p.success) return { from: `item ${i}`, reason: 'not a reveal' };
  const r = p.data;
  const reason = envelopeProblem(ctx, r, opened);
  if (reason) return { from: r.from, reason };
  const peer = ctx.peers.get(r.from) as PeerKeys;
  const pt = nacl.box.open(unb64(r.box), unb64(r.nonce), peer.boxPublicKey, ctx.revealSecretKey);
  if (!pt) return { from: r.from, reason: 'does not open with its advertised box key' };
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(new TextDecoder().decode(pt)) as Record<string, unknown>;
  } catch {
    return { from: r.from, reason: 'no JSON inside' };
  }
  if (
    j.type !== 'sectorbench.secagg-reveal-plaintext' ||
    j.round_id !== ctx.roundId ||
    j.from !== r.from ||
    j.sets_digest !== ctx.digest
  )
    return { from: r.from, reason: 'names another round, sender or sets inside' };
  const selfSeedShares = takeShares(j.self_seed_shares, ctx.survivors);
  const maskKeyShares = takeShares(j.mask_key_shares, ctx.dropped);
  if (!selfSeedShares || !maskKeyShares) return { from: r.from, reason: 'shares of the wrong kind or size' };
  return { from: r.from, selfSeedShares, maskKeyShares };
}

/** Why a parsed reveal is not opened (round, sets, sender, a second one, no advertisement), or null. */
function envelopeProblem(
  ctx: RevealContext,
  r: { round_id: string; sets_digest: string; from: string },
  opened: ReadonlyMap<string, OpenedReveal>,
): string | null {
  if (r.round_id !== ctx.roundId) return `for round ${r.round_id}`;
  if (r.sets_digest !== ctx.digest) return 'made for other survivor sets';
  if (!ctx.survivors.has(r.from)) return 'not from a survivor';
  if (opened.has(r.from)) return 'a second reveal';
  if (!ctx.peers.get(r.from)) return 'sender without verified key advertisement';
  return null;
}

/** The shares of a reveal's plaintext field, owner -> share, when every owner is allowed and every share well sized; else null. */
function takeShares(v: unknown, allowed: Set<string>): Map<string, Uint8Array> | null {
  if (typeof v !== 'object' || v === null) return null;
  const m = new Map<string, Uint8Array>();
  for (const [owner, s] of Object.entries(v as Record<string, unknown>)) {
    if (!allowed.has(owner) || typeof s !== 'string') return null;
    const b = unb64(s);
    if (b.length !== SHARE_BYTES) return null;
    m.set(owner, b);
  }
  return m;
}
