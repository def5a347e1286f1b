import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  fingerprint,
  generateIdentity,
  readPublicIdentityFile,
  writeIdentityFiles,
} from '../../shared/crypto/identity.js';
import { SbError } from '../../shared/errors/sb-error.js';
import { certFingerprint, normaliseFingerprint } from '../../shared/crypto/cert-fingerprint.js';
import type { CoordinatorTlsPin } from '../../schemas/config.js';
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
  /** https coordinator: the coalition CA certificate (PEM) to pin, obtained at enrolment. */
  coordinatorCaFile?: string;
  /** https coordinator: the SHA-256 fingerprint of its certificate to pin instead. */
  coordinatorCertSha256?: string;
  /**
   * Air-gapped node (issue 16, item 3): `transport: "file"` in node.json, so every round message
   * goes as a signed file carried by hand and the privacy texts say the node connects to nothing.
   */
  offline?: boolean;
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
      [
        `${o.home} is already initialised (${CONFIG_FILE} exists).`,
        'Use another --home, or remove it deliberately to re-enrol.',
      ].join(' '),
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
  const tls = tlsPin(o, url);
  const identity = generateIdentity();
  await writeIdentityFiles(identity, join(o.home, 'identity.key'));
  if (o.coordinatorCaFile) copyFileSync(o.coordinatorCaFile, join(o.home, COORDINATOR_CA_FILE));
  const config: NodeConfig = {
    institution_id: o.institutionId,
    ...(o.institutionName ? { institution_name: o.institutionName } : {}),
    data_dir: '.',
    identity_key_file: 'identity.key',
    coordinator_url: url.origin,
    ...(tls ? { coordinator_tls: tls } : {}),
    ...(o.offline ? { transport: 'file' as const } : {}),
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

/** Where `node init --coordinator-ca` keeps its copy of the pinned CA certificate. */
export const COORDINATOR_CA_FILE = 'coordinator-ca.pem';

/** The TLS pin of an https coordinator (required), refused for an http one. */
function tlsPin(o: InitNodeOptions, url: URL): CoordinatorTlsPin | undefined {
  const given = [o.coordinatorCaFile, o.coordinatorCertSha256].filter((x) => x !== undefined).length;
  if (url.protocol !== 'https:') {
    if (given)
      throw new SbError(
        'SB_ERR_USAGE',
        [
          `--coordinator ${url.origin} is not https;`,
          'a TLS pin (--coordinator-ca, --coordinator-cert-sha256) needs an https:// URL.',
        ].join(' '),
      );
    return undefined;
  }
  if (given !== 1)
    throw new SbError(
      'SB_ERR_USAGE',
      `--coordinator ${url.origin} is https: pin its TLS certificate at enrolment with exactly one ` +
        'of --coordinator-ca FILE (the coalition CA) or --coordinator-cert-sha256 FINGERPRINT.',
    );
  if (o.coordinatorCertSha256)
    return { pin: 'certificate', cert_sha256: normaliseFingerprint(o.coordinatorCertSha256) };
  const file = o.coordinatorCaFile as string;
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (e) {
    throw new SbError('SB_ERR_USAGE', `cannot read --coordinator-ca ${file} (${(e as Error).message}).`, { file });
  }
  return { pin: 'ca', ca_file: COORDINATOR_CA_FILE, ca_sha256: certFingerprint(pem, `--coordinator-ca ${file}`) };
}
