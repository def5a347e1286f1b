import { createHash, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { AdvertisedKeysSchema, type AdvertisedKeys } from '../../schemas/secagg-messages.js';
import { SbError } from '../errors/sb-error.js';
import { signObject, verifyObject } from '../protocol/signed-object.js';
import { b64, bytesEqual, type RandomBytes, unb64 } from './bytes.js';
import { formatZodIssues } from '../errors/zod-issues.js';

/** Signature purpose of an advertisement (shared/crypto/identity.ts `signingInput`). */
export const PURPOSE_KEYS = 'secagg-keys';

/**
 * A node's secrets for one round (node-local; the node store keeps them, mode 0600 like every
 * secret, and deletes them when the round is over):
 * - `boxPublicKey`/`boxSecretKey`: X25519 (nacl.box) pair its peers encrypt its shares to;
 * - `maskPublicKey`/`maskSecretKey`: X25519 pair of the pairwise-mask key agreement;
 * - `selfSeed`: 32 random bytes, the seed of its self mask.
 * All 32 bytes.
 */
export interface RoundSecrets {
  roundId: string;
  institutionId: string;
  boxPublicKey: Uint8Array;
  boxSecretKey: Uint8Array;
  maskPublicKey: Uint8Array;
  maskSecretKey: Uint8Array;
  selfSeed: Uint8Array;
}

/**
 * Make a node's secrets for one round: two fresh X25519 key pairs (tweetnacl) and a 32-byte
 * self-mask seed. Never reuse them in another round.
 *
 * @param random random source (default node:crypto randomBytes); tests may pass a seeded one
 * @see Bonawitz et al., CCS 2017, Figure 4, round 0 (AdvertiseKeys)
 */
export function generateRoundSecrets(
  roundId: string,
  institutionId: string,
  random: RandomBytes = (n) => new Uint8Array(randomBytes(n)),
): RoundSecrets {
  const box = nacl.box.keyPair.fromSecretKey(random(32));
  const maskSecretKey = random(32);
  const maskPublicKey = nacl.scalarMult.base(maskSecretKey);
  return {
    roundId,
    institutionId,
    boxPublicKey: box.publicKey,
    boxSecretKey: box.secretKey,
    maskPublicKey,
    maskSecretKey,
    selfSeed: random(32),
  };
}

/**
 * The commitment to a self-mask seed that goes into the advertisement: lower-case hex SHA-256 of
 * `sectorbench/v1/secagg/self-seed\n<round>\n<institution>\n` followed by the 32 seed bytes.
 * The seed is 256 random bits, so the commitment hides it; the key holder checks a reconstructed
 * seed against it.
 */
export function selfSeedCommitment(roundId: string, institutionId: string, selfSeed: Uint8Array): string {
  return createHash('sha256')
    .update(`sectorbench/v1/secagg/self-seed\n${roundId}\n${institutionId}\n`)
    .update(selfSeed)
    .digest('hex');
}

/**
 * Round 0, advertise keys: the signed advertisement of a node's public keys for a round.
 *
 * @param secrets from {@link generateRoundSecrets}
 * @param identitySecretKey the node's Ed25519 identity secret key (64 bytes, shared/crypto/identity.ts)
 * @returns an {@link AdvertisedKeys} object (schemas/secagg-messages.ts), signed with purpose `secagg-keys`
 * @throws SbError `SB_ERR_KEY_FILE` when the identity key is not 64 bytes
 */
export function advertiseKeys(secrets: RoundSecrets, identitySecretKey: Uint8Array): AdvertisedKeys {
  return signObject(
    PURPOSE_KEYS,
    {
      type: 'sectorbench.secagg-keys' as const,
      version: 1 as const,
      round_id: secrets.roundId,
      institution_id: secrets.institutionId,
      box_public_key: b64(secrets.boxPublicKey),
      mask_public_key: b64(secrets.maskPublicKey),
      self_seed_commitment: selfSeedCommitment(secrets.roundId, secrets.institutionId, secrets.selfSeed),
    },
    'signature',
    identitySecretKey,
  );
}

/** A verified advertisement with its keys decoded. */
export interface PeerKeys {
  institutionId: string;
  boxPublicKey: Uint8Array;
  maskPublicKey: Uint8Array;
  selfSeedCommitment: string;
  /** The advertisement as received (for audit logs). */
  advertised: AdvertisedKeys;
}

/**
 * Verify the coordinator's relayed list of advertisements (round 0 output): each parses against
 * AdvertisedKeysSchema, is for `roundId`, comes from a participant, is signed by that
 * participant's Ed25519 identity key from the manifest, appears once, and no two nodes advertise
 * the same X25519 key (a copied key would let one node pose as another).
 *
 * @param identityKeys institution id -> Ed25519 public key (32 bytes), from the verified manifest
 * @returns the verified keys by institution id, in id order
 * @throws SbError `SB_ERR_SECAGG_KEYS` naming the institution and what is wrong; the node must
 *   stop taking part in this round (a forged advertisement means the coordinator is misbehaving)
 */
export function verifyAdvertisedKeys(
  roundId: string,
  list: readonly unknown[],
  identityKeys: ReadonlyMap<string, Uint8Array>,
): Map<string, PeerKeys> {
  const out = new Map<string, PeerKeys>();
  const seenKeys = new Set<string>();
  list.forEach((raw, i) => {
    const p = AdvertisedKeysSchema.safeParse(raw);
    if (!p.success) {
      throw new SbError(
        'SB_ERR_SECAGG_KEYS',
        `advertisement ${i} is malformed (${formatZodIssues(p.error.issues, { limit: 1 })}); the ` +
          'coordinator relayed something that is not a key advertisement. Stop and tell the coordinator.',
        { index: i },
      );
    }
    const a = p.data;
    const who = a.institution_id;
    if (a.round_id !== roundId)
      throw new SbError(
        'SB_ERR_SECAGG_KEYS',
        `the advertisement of ${who} is for round ${a.round_id}, not ${roundId}; it was replayed from another round.`,
        { institution: who },
      );
    const idKey = identityKeys.get(who);
    if (!idKey)
      throw new SbError('SB_ERR_SECAGG_KEYS', `${who} advertised keys but is not a participant of round ${roundId}.`, {
        institution: who,
      });
    if (out.has(who))
      throw new SbError('SB_ERR_SECAGG_KEYS', `${who} advertised keys twice in round ${roundId}.`, {
        institution: who,
      });
    if (!verifyObject(PURPOSE_KEYS, a as unknown as Record<string, unknown>, 'signature', idKey))
      throw new SbError(
        'SB_ERR_SECAGG_KEYS',
        `the advertisement of ${who} is not signed by its identity key from the manifest; the coordinator ` +
          'may have swapped keys. Stop and tell the coordinator.',
        { institution: who },
      );
    for (const k of [a.box_public_key, a.mask_public_key]) {
      if (seenKeys.has(k))
        throw new SbError('SB_ERR_SECAGG_KEYS', `${who} advertises an X25519 key another advertisement also uses.`, {
          institution: who,
        });
      seenKeys.add(k);
    }
    out.set(who, {
      institutionId: who,
      boxPublicKey: unb64(a.box_public_key),
      maskPublicKey: unb64(a.mask_public_key),
      selfSeedCommitment: a.self_seed_commitment,
      advertised: a,
    });
  });
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** True when `secrets` are the ones behind `keys` (a node checks its own advertisement came back unchanged). */
export function secretsMatch(secrets: RoundSecrets, keys: PeerKeys): boolean {
  return (
    bytesEqual(secrets.boxPublicKey, keys.boxPublicKey) &&
    bytesEqual(secrets.maskPublicKey, keys.maskPublicKey) &&
    selfSeedCommitment(secrets.roundId, secrets.institutionId, secrets.selfSeed) === keys.selfSeedCommitment
  );
}
