import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { SealedKeyFileSchema } from '../../schemas/custody.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { bfvPublicKeyDigest, readBfvPublicKey, readBfvSecretKey } from '../../shared/crypto/bfv-keys.js';
import { writeSecretFile } from '../../shared/crypto/key-files.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';
import { HOME_FILES, keyHolderPaths, readKeyHolderConfig, writeKeyHolderConfig } from '../config.js';
import { KeyHolderStore } from '../store/keyholder-store.js';
import { isoSeconds } from '../time.js';
import { custodianFingerprint } from './custodian-key.js';
import { sealSecretKey, type CustodianSpec, type PresentedShare } from './seal.js';
import { readSealedFile, unsealForUse } from './unseal.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';

/** What one custodian keeps after a ceremony, and how they check it. */
export interface CustodianReceipt {
  name: string;
  protection: 'x25519' | 'passphrase';
  /** Their share file (in the share folder, outside the key holder's home). */
  shareFile: string;
  /** Fingerprint of the share file: read it out now, check it later with `keyholder check-share`. */
  shareFingerprint: string;
  /** Fingerprint of the custodian's X25519 public key (x25519 shares). */
  keyFingerprint?: string;
}

/** Outcome of a key ceremony. */
export interface CeremonyResult {
  sealId: string;
  k: number;
  n: number;
  hePublicKeyDigest: string;
  sealedFile: string;
  custodians: CustodianReceipt[];
}

/** File name of a custodian's share in the share folder. */
export function shareFileName(custodian: string): string {
  return `share-${custodian.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.json`;
}

