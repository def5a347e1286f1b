import { combine } from 'shamir-secret-sharing';
import nacl from 'tweetnacl';
import { SbError } from '../shared/errors/sb-error.js';
import {
  bytesEqual,
  checkSurvivorSignatures,
  fromDoubles,
  type ConsistencyProof,
  type MaskGraph,
  type MaskPool,
  maskPeers,
  maskPool,
  type MaskTask,
  openReveals,
  pairSign,
  type PeerKeys,
  selfSeedCommitment,
  sortedSet,
  toDoubles,
  type SurvivorSets,
  verifyAdvertisedKeys,
} from '../shared/secagg/index.js';

/** Input of {@link prepareUnmasking}: everything of the round except the BFV ciphertexts. */
export interface UnmaskInput {
  roundId: string;
  /** Every participant id of the verified manifest. */
  participants: readonly string[];
  /** institution id -> Ed25519 public key, from the verified manifest. */
  identityKeys: ReadonlyMap<string, Uint8Array>;
  /** Shamir threshold t of the manifest (the key holder endorsed it). */
  threshold: number;
  graph: MaskGraph;
  /** The round's key advertisements (unknown JSON, verified here). */
  advertisements: readonly unknown[];
  /** U2 and U3 as the coordinator reports them. */
  sets: SurvivorSets;
  /** The survivor-set signatures (unknown JSON). */
  survivorSignatures: readonly unknown[];
  /** The encrypted reveals (unknown JSON). */
  reveals: readonly unknown[];
  /** Institutions whose masked contributions are in the sum (from the verified envelopes); must equal U3. */
  contributors: readonly string[];
  /** The key holder's X25519 reveal secret key (32 bytes). */
  revealSecretKey: Uint8Array;
}

/**
 * What the key holder reconstructed, ready to remove the masks from a decrypted sum. Only
 * {@link prepareUnmasking} makes one, and it does so only when every check passed, so holding a
 * plan means the BFV decryption may go ahead.
 */
export interface UnmaskPlan {
  readonly roundId: string;
  readonly proof: ConsistencyProof;
  /** Survivors, each with its reconstructed self-mask seed (checked against its commitment). */
  readonly selfSeeds: ReadonlyMap<string, Uint8Array>;
  /** Dropped nodes (U2 \ U3), each with its reconstructed mask secret key (checked against its public key). */
  readonly droppedMaskKeys: ReadonlyMap<string, Uint8Array>;
  readonly peers: ReadonlyMap<string, PeerKeys>;
  readonly participants: readonly string[];
  readonly graph: MaskGraph;
  /** Senders whose reveal was not used, with why (for the key holder's log). */
  readonly rejectedReveals: readonly { from: string; reason: string }[];
}

/**
 * Key holder, before any decryption: verify the advertisements, the consistency check (at least
 * t survivors signed exactly U2 and U3), that the contributions in the sum are exactly U3, open
 * the reveals, and reconstruct with Shamir (`shamir-secret-sharing` combine, at least t shares
 * from distinct survivors) the self-mask seed of every survivor and the mask secret key of every
 * dropped node — each checked against the advertisement (seed commitment; X25519 public key).
 *
 * @returns the plan for {@link applyUnmasking}
 * @throws SbError (nothing has been decrypted when it throws):
 *   `SB_ERR_SECAGG_BELOW_THRESHOLD` — fewer than t survivors, or fewer than t valid shares of
 *   some secret (names the node and the counts); `SB_ERR_SECAGG_CONSISTENCY` — fewer than t
 *   matching survivor signatures; `SB_ERR_SECAGG_SURVIVORS` — the contributions in the sum are not
 *   exactly U3; `SB_ERR_SECAGG_RECONSTRUCT` — t or more shares combine to a value that does not
 *   match the advertisement (a survivor revealed a bad share); `SB_ERR_SECAGG_KEYS` — a bad
 *   advertisement
 * @see Bonawitz et al., CCS 2017, Figure 4, round 4 (server side)
 */
