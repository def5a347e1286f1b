import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyHolderConfig } from '../schemas/config.js';
import { bfvPublicKeyDigest, generateBfvKeyPair, readBfvPublicKey } from '../shared/crypto/bfv-keys.js';
import { writePublicFile } from '../shared/crypto/key-files.js';
import {
  fingerprint,
  generateIdentity,
  readIdentityFile,
  writeIdentityFiles,
  type Identity,
} from '../shared/crypto/identity.js';
import { SbError } from '../shared/errors/sb-error.js';
import { makeDir, removeMadeDirs } from '../shared/fs/make-dir.js';
import { CONFIG_FILE, HOME_FILES, keyHolderPaths, readKeyHolderConfig, writeKeyHolderConfig } from './config.js';
import { checkShareDir, sealNewKey, type CeremonyResult } from './custody/ceremony.js';
import { validateCustodians, type CustodianSpec } from './custody/seal.js';
import { KeyHolderStore } from './store/keyholder-store.js';
import type { Clock } from '../shared/time/clock.js';

/** What `keyholder init` reports. */
export interface InitResult {
  home: string;
  /** Fingerprint of the key holder's Ed25519 key, to read out to the coordinator and nodes. */
  fingerprint: string;
  /** SHA-256 of the BFV public key (what manifests and envelopes name). */
  hePublicKeyDigest: string;
  /** Fingerprint of the pinned coordinator key, when one was given. */
  coordinatorFingerprint?: string;
  /** The key ceremony: what each custodian keeps. */
  ceremony: CeremonyResult;
}

/** The custodians of a new key holder (see keyholder/custody/). */
export interface CustodyInit {
  /** Shares needed to unseal (2 <= k <= n). */
  k: number;
  custodians: readonly CustodianSpec[];
  /** Where the custodians' share files are written: outside the home. */
  shareDir: string;
}

function pinned(key: Uint8Array): NonNullable<KeyHolderConfig['pinned_coordinator']> {
  if (key.byteLength !== 32)
    throw new SbError(
      'SB_ERR_KEY_FILE',
      "a coordinator key is a 32-byte Ed25519 public key; pass the coordinator's identity .pub file.",
    );
  return { ed25519_public_key: Buffer.from(key).toString('base64'), fingerprint: fingerprint(key) };
}

/**
 * Set up a key holder home and hold its key ceremony: a BFV key pair whose secret key never
 * touches the disk in plain — it is sealed at once (`bfv-secret.sealed`) under a random key
 * split k of n among the custodians, whose share files go to `custody.shareDir` (outside the
 * home); `bfv-public.key`; Ed25519 identity (`identity.key` 0600 + `identity.key.pub`);
 * configuration `keyholder.json` (with the coordinator key pinned when given) and the log
 * `keyholder.sqlite` (which records the ceremony). Refuses (`SB_ERR_KEYHOLDER_EXISTS`) when the
 * home already holds a key holder; `SB_ERR_USAGE` for an invalid custodian list.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "Roles" (key holder), "Key custody" and "Data at rest"
 */
export async function initKeyHolder(options: {
  home: string;
  coordinatorKey?: Uint8Array;
  custody: CustodyInit;
  now?: Clock;
}): Promise<InitResult> {
  const { home } = options;
  validateCustodians(options.custody.k, options.custody.custodians);
  checkShareDir(options.custody.shareDir, home);
  // Every refusal that needs no folder comes before any folder is made (issue 13: a bad
  // invocation leaves the disk as it was).
  refuseExistingKeyHolder(home);
  const config: KeyHolderConfig = {
    data_dir: '.',
    identity_key_file: HOME_FILES.identity,
    bfv_public_key_file: HOME_FILES.bfvPublicKey,
    sealed_bfv_secret_key_file: HOME_FILES.sealedSecretKey,
    custodians: { k: options.custody.k, n: options.custody.custodians.length },
    log_level: 'info',
    ...(options.coordinatorKey ? { pinned_coordinator: pinned(options.coordinatorKey) } : {}),
  };
  const paths = keyHolderPaths(home, config);
  // Not mkdirSync({recursive}): that spins forever under /proc (issue 13). The share folder is
  // made here too, so an unusable one is refused before any key exists.
  const created = makeDir(home, 0o700, "the key holder's home folder");
  let sharesCreated: string[];
  try {
    sharesCreated = makeDir(options.custody.shareDir, 0o700, "the custodians' share folder", 'folder');
  } catch (e) {
    removeMadeDirs(created);
    throw e;
  }
  const pair = await generateBfvKeyPair();
  try {
    const hePublicKeyDigest = bfvPublicKeyDigest(pair.publicKey);
    const identity = generateIdentity();
    writeKeyHolderConfig(home, config);
    const ceremony = await holdCeremony(options, paths, pair.secretKey, hePublicKeyDigest, {
      shares: sharesCreated,
      home: created,
    });
    await writePublicFile(paths.bfvPublicKey, pair.publicKey);
    await writeIdentityFiles(identity, paths.identity);
    return {
      home,
      fingerprint: fingerprint(identity.publicKey),
      hePublicKeyDigest,
      ...(config.pinned_coordinator ? { coordinatorFingerprint: config.pinned_coordinator.fingerprint } : {}),
      ceremony,
    };
  } finally {
    pair.secretKey.fill(0);
  }
}

