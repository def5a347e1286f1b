import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  fingerprint,
  generateIdentity,
  readPublicIdentityFile,
  writeIdentityFiles,
} from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { makeDir } from '../../shared/fs/make-dir.js';
import { openNodeDb } from '../store/node-db.js';
import { CONFIG_FILE, writeNodeConfig, type NodeConfig } from './config.js';

export interface InitNodeOptions {
  home: string;
  institutionId: string;
  /** The institution's name for its pages (optional; the id otherwise). */
  institutionName?: string;
  coordinatorUrl: string;
  /** The coordinator's public identity file (`.pub`), obtained at enrolment. */
  coordinatorKeyFile: string;
  /** The key holder's public identity file (`.pub`), obtained at enrolment. */
  keyHolderKeyFile: string;
}

/**
 * `sectorbench node init`: the node's Ed25519 identity and its configuration, pinning the
 * coordinator's and key holder's keys. The returned fingerprint is read out over the phone at
 * enrolment, so the coordinator registers the right key.
 *
 * @see ../../../shared/spec/ARCHITECTURE.md "Roles"
 */
export async function initNode(
  o: InitNodeOptions,
): Promise<{ config: NodeConfig; fingerprint: string; publicKeyFile: string }> {
  makeDir(o.home, 0o700, "the node's home folder");
  if (existsSync(join(o.home, CONFIG_FILE))) {
    throw new SbError(
      'SB_ERR_NODE_EXISTS',
      `${o.home} is already initialised (${CONFIG_FILE} exists). Use another --home, or remove it deliberately to re-enrol.`,
      { home: o.home },
    );
  }
  const coordinatorKey = await readPublicIdentityFile(o.coordinatorKeyFile);
  const keyHolderKey = await readPublicIdentityFile(o.keyHolderKeyFile);
  let url: URL;
  try {
    url = new URL(o.coordinatorUrl);
  } catch {
    throw new SbError(
      'SB_ERR_USAGE',
      `--coordinator '${o.coordinatorUrl}' is not a URL (e.g. https://coordinator.example.nl).`,
    );
  }
  const identity = generateIdentity();
  await writeIdentityFiles(identity, join(o.home, 'identity.key'));
  const config: NodeConfig = {
    institution_id: o.institutionId,
    ...(o.institutionName ? { institution_name: o.institutionName } : {}),
    data_dir: '.',
    identity_key_file: 'identity.key',
    coordinator_url: url.origin,
    pinned: {
      coordinator: {
        ed25519_public_key: Buffer.from(coordinatorKey).toString('base64'),
        fingerprint: fingerprint(coordinatorKey),
      },
      key_holder: {
        ed25519_public_key: Buffer.from(keyHolderKey).toString('base64'),
        fingerprint: fingerprint(keyHolderKey),
      },
    },
    approvers: [],
    approvals_required: 1,
    log_level: 'info',
  };
  await writeNodeConfig(o.home, config);
  openNodeDb(o.home).close();
  return { config, fingerprint: fingerprint(identity.publicKey), publicKeyFile: join(o.home, 'identity.key.pub') };
}