export async function prepareUnmasking(input: UnmaskInput): Promise<UnmaskPlan> {
  const { roundId, threshold } = input;
  const { peers, proof } = checkRound(input);
  const { opened, rejected } = openReveals({
    roundId,
    sets: proof,
    reveals: input.reveals,
    peers,
    revealSecretKey: input.revealSecretKey,
  });
  const survivorSet = new Set(proof.survivors);
  const dropped = proof.shared.filter((x) => !survivorSet.has(x));
  const { seedShares, keyShares } = countShares(roundId, threshold, proof.survivors, dropped, opened, rejected.length);
  const selfSeeds = new Map<string, Uint8Array>();
  for (const [u, shares] of seedShares) {
    const commitment = peerKeys(peers, u).selfSeedCommitment;
    const ok = (s: Uint8Array) => s.length === 32 && selfSeedCommitment(roundId, u, s) === commitment;
    selfSeeds.set(u, await combineChecked(roundId, u, 'self seed', shares, threshold, ok));
  }
  const droppedMaskKeys = new Map<string, Uint8Array>();
  for (const [v, shares] of keyShares) {
    const pk = peerKeys(peers, v).maskPublicKey;
    const ok = (s: Uint8Array) => s.length === 32 && bytesEqual(nacl.scalarMult.base(s), pk);
    droppedMaskKeys.set(v, await combineChecked(roundId, v, 'mask key', shares, threshold, ok));
  }
  return {
    roundId,
    proof,
    selfSeeds,
    droppedMaskKeys,
    peers,
    participants: [...input.participants],
    graph: input.graph,
    rejectedReveals: rejected,
  };
}

/**
 * The verified keys of `id` (in U2, so {@link checkRound} found them).
 * @throws SbError `SB_ERR_SECAGG_KEYS` when `id` advertised none
 */
function peerKeys(peers: ReadonlyMap<string, PeerKeys>, id: string): PeerKeys {
  const p = peers.get(id);
  if (!p)
    throw new SbError('SB_ERR_SECAGG_KEYS', `${id} is in the share set but advertised no keys.`, { institution: id });
  return p;
}

/**
 * The checks before any reveal is opened: the advertisements, the consistency check (at least t
 * survivors signed exactly U2 and U3), the contributions in the sum are exactly U3, and every
 * member of U2 advertised keys.
 */
function checkRound(input: UnmaskInput): { peers: Map<string, PeerKeys>; proof: ConsistencyProof } {
  const { roundId } = input;
  const peers = verifyAdvertisedKeys(roundId, input.advertisements, input.identityKeys);
  const proof = checkSurvivorSignatures({
    roundId,
    threshold: input.threshold,
    sets: input.sets,
    signatures: input.survivorSignatures,
    identityKeys: input.identityKeys,
  });
  const contributors = sortedSet(input.contributors);
  if (contributors.length !== proof.survivors.length || contributors.some((c, i) => c !== proof.survivors[i]))
    throw new SbError(
      'SB_ERR_SECAGG_SURVIVORS',
      `the masked contributions in the sum of round ${roundId} (${contributors.length}) are not ` +
        `exactly the survivor set the nodes signed (${proof.survivors.length}); nothing is decrypted. ` +
        `Ask the coordinator to sum exactly the survivors' contributions.`,
      { contributors: contributors.length, survivors: proof.survivors.length },
    );
  for (const id of proof.shared)
    if (!peers.has(id))
      throw new SbError('SB_ERR_SECAGG_KEYS', `${id} is in the share set but advertised no keys.`, { institution: id });
  return { peers, proof };
}

/**
 * The opened reveals' shares by secret — each survivor's self seed, each dropped node's mask
 * key — counted for every secret before any reconstruction, so the round fails closed below t.
 * @throws SbError `SB_ERR_SECAGG_BELOW_THRESHOLD` naming (up to five of) the short secrets
 */