/** Refuses a home that already holds any of a key holder's files (`SB_ERR_KEYHOLDER_EXISTS`). */
function refuseExistingKeyHolder(home: string): void {
  for (const f of [
    HOME_FILES.config,
    HOME_FILES.bfvSecretKey,
    HOME_FILES.sealedSecretKey,
    HOME_FILES.bfvPublicKey,
    HOME_FILES.identity,
  ]) {
    if (existsSync(join(home, f))) {
      throw new SbError(
        'SB_ERR_KEYHOLDER_EXISTS',
        `${join(home, f)} exists already: ${home} holds a key holder. ` +
          'Use another --home, or move the old one away if you really mean to replace its keys.',
        { file: f },
      );
    }
  }
}

/**
 * The key ceremony of a new home, before any key file is written: if the custodian list is
 * refused, the configuration, the log and the folders `made` (share folder first) are removed,
 * so no key file or half a home is left behind.
 */
async function holdCeremony(
  options: { home: string; custody: CustodyInit; now?: Clock },
  paths: ReturnType<typeof keyHolderPaths>,
  secretKey: Uint8Array,
  hePublicKeyDigest: string,
  made: { shares: string[]; home: string[] },
): Promise<CeremonyResult> {
  const { home } = options;
  const store = KeyHolderStore.open(paths.dataDir);
  let ceremony: CeremonyResult;
  try {
    ceremony = await sealNewKey({
      home,
      ...options.custody,
      secretKey,
      hePublicKeyDigest,
      store,
      ...(options.now ? { now: options.now } : {}),
    });
  } catch (e) {
    store.close();
    for (const f of [HOME_FILES.config, HOME_FILES.store, `${HOME_FILES.store}-wal`, `${HOME_FILES.store}-shm`])
      rmSync(join(home, f), { force: true });
    removeMadeDirs(made.shares);
    removeMadeDirs(made.home);
    throw e;
  }
  store.close();
  return ceremony;
}

/**
 * Pin (or re-pin) the coordinator's Ed25519 key in `keyholder.json`; returns its fingerprint,
 * which the operator compares with the one the coordinator reads out.
 */
export function pinCoordinator(options: { home: string; coordinatorKey: Uint8Array }): string {
  const config = readKeyHolderConfig(options.home);
  const p = pinned(options.coordinatorKey);
  writeKeyHolderConfig(options.home, { ...config, pinned_coordinator: p });
  return p.fingerprint;
}

/** The key holder's keys and configuration, loaded from its home. */
export interface KeyHolderKeys {
  config: KeyHolderConfig;
  paths: ReturnType<typeof keyHolderPaths>;
  identity: Identity;
  bfvPublicKey: Uint8Array;
  hePublicKeyDigest: string;
  /** The pinned coordinator key, if any. */
  coordinatorKey?: Uint8Array;
}

/** Load configuration, identity and BFV public key (the secret key is only ever unsealed for a use, with custodian shares). */
export async function loadKeyHolder(home: string): Promise<KeyHolderKeys> {
  const config = readKeyHolderConfig(home);
  const paths = keyHolderPaths(home, config);
  const identity = await readIdentityFile(paths.identity);
  const bfvPublicKey = await readBfvPublicKey(paths.bfvPublicKey);
  const coordinatorKey = config.pinned_coordinator
    ? new Uint8Array(Buffer.from(config.pinned_coordinator.ed25519_public_key, 'base64'))
    : undefined;
  if (coordinatorKey && fingerprint(coordinatorKey) !== config.pinned_coordinator?.fingerprint) {
    throw new SbError(
      'SB_ERR_KEYHOLDER_CONFIG',
      `the pinned coordinator key in ${join(home, CONFIG_FILE)} does not match its fingerprint; pin it again with 'keyholder pin-coordinator'.`,
    );
  }
  return {
    config,
    paths,
    identity,
    bfvPublicKey,
    hePublicKeyDigest: bfvPublicKeyDigest(bfvPublicKey),
    ...(coordinatorKey ? { coordinatorKey } : {}),
  };
}
