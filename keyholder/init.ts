import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyHolderConfig } from '../schemas/config.js';
import {
  bfvPublicKeyDigest,
  generateBfvKeyPair,
  readBfvPublicKey,
  writeBfvKeyPair,
} from '../shared/crypto/bfv-keys.js';
import {
  fingerprint,
  generateIdentity,
  readIdentityFile,
  writeIdentityFiles,
  type Identity,
} from '../shared/crypto/identity.js';
import { SbError } from '../shared/errors/sb-error.js';
import { CONFIG_FILE, HOME_FILES, keyHolderPaths, readKeyHolderConfig, writeKeyHolderConfig } from './config.js';
import { KeyHolderStore } from './store/keyholder-store.js';

/** What `keyholder init` reports. */
export interface InitResult {
  home: string;
  /** Fingerprint of the key holder's Ed25519 key, to read out to the coordinator and nodes. */
  fingerprint: string;
  /** SHA-256 of the BFV public key (what manifests and envelopes name). */
  hePublicKeyDigest: string;
  /** Fingerprint of the pinned coordinator key, when one was given. */
  coordinatorFingerprint?: string;
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
 * Set up a key holder home: BFV key pair (`bfv-public.key`, `bfv-secret.key` mode 0600),
 * Ed25519 identity (`identity.key` 0600 + `identity.key.pub`), configuration `keyholder.json`
 * (with the coordinator key pinned when given) and the log `keyholder.sqlite`. Refuses
 * (`SB_ERR_KEYHOLDER_EXISTS`) when the home already holds a key holder.
 *
 * @see ../../shared/spec/ARCHITECTURE.md "Roles" (key holder) and "Data at rest"
 */
export async function initKeyHolder(options: { home: string; coordinatorKey?: Uint8Array }): Promise<InitResult> {
  const { home } = options;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  for (const f of [HOME_FILES.config, HOME_FILES.bfvSecretKey, HOME_FILES.bfvPublicKey, HOME_FILES.identity]) {
    if (existsSync(join(home, f))) {
      throw new SbError(
        'SB_ERR_KEYHOLDER_EXISTS',
        `${join(home, f)} exists already: ${home} holds a key holder. Use another --home, or move the old one away if you really mean to replace its keys.`,
        { file: f },
      );
    }
  }
  const config: KeyHolderConfig = {
    data_dir: '.',
    identity_key_file: HOME_FILES.identity,
    bfv_public_key_file: HOME_FILES.bfvPublicKey,
    bfv_secret_key_file: HOME_FILES.bfvSecretKey,
    log_level: 'info',
    ...(options.coordinatorKey ? { pinned_coordinator: pinned(options.coordinatorKey) } : {}),
  };
  const paths = keyHolderPaths(home, config);
  const pair = await generateBfvKeyPair();
  await writeBfvKeyPair(pair, { publicKey: paths.bfvPublicKey, secretKey: paths.bfvSecretKey });
  const identity = generateIdentity();
  await writeIdentityFiles(identity, paths.identity);
  writeKeyHolderConfig(home, config);
  KeyHolderStore.open(paths.dataDir).close();
  return {
    home,
    fingerprint: fingerprint(identity.publicKey),
    hePublicKeyDigest: bfvPublicKeyDigest(pair.publicKey),
    ...(config.pinned_coordinator ? { coordinatorFingerprint: config.pinned_coordinator.fingerprint } : {}),
  };
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

/** Load configuration, identity and BFV public key (the secret key is read only when decrypting). */
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