function isInside(dir: string, home: string): boolean {
  const rel = relative(resolve(home), resolve(dir));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Refuse a share folder inside the key holder's home (`SB_ERR_USAGE`): shares never live with the sealed key. */
export function checkShareDir(shareDir: string, home: string): void {
  if (isInside(shareDir, home))
    throw new SbError(
      'SB_ERR_USAGE',
      `the share folder ${shareDir} is inside the key holder's home ${home}; shares must never be ` +
        'kept with the sealed key. Pick a folder elsewhere (each custodian takes their file away).',
    );
}

/**
 * Seal `secretKey` for custody and write the outcome: one share file per custodian in
 * `shareDir` (which must not be inside the home: shares never live with the sealed key), the
 * sealed key file in the home (written atomically), `keyholder.json` pointing at it with
 * `custodians: {k, n}` and without a plain key, and the ceremony in the log.
 */
async function writeCustody(o: {
  home: string;
  secretKey: Uint8Array;
  hePublicKeyDigest: string;
  k: number;
  custodians: readonly CustodianSpec[];
  shareDir: string;
  kind: 'init' | 'seal-existing' | 'reshare';
  now: Date;
  store: KeyHolderStore;
}): Promise<CeremonyResult> {
  checkShareDir(o.shareDir, o.home);
  const names = o.custodians.map((c) => shareFileName(c.name));
  const clash = names.find((x, i) => names.indexOf(x) !== i);
  if (clash) throw new SbError('SB_ERR_USAGE', `two custodians would share the file name ${clash}; rename one.`);
  makeDir(o.shareDir, 0o700, "the custodians' share folder", 'folder');
  for (const n of names)
    if (existsSync(join(o.shareDir, n)))
      throw new SbError(
        'SB_ERR_USAGE',
        `${join(o.shareDir, n)} exists already; use an empty share folder so no old share is mistaken for a new one.`,
      );
  const { sealed, shares } = await sealSecretKey(o.secretKey, {
    hePublicKeyDigest: o.hePublicKeyDigest,
    k: o.k,
    custodians: o.custodians,
    now: o.now,
  });
  const receipts: CustodianReceipt[] = [];
  for (const [i, share] of shares.entries()) {
    const spec = itemAt(o.custodians, i);
    const entry = itemAt(sealed.custodians, i);
    const file = join(o.shareDir, itemAt(names, i));
    await writeSecretFile(file, `${JSON.stringify(share, null, 2)}\n`);
    receipts.push({
      name: share.custodian,
      protection: share.protection.kind,
      shareFile: file,
      shareFingerprint: entry.share_fingerprint,
      ...('x25519PublicKey' in spec ? { keyFingerprint: custodianFingerprint(spec.x25519PublicKey) } : {}),
    });
  }
  const config = readKeyHolderConfig(o.home);
  const sealedPath = join(o.home, HOME_FILES.sealedSecretKey);
  const tmp = `${sealedPath}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, sealedPath);
  const { bfv_secret_key_file: _plain, ...rest } = config;
  writeKeyHolderConfig(o.home, {
    ...rest,
    sealed_bfv_secret_key_file: HOME_FILES.sealedSecretKey,
    custodians: { k: sealed.k, n: sealed.n },
  });
  o.store.recordCeremony({
    at: isoSeconds(o.now),
    kind: o.kind,
    sealId: sealed.seal_id,
    hePublicKeyDigest: sealed.he_public_key_digest,
    k: sealed.k,
    n: sealed.n,
    custodians: sealed.custodians.map((c) => ({
      name: c.name,
      protection: c.protection,
      share_fingerprint: c.share_fingerprint,
    })),
  });
  return {
    sealId: sealed.seal_id,
    k: sealed.k,
    n: sealed.n,
    hePublicKeyDigest: sealed.he_public_key_digest,
    sealedFile: sealedPath,
    custodians: receipts,
  };
}

/** Options of the ceremonies. */
export interface CeremonyOptions {
  home: string;
  k: number;
  custodians: readonly CustodianSpec[];
  /** Folder for the custodians' share files; outside the home. */
  shareDir: string;
  now?: Clock;
}

/**
 * The key ceremony of a new home (called by `initKeyHolder` with the freshly generated key,
 * which never touches the disk).
 */
export async function sealNewKey(
  o: CeremonyOptions & { secretKey: Uint8Array; hePublicKeyDigest: string; store: KeyHolderStore },
): Promise<CeremonyResult> {
  return writeCustody({ ...o, kind: 'init', now: (o.now ?? systemClock)() });
}

/**
 * `keyholder ceremony` on a home made before key custody: seal its plain `bfv-secret.key` under
 * new custodian shares, then delete the plain file. The plain key may survive in backups or
 * on the disk's free blocks; the command says so, and a new key pair (a new home) is the
 * cleaner way.
 */
export async function sealExistingKey(o: CeremonyOptions): Promise<CeremonyResult> {
  const config = readKeyHolderConfig(o.home);
  const paths = keyHolderPaths(o.home, config);
  if (!paths.plainSecretKey)
    throw new SbError(
      'SB_ERR_USAGE',
      `${o.home} has no plain BFV secret key to seal; to change custodians, give the current custodians' shares (--share) for a reshare.`,
    );
  const secretKey = await readBfvSecretKey(paths.plainSecretKey);
  const store = KeyHolderStore.open(paths.dataDir);
  try {
    const r = await writeCustody({
      ...o,
      secretKey,
      hePublicKeyDigest: bfvPublicKeyDigest(await readBfvPublicKey(paths.bfvPublicKey)),
      kind: 'seal-existing',
      now: (o.now ?? systemClock)(),
      store,
    });
    unlinkSync(paths.plainSecretKey);
    return r;
  } finally {
    secretKey.fill(0);
    store.close();
  }
}

/**
 * `keyholder ceremony --share …`: k current custodians unseal the key (logged as an unseal with
 * purpose `reshare`) and it is sealed again under a new custodian list; the old shares no
 * longer open anything (new seal id, new sealing key).
 */
export async function reshareKey(o: CeremonyOptions & { shares: readonly PresentedShare[] }): Promise<CeremonyResult> {
  const config = readKeyHolderConfig(o.home);
  const paths = keyHolderPaths(o.home, config);
  const now = o.now ?? systemClock;
  const store = KeyHolderStore.open(paths.dataDir);
  try {
    const key = await unsealForUse(store, paths, o.shares, {
      roundId: null,
      purpose: 'reshare',
      at: () => isoSeconds(now()),
    });
    try {
      const sealed = SealedKeyFileSchema.parse(readSealedFile(paths));
      return await writeCustody({
        ...o,
        secretKey: key.secretKey,
        hePublicKeyDigest: sealed.he_public_key_digest,
        kind: 'reshare',
        now: now(),
        store,
      });
    } finally {
      key.wipe();
    }
  } finally {
    store.close();
  }
}