function countShares(
  roundId: string,
  threshold: number,
  survivors: readonly string[],
  dropped: readonly string[],
  opened: ReturnType<typeof openReveals>['opened'],
  rejected: number,
): { seedShares: Map<string, Uint8Array[]>; keyShares: Map<string, Uint8Array[]> } {
  const seedShares = new Map<string, Uint8Array[]>(survivors.map((u) => [u, []]));
  const keyShares = new Map<string, Uint8Array[]>(dropped.map((v) => [v, []]));
  for (const r of opened) {
    for (const [owner, s] of r.selfSeedShares) seedShares.get(owner)?.push(s);
    for (const [owner, s] of r.maskKeyShares) keyShares.get(owner)?.push(s);
  }
  const short = [
    ...[...seedShares].filter(([, s]) => s.length < threshold).map(([id, s]) => `${id} (self seed, ${s.length})`),
    ...[...keyShares].filter(([, s]) => s.length < threshold).map(([id, s]) => `${id} (mask key, ${s.length})`),
  ];
  if (short.length > 0)
    throw new SbError(
      'SB_ERR_SECAGG_BELOW_THRESHOLD',
      `round ${roundId}: fewer than t = ${threshold} valid shares for ${short.slice(0, 5).join(', ')}${short.length > 5 ? ', …' : ''}; ` +
        'the masks cannot be removed, so nothing is decrypted. The round fails closed.',
      { threshold, short: short.length, rejected_reveals: rejected },
    );
  return { seedShares, keyShares };
}

/**
 * Combine Shamir shares and check the result: the first t shares, and if that fails the check
 * (some survivor revealed a bad share) each further window of t consecutive shares, so bad shares
 * bunched at one end of the list still leave a good window; otherwise `SB_ERR_SECAGG_RECONSTRUCT`.
 */
async function combineChecked(
  roundId: string,
  owner: string,
  what: string,
  shares: Uint8Array[],
  threshold: number,
  ok: (s: Uint8Array) => boolean,
): Promise<Uint8Array> {
  // t shares suffice and Lagrange interpolation costs O(k^2) per byte: start with the first t,
  // then (a bad share among them) each further window of t consecutive shares.
  for (let start = 0; start + threshold <= shares.length; start++) {
    const s = await combine(shares.slice(start, start + threshold));
    if (ok(s)) return s;
  }
  throw new SbError(
    'SB_ERR_SECAGG_RECONSTRUCT',
    `round ${roundId}: the ${shares.length} revealed shares of ${owner}'s ${what} do not combine ` +
      'to the value it committed to; some survivor revealed a wrong share. Nothing is decrypted; ' +
      'ask the coordinator to exclude the misbehaving node and run a new round.',
    { owner, what, shares: shares.length },
  );
}

/**
 * Key holder, after decrypting the masked sum: remove the masks. From the sum over survivors u
 * of `x_u + PRG(b_u) + Σ_{v in peers(u)} ±PRG(s_{u,v})` it subtracts every survivor's self mask
 * and, for every dropped node v and each survivor u that masked with v, u's pairwise mask with
 * v (computed from v's reconstructed mask secret key and u's advertised mask public key); the
 * pairwise masks between survivors cancel by themselves.
 *
 * @param plan from {@link prepareUnmasking}
 * @param maskedSum decrypted slots (mod t), at least `length` of them; slots from `length` on
 *   (ciphertext padding) are copied unchanged
 * @param length the layout length the nodes masked (shared/protocol/layout.ts `layoutLength`)
 * @param pool where the masks are expanded (default the process-wide pool, shared/secagg/mask-pool.ts):
 *   the (dropped, survivor) pairs and self masks are split over its threads; same result for every size
 * @returns the exact sum of the survivors' vectors, slots mod t (same length as `maskedSum`)
 */
