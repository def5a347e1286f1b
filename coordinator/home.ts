import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  fingerprint,
  generateIdentity,
  readIdentityFile,
  writeIdentityFiles,
  type Identity,
} from '../shared/crypto/identity.js';
import { SbError, errorMessage } from '../shared/errors/sb-error.js';
import { makeDir, removeMadeDirs } from '../shared/fs/make-dir.js';
import type { CoordinatorAppConfig } from './context.js';
import { DB_FILE, openCoordinatorDb, type CoordinatorDb } from './store/db.js';
import { formatZodIssues } from '../shared/errors/zod-issues.js';
import { createCoalitionCa, installCertificate, serverNames, type TlsSetup } from './tls/certificates.js';

/** File name of the coordinator configuration inside its home folder. */
export const CONFIG_FILE = 'coordinator.json';
/** File name of the coordinator's Ed25519 identity (secret, 0600; `.pub` beside it). */
export const IDENTITY_FILE = 'coordinator-identity.json';

/**
 * `<home>/coordinator.json`: like schemas/config.ts `CoordinatorConfigSchema`, with paths
 * relative to the home folder; the pinned key holder key lives in the database (pins.ts) so
 * it changes in the same transactions as rounds.
 */
export const CoordinatorHomeConfigSchema = z
  .object({
    listen: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8443) })
      .strict(),
    public_url: z.url(),
    identity_key_file: z.string().min(1).default(IDENTITY_FILE),
    tls: z
      .object({
        cert_file: z.string().min(1),
        key_file: z.string().min(1),
        /** The private coalition CA `coordinator init --tls-ca` made (what nodes pin), if any. */
        ca_file: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    max_contribution_bytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    request_max_age_seconds: z.number().int().positive().default(300),
    rate_limit: z
      .object({
        ip_per_minute: z.number().int().positive(),
        institution_per_minute: z.number().int().positive(),
        failed_auth_per_minute: z.number().int().positive().default(30),
      })
      .strict()
      .default({ ip_per_minute: 600, institution_per_minute: 60, failed_auth_per_minute: 30 }),
    trust_proxy: z.boolean().default(false),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .strict();
export type CoordinatorHomeConfig = z.infer<typeof CoordinatorHomeConfigSchema>;

/** Input of {@link initCoordinator}. */
export interface InitCoordinatorInput {
  home: string;
  publicUrl?: string;
  host?: string;
  port?: number;
  /** Use this identity instead of generating one (tests, demo). */
  identity?: Identity;
  /**
   * TLS (issue 16): `{ ca: { name } }` creates a private coalition CA and a server certificate
   * for the public URL's host; `{ certFile, keyFile }` installs given files. Absent: plain HTTP
   * (behind a TLS-terminating proxy).
   */
  tls?: { ca: { name?: string } } | { certFile: string; keyFile: string };
}

/**
 * `sectorbench coordinator init`: create the home folder with a new Ed25519 identity, the
 * configuration file and an empty database. Refuses to overwrite an existing coordinator.
 */
export async function initCoordinator(input: InitCoordinatorInput): Promise<{
  home: string;
  configPath: string;
  identityPath: string;
  dbPath: string;
  fingerprint: string;
  tls?: TlsSetup;
}> {
  const home = resolve(input.home);
  const host = input.host ?? '127.0.0.1';
  const port = input.port ?? 8443;
  const parsed = CoordinatorHomeConfigSchema.safeParse({
    listen: { host, port },
    public_url:
      input.publicUrl ?? `${input.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
  });
  if (!parsed.success) {
    throw new SbError(
      'SB_ERR_USAGE',
      `invalid coordinator settings: ${formatZodIssues(parsed.error.issues)}. ` +
        `Check --public-url (a full URL such as https://coordinator.example.nl), --host and --port.`,
    );
  }
  const config = parsed.data;
  if (input.tls && !config.public_url.startsWith('https:'))
    throw new SbError(
      'SB_ERR_USAGE',
      `--public-url ${config.public_url} is not https, but TLS was asked for; give an https:// URL.`,
    );
  const configPath = join(home, CONFIG_FILE);
  const identityPath = join(home, IDENTITY_FILE);
  // Checked before anything is made, so a refusal leaves the disk as it was (issue 13).
  if (existsSync(configPath) || existsSync(identityPath)) {
    throw new SbError(
      'SB_ERR_EXISTS',
      `${home} already holds a coordinator; use another --home or remove it deliberately.`,
      { home },
    );
  }
  // Not mkdirSync({recursive}): that spins forever under /proc (issue 13); the home holds the
  // identity's secret key, hence 0700.
  const created = makeDir(home, 0o700, "the coordinator's home folder");
  try {
    let tls: TlsSetup | undefined;
    if (input.tls)
      tls =
        'ca' in input.tls
          ? createCoalitionCa(
              home,
              serverNames(config.public_url, host),
              input.tls.ca.name ?? 'sectorbench coalition CA',
            )
          : installCertificate(home, input.tls.certFile, input.tls.keyFile);
    if (tls)
      config.tls = { cert_file: tls.certFile, key_file: tls.keyFile, ...(tls.caFile ? { ca_file: tls.caFile } : {}) };
    const identity = input.identity ?? generateIdentity();
    await writeIdentityFiles(identity, identityPath);
    const db = openCoordinatorDb(join(home, DB_FILE));
    db.close();
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { flag: 'wx' });
    return {
      home,
      configPath,
      identityPath,
      dbPath: join(home, DB_FILE),
      fingerprint: fingerprint(identity.publicKey),
      ...(tls ? { tls } : {}),
    };
  } catch (e) {
    removeMadeDirs(created);
    throw e;
  }
}

/** Read and validate `<home>/coordinator.json`. */
export function readHomeConfig(home: string): CoordinatorHomeConfig {
  const path = join(resolve(home), CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SbError(
      'SB_ERR_CONFIG',
      `cannot read ${path} (${errorMessage(e)}); run 'sectorbench coordinator init --home ${home}' first.`,
      { path },
    );
  }
  const r = CoordinatorHomeConfigSchema.safeParse(raw);
  if (!r.success)
    throw new SbError(
      'SB_ERR_CONFIG',
      `${path} is not a valid coordinator configuration: ${formatZodIssues(r.error.issues)}`,
      { path },
    );
  return r.data;
}

/** HTTP settings from the home configuration. */
export function appConfigFromHome(c: CoordinatorHomeConfig): CoordinatorAppConfig {
  return {
    publicUrl: c.public_url.replace(/\/+$/, ''),
    requestMaxAgeSeconds: c.request_max_age_seconds,
    maxContributionBytes: c.max_contribution_bytes,
    rateLimit: {
      ipPerMinute: c.rate_limit.ip_per_minute,
      institutionPerMinute: c.rate_limit.institution_per_minute,
      failedAuthPerMinute: c.rate_limit.failed_auth_per_minute,
    },
    trustProxy: c.trust_proxy,
  };
}

/** An opened coordinator home: configuration, identity and database (close `db` when done). */
export interface CoordinatorHome {
  home: string;
  config: CoordinatorHomeConfig;
  appConfig: CoordinatorAppConfig;
  identity: Identity;
  db: CoordinatorDb;
}

/** Open a coordinator home folder created by {@link initCoordinator}. */
export async function openCoordinatorHome(home: string): Promise<CoordinatorHome> {
  const dir = resolve(home);
  const config = readHomeConfig(dir);
  const idPath = isAbsolute(config.identity_key_file) ? config.identity_key_file : join(dir, config.identity_key_file);
  const identity = await readIdentityFile(idPath);
  const db = openCoordinatorDb(join(dir, DB_FILE));
  return { home: dir, config, appConfig: appConfigFromHome(config), identity, db };
}
