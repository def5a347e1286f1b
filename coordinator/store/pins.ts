import { fingerprint } from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { getMeta, recordEvent, setMeta, tx, type CoordinatorDb } from './db.js';

const KEY = 'pinned_key_holder';

/**
 * Pin the key holder's Ed25519 key (compare the returned fingerprint with the key holder's
 * over the phone). Endorsements and releases are verified against it. Re-pinning another key
 * needs `replace: true`.
 * @see ../../../shared/spec/ARCHITECTURE.md "The round", steps 1 and 5
 */
export function pinKeyHolder(
  db: CoordinatorDb,
  input: { publicKey: Uint8Array; now: Date; replace?: boolean },
): { fingerprint: string } {
  if (input.publicKey.byteLength !== 32) throw new SbError('SB_ERR_KEY_FILE', 'an Ed25519 public key is 32 bytes.');
  const b64 = Buffer.from(input.publicKey).toString('base64');
  const fp = fingerprint(input.publicKey);
  tx(db, () => {
    const old = getMeta(db, KEY);
    if (old && old !== b64 && !input.replace) {
      throw new SbError(
        'SB_ERR_PIN_EXISTS',
        `another key holder key is pinned (fingerprint ${fingerprint(new Uint8Array(Buffer.from(old, 'base64')))}); pass --replace to pin a new one.`,
      );
    }
    setMeta(db, KEY, b64);
    recordEvent(db, { at: input.now.toISOString(), kind: 'key-holder.pinned', detail: { fingerprint: fp } });
  });
  return { fingerprint: fp };
}

/** The pinned key holder key; throws `SB_ERR_NOT_PINNED` when none is pinned. */
export function pinnedKeyHolder(db: CoordinatorDb): Uint8Array {
  const v = getMeta(db, KEY);
  if (!v)
    throw new SbError(
      'SB_ERR_NOT_PINNED',
      "no key holder key is pinned; run 'sectorbench coordinator pin-keyholder --home DIR --key FILE.pub' first.",
    );
  return new Uint8Array(Buffer.from(v, 'base64'));
}
