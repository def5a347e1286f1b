import { createHash } from 'node:crypto';
import { SurvivorSetSignatureSchema, type SurvivorSetSignature } from '../../schemas/secagg-messages.js';
import { SbError } from '../errors/sb-error.js';
import { canonicalBytes } from '../protocol/canonical.js';
import { signObject, verifyObject } from '../protocol/signed-object.js';

/** Signature purpose of a survivor-set signature. */
export const PURPOSE_SURVIVORS = 'secagg-survivors';

/** Sorted copy without duplicates. */
export function sortedSet(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The sets a survivor signs: U2 (`shared`, whose shares were delivered) and U3 (`survivors`, whose masked input arrived). */
export interface SurvivorSets {
  shared: readonly string[];
  survivors: readonly string[];
}

/**
 * SHA-256 (lower-case hex) of the canonical JSON (shared/protocol/canonical.ts) of
 * `{shared, survivors}`, both sorted and without duplicates: what a survivor-set signature
 * (version 2) and a reveal name instead of the two lists.
 */
export function setsDigest(sets: SurvivorSets): string {
  return createHash('sha256')
    .update(canonicalBytes({ shared: sortedSet(sets.shared), survivors: sortedSet(sets.survivors) }))
    .digest('hex');
}

/**
 * Consistency check, first half: a survivor signs the round id with the digest of the sorted
 * sets U2 and U3 the coordinator told it ({@link setsDigest}; purpose `secagg-survivors`,
 * version 2). The signature names the sets by digest, not by listing them, so it has the same
 * size whatever n is and the coordinator's relay of all signatures is O(n) per node.
 *
 * @throws SbError `SB_ERR_SECAGG_PARAMS` when U3 is not inside U2 or the signer is not in U3
 * @see Bonawitz et al., CCS 2017, Figure 4, round 3 (ConsistencyCheck)
 */
export function signSurvivorSet(
  roundId: string,
  institutionId: string,
  sets: SurvivorSets,
  identitySecretKey: Uint8Array,
): SurvivorSetSignature {
  const shared = sortedSet(sets.shared);
  const survivors = sortedSet(sets.survivors);
  checkSets(roundId, institutionId, shared, survivors);
  return signObject(
    PURPOSE_SURVIVORS,
    {
      type: 'sectorbench.secagg-survivors' as const,
      version: 2 as const,
      round_id: roundId,
      institution_id: institutionId,
      sets_digest: setsDigest({ shared, survivors }),
    },
    'signature',
    identitySecretKey,
  );
}

function checkSets(roundId: string, me: string, shared: string[], survivors: string[]): void {
  const s = new Set(shared);
  if (!survivors.every((u) => s.has(u)))
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `the survivor set of round ${roundId} names a node whose shares were never delivered; the coordinator's story is inconsistent. Reveal nothing.`,
    );
  if (!survivors.includes(me))
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `${me} is not in the survivor set of round ${roundId}: the coordinator did not take its masked input, so it reveals nothing.`,
    );
}

/** A passed consistency check: the sets and the ids of at least t nodes that signed exactly them. */
export interface ConsistencyProof {
  roundId: string;
  shared: string[];
  survivors: string[];
  /** Sorted ids of the survivors whose valid signature covers exactly these sets. */
  signers: string[];
  /** The valid signatures (for audit logs and for the key holder). */
  signatures: SurvivorSetSignature[];
}

/** Options of {@link checkSurvivorSignatures}. */
export interface CheckSurvivorsOptions {
  roundId: string;
  /** Shamir threshold t of the manifest. */
  threshold: number;
  /** The sets this party was told (a node: the coordinator's relay; the key holder: the bundle). */
  sets: SurvivorSets;
  /** The relayed signatures (unknown JSON; invalid ones are ignored, never counted). */
  signatures: readonly unknown[];
  /** institution id -> Ed25519 public key, from the verified manifest. */
  identityKeys: ReadonlyMap<string, Uint8Array>;
}

/**
 * Consistency check, second half: count the distinct survivors whose signature is valid under
 * their manifest identity key and covers exactly this round and these sets. A node reveals
 * nothing, and the key holder unmasks nothing, unless at least t did. Because 2t > n, a
 * coordinator that told two groups two different sets would need 2t - n nodes to sign both.
 * Version 2 signatures cover the sets through {@link setsDigest} (computed once here, O(n)),
 * so each signature costs one comparison and one Ed25519 check over a few hundred bytes: the
 * whole check is O(n) for n signatures (version 1, with both lists in every signature, was
 * O(n^2)); version 1 signatures are still accepted and compared list by list.
 *
 * @throws SbError `SB_ERR_SECAGG_BELOW_THRESHOLD` when U3 has fewer than t nodes;
 *   `SB_ERR_SECAGG_CONSISTENCY` when fewer than t valid signatures cover the same sets (names
 *   how many did, never which shares); `SB_ERR_SECAGG_PARAMS` when U3 is not inside U2
 * @see Bonawitz et al., CCS 2017, Figure 4, round 3, and section 4 (active adversary)
 */
export function checkSurvivorSignatures(options: CheckSurvivorsOptions): ConsistencyProof {
  const { roundId, threshold } = options;
  const shared = sortedSet(options.sets.shared);
  const survivors = sortedSet(options.sets.survivors);
  const inShared = new Set(shared);
  if (!survivors.every((u) => inShared.has(u)))
    throw new SbError(
      'SB_ERR_SECAGG_PARAMS',
      `the survivor set of round ${roundId} names a node whose shares were never delivered; reveal nothing.`,
    );
  if (survivors.length < threshold)
    throw new SbError(
      'SB_ERR_SECAGG_BELOW_THRESHOLD',
      `round ${roundId} has ${survivors.length} survivor(s), fewer than the threshold t = ${threshold}: ` +
        'the masks cannot be removed, so nothing is revealed or decrypted. The round fails closed; ' +
        'open a new round.',
      { survivors: survivors.length, threshold },
    );
  const inSurvivors = new Set(survivors);
  const digest = setsDigest({ shared, survivors });
  const valid = new Map<string, SurvivorSetSignature>();
  for (const raw of options.signatures) {
    const p = SurvivorSetSignatureSchema.safeParse(raw);
    if (!p.success) continue;
    const s = p.data;
    if (s.round_id !== roundId || !inSurvivors.has(s.institution_id) || valid.has(s.institution_id)) continue;
    if (s.version === 2 ? s.sets_digest !== digest : !sameList(s.shared, shared) || !sameList(s.survivors, survivors))
      continue;
    const key = options.identityKeys.get(s.institution_id);
    if (!key || !verifyObject(PURPOSE_SURVIVORS, s as unknown as Record<string, unknown>, 'signature', key)) continue;
    valid.set(s.institution_id, s);
  }
  if (valid.size < threshold)
    throw new SbError(
      'SB_ERR_SECAGG_CONSISTENCY',
      `only ${valid.size} survivor(s) signed the same survivor set of round ${roundId}, fewer than ` +
        `the threshold t = ${threshold}: the coordinator may be telling nodes different stories. ` +
        'Nothing is revealed; the round fails closed.',
      { signed: valid.size, threshold },
    );
  const signers = [...valid.keys()].sort();
  return {
    roundId,
    shared,
    survivors,
    signers,
    signatures: signers.map((id) => valid.get(id) as SurvivorSetSignature),
  };
}
