import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { KeyHolderConfigSchema, type KeyHolderConfig } from '../schemas/config.js';
import { SbError } from '../shared/errors/sb-error.js';
import { formatZodIssues } from '../shared/errors/zod-issues.js';

/** File name of the key holder's configuration inside its home folder. */
export const CONFIG_FILE = 'keyholder.json';

/** Fixed file names inside the key holder's home (ARCHITECTURE.md "Data at rest"). */
export const HOME_FILES = {
  config: CONFIG_FILE,
  bfvPublicKey: 'bfv-public.key',
  /** Only in homes made before key custody; `keyholder ceremony` seals it and removes it. */
  bfvSecretKey: 'bfv-secret.key',
  sealedSecretKey: 'bfv-secret.sealed',
  identity: 'identity.key',
  store: 'keyholder.sqlite',
} as const;

/** Absolute paths of the key holder's files, resolved from its configuration. */
export interface KeyHolderPaths {
  home: string;
  config: string;
  dataDir: string;
  identity: string;
  bfvPublicKey: string;
  /** The sealed BFV secret key (key custody), when the home has one. */
  sealedSecretKey?: string;
  /** A plain BFV secret key file of a home made before key custody (never read for a release). */
  plainSecretKey?: string;
}

/**
 * Read and validate `<home>/keyholder.json`. Throws `SB_ERR_KEYHOLDER_CONFIG` when it is missing
 * or invalid.
 * @see ../../shared/spec/ARCHITECTURE.md "Roles" (key holder)
 */
export function readKeyHolderConfig(home: string): KeyHolderConfig {
  const path = join(home, CONFIG_FILE);
  if (!existsSync(path)) {
    throw new SbError(
      'SB_ERR_KEYHOLDER_CONFIG',
      `${path} does not exist; run 'sectorbench keyholder init --home ${home}' first.`,
      { path },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new SbError('SB_ERR_KEYHOLDER_CONFIG', `${path} is not valid JSON; restore it from backup.`, { path });
  }
  const r = KeyHolderConfigSchema.safeParse(json);
  if (!r.success) {
    throw new SbError(
      'SB_ERR_KEYHOLDER_CONFIG',
      `${path} is not a valid key holder configuration (${formatZodIssues(r.error.issues)}); fix it or restore it from backup.`,
      { path },
    );
  }
  return r.data;
}

/** Write `<home>/keyholder.json` atomically (write + rename), after validating it. */
export function writeKeyHolderConfig(home: string, config: KeyHolderConfig): void {
  const valid = KeyHolderConfigSchema.parse(config);
  const path = join(home, CONFIG_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

/** Resolve the configured files against the home folder. */
export function keyHolderPaths(home: string, config: KeyHolderConfig): KeyHolderPaths {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(home, p));
  return {
    home: resolve(home),
    config: at(CONFIG_FILE),
    dataDir: at(config.data_dir),
    identity: at(config.identity_key_file),
    bfvPublicKey: at(config.bfv_public_key_file),
    ...(config.sealed_bfv_secret_key_file ? { sealedSecretKey: at(config.sealed_bfv_secret_key_file) } : {}),
    ...(config.bfv_secret_key_file ? { plainSecretKey: at(config.bfv_secret_key_file) } : {}),
  };
}