export async function applyUnmasking(
  plan: UnmaskPlan,
  maskedSum: BigUint64Array,
  length: number,
  pool: MaskPool = maskPool(),
): Promise<BigUint64Array> {
  if (!Number.isInteger(length) || length < 0 || length > maskedSum.length)
    throw new SbError(
      'SB_ERR_LAYOUT_SHAPE',
      `the decrypted sum has ${maskedSum.length} slots, the layout ${length}; decrypt all ciphertexts of the sum.`,
    );
  const acc = toDoubles(maskedSum, length, (i) => {
    throw new SbError('SB_ERR_PLAIN_RANGE', `decrypted slot ${i} is not below t.`);
  });
  await pool.addMasks(plan.roundId, unmaskTasks(plan), acc);
  // Padding slots first (copied as decrypted), then the unmasked slots over the first `length`.
  return fromDoubles(acc, maskedSum.slice());
}

/**
 * The masks the key holder takes out of the masked sum, in order: every survivor's self mask
 * (-1), then for every dropped node v and each survivor u that masked with v, u's pairwise mask
 * with v (X25519 of v's reconstructed mask secret key and u's advertised public key), with the
 * opposite of the sign u added it with. The tasks refer to the plan's secrets (no copies).
 */
export function unmaskTasks(plan: UnmaskPlan): MaskTask[] {
  const { roundId } = plan;
  const tasks: MaskTask[] = [];
  for (const [u, seed] of plan.selfSeeds) tasks.push({ kind: 'self', id: u, seed, sign: -1 });
  const survivors = new Set(plan.proof.survivors);
  for (const [v, sk] of plan.droppedMaskKeys) {
    for (const u of maskPeers(roundId, v, plan.proof.shared, plan.participants, plan.graph)) {
      if (!survivors.has(u)) continue;
      const publicKey = peerKeys(plan.peers, u).maskPublicKey;
      // u added pairSign(u, v) * mask; take it back out.
      tasks.push({ kind: 'pair', a: u, b: v, secretKey: sk, publicKey, sign: pairSign(u, v) === 1 ? -1 : 1 });
    }
  }
  return tasks;
}

/** Zero the reconstructed secrets of a plan once the sum is unmasked. */
export function discardPlan(plan: UnmaskPlan): void {
  for (const s of plan.selfSeeds.values()) s.fill(0);
  for (const s of plan.droppedMaskKeys.values()) s.fill(0);
}

/**
 * The key holder's masked-round step in one call: {@link prepareUnmasking} (every check and the
 * reconstruction), then — only if that passed — `decrypt()` (the BFV decryption of the sum,
 * e.g. `() => decryptSum(secretKey, sum)`), then {@link applyUnmasking}; the reconstructed
 * secrets are zeroed afterwards. Below t, `decrypt` is never called.
 *
 * @param length the layout length (`layoutLength(codebook)`)
 * @param pool as {@link applyUnmasking}
 * @returns the exact sum of the survivors' vectors (slots mod t, padding as decrypted) and the plan's
 *   consistency proof and rejected reveals (for the log)
 * @throws SbError as {@link prepareUnmasking}; whatever `decrypt` throws
 */
export async function unmaskRound(
  input: UnmaskInput,
  decrypt: () => Promise<BigUint64Array>,
  length: number,
  pool?: MaskPool,
): Promise<{
  sum: BigUint64Array;
  proof: ConsistencyProof;
  rejectedReveals: readonly { from: string; reason: string }[];
}> {
  const plan = await prepareUnmasking(input);
  try {
    // Many dropouts mean many masks and worker threads: start them while the sum is decrypted.
    const lanes = pool ?? maskPool();
    lanes.warm(unmaskTasks(plan).length);
    const masked = await decrypt();
    const sum = await applyUnmasking(plan, masked, length, lanes);
    masked.fill(0n);
    return { sum, proof: plan.proof, rejectedReveals: plan.rejectedReveals };
  } finally {
    discardPlan(plan);
  }
}
