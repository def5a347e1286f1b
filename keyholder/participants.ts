import type { Clock } from '../shared/time/clock.js';
import { BrinCode } from '../schemas/manifest.js';
import { InstitutionId } from '../schemas/common.js';
import type { Participant } from '../schemas/manifest.js';
import { fingerprint } from '../shared/crypto/identity.js';
import { SbError } from '../shared/errors/sb-error.js';
import { loadKeyHolder } from './init.js';
import { KeyHolderStore, type ParticipantRecord } from './store/keyholder-store.js';
import { isoSeconds } from './time.js';

/**
 * Enrol an institution with the key holder (issue 11): its id, name, BRIN code and Ed25519
 * identity key. The key holder does this itself, after comparing the key's fingerprint with the
 * institution by phone — not on the coordinator's word — so that a participant list it endorses
 * holds only institutions it checked. Returns the fingerprint to compare.
 * Throws `SB_ERR_USAGE` (id, name or BRIN invalid), `SB_ERR_KEY_FILE`, `SB_ERR_INSTITUTION_EXISTS`.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "The round", step 1
 */
export async function addParticipant(o: {
  home: string;
  institutionId: string;
  name: string;
  brin: string;
  publicKey: Uint8Array;
  now?: Clock;
}): Promise<ParticipantRecord> {
  if (!InstitutionId.safeParse(o.institutionId).success)
    throw new SbError(
      'SB_ERR_USAGE',
      `'${o.institutionId}' is not an institution id (letters, digits, _ and -, at most 32).`,
    );
  if (!BrinCode.safeParse(o.brin).success)
    throw new SbError(
      'SB_ERR_USAGE',
      `'${o.brin}' is not a BRIN code (two digits and two capitals or digits, e.g. 25LX).`,
    );
  const name = o.name.trim();
  if (name.length === 0 || name.length > 200)
    throw new SbError('SB_ERR_USAGE', 'give the institution its name (1 to 200 characters).');
  if (o.publicKey.byteLength !== 32)
    throw new SbError('SB_ERR_KEY_FILE', "an institution's identity key is a 32-byte Ed25519 public key.");
  const kh = await loadKeyHolder(o.home);
  const store = KeyHolderStore.open(kh.paths.dataDir);
  try {
    const rec = {
      institutionId: o.institutionId,
      name,
      brin: o.brin,
      ed25519PublicKey: Buffer.from(o.publicKey).toString('base64'),
      fingerprint: fingerprint(o.publicKey),
      addedAt: isoSeconds((o.now ?? (() => new Date()))()),
    };
    store.addParticipant(rec);
    return { ...rec, removedAt: null };
  } finally {
    store.close();
  }
}

/** Remove an institution from the key holder's enrolment: later endorsements leave it out. */
export async function removeParticipant(o: { home: string; institutionId: string; now?: Clock }): Promise<void> {
  const kh = await loadKeyHolder(o.home);
  const store = KeyHolderStore.open(kh.paths.dataDir);
  try {
    if (!store.removeParticipant(o.institutionId, isoSeconds((o.now ?? (() => new Date()))())))
      throw new SbError(
        'SB_ERR_UNKNOWN_INSTITUTION',
        `institution ${o.institutionId} is not enrolled with this key holder (or removed already); see 'keyholder participant list'.`,
        { institution_id: o.institutionId },
      );
  } finally {
    store.close();
  }
}

/**
 * The participant list an endorsement covers: the enrolled institutions with the given ids, or
 * every enrolled one not removed. Throws `SB_ERR_UNKNOWN_INSTITUTION` naming an id the key holder
 * did not enrol, `SB_ERR_USAGE` when the list is empty.
 */
export function endorsedParticipants(store: KeyHolderStore, ids?: readonly string[]): Participant[] {
  const active = store.participants().filter((p) => p.removedAt === null);
  const byId = new Map(active.map((p) => [p.institutionId, p]));
  const chosen = ids
    ? [...new Set(ids)].map((id) => {
        const p = byId.get(id);
        if (!p)
          throw new SbError(
            'SB_ERR_UNKNOWN_INSTITUTION',
            `institution ${id} is not enrolled with this key holder; enrol it with 'keyholder participant ` +
              "add' after checking its fingerprint with the institution by phone.",
            { institution_id: id },
          );
        return p;
      })
    : active;
  if (chosen.length === 0)
    throw new SbError(
      'SB_ERR_USAGE',
      "no participants to endorse: enrol the institutions first with 'keyholder participant add'.",
    );
  return chosen.map((p) => ({
    institution_id: p.institutionId,
    name: p.name,
    brin: p.brin,
    ed25519_public_key: p.ed25519PublicKey,
  }));
}

/**
 * A fictitious but well-formed BRIN code for demos, tests and benchmarks: `99` and two base-36
 * characters of `i` (`9901`, `9902`, …). Never used for a real institution.
 */
export function exampleBrin(i: number): string {
  const c = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return `99${c[Math.floor(i / 36) % 36]}${c[i % 36]}`;
}

/** Enrol several institutions at once (demo, tests, benchmarks); see {@link addParticipant}. */
export async function addParticipants(
  home: string,
  list: readonly { institutionId: string; name: string; brin: string; publicKey: Uint8Array }[],
  now?: Clock,
): Promise<void> {
  for (const p of list) await addParticipant({ home, ...p, ...(now ? { now } : {}) });
}
