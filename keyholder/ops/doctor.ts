import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { KeyHolderConfig } from '../../schemas/config.js';
import { type Check, type DoctorReport, doctorReport } from '../../shared/ops/report.js';
import {
  databaseBytes,
  diskCheck,
  type DiskThresholds,
  publicFileProblem,
  secretFileProblem,
  versionsCheck,
} from '../../shared/ops/host-checks.js';
import { identityProblems } from '../../shared/ops/key-checks.js';
import { databaseCheck, inspectDatabase } from '../../shared/ops/sqlite-file.js';
import { HOME_FILES, keyHolderPaths, readKeyHolderConfig } from '../config.js';
import { keyHolderSchemaVersion, openKeyHolderFile } from '../store/keyholder-store.js';

/** Options of {@link keyHolderDoctor}. */
export interface KeyHolderDoctorOptions {
  home: string;
  disk?: DiskThresholds;
}

/** The key holder's log file of a home (its `data_dir` from the configuration, else the home). */
export function keyHolderDbFile(home: string): string {
  try {
    return join(keyHolderPaths(home, readKeyHolderConfig(home)).dataDir, HOME_FILES.store);
  } catch {
    return join(resolve(home), HOME_FILES.store);
  }
}

/**
 * `sectorbench keyholder doctor`: versions, `keyholder.json`, the identity key (0600, a
 * consistent pair), the BFV public key, the sealed secret key (and no plain one left on disk),
 * the pinned coordinator, the log database (integrity, schema version, no interrupted use of
 * the secret key) and free disk space. Reads only; never unseals anything.
 */
export async function keyHolderDoctor(o: KeyHolderDoctorOptions): Promise<DoctorReport> {
  const home = resolve(o.home);
  const checks: Check[] = [];
  const dbFile = keyHolderDbFile(home);
  const inspection = existsSync(dbFile)
    ? inspectDatabase(dbFile, openKeyHolderFile)
    : { file: dbFile, version: null, quickCheck: [], integrityCheck: [] };
  checks.push(versionsCheck({ found: inspection.version, known: keyHolderSchemaVersion() }));

  let config: KeyHolderConfig | undefined;
  try {
    config = readKeyHolderConfig(home);
    checks.push({
      name: 'config',
      status: 'OK',
      detail: `keyholder.json valid${config.custodians ? `; ${config.custodians.k} of ${config.custodians.n} custodian shares unseal the key` : ''}.`,
    });
  } catch (e) {
    checks.push({ name: 'config', status: 'FAIL', detail: e instanceof Error ? e.message : String(e) });
  }

  const paths = config ? keyHolderPaths(home, config) : undefined;
  const fail = await identityProblems(paths?.identity ?? join(home, HOME_FILES.identity), "the key holder's");
  const warn: string[] = [];
  const bfvPub = publicFileProblem(paths?.bfvPublicKey ?? join(home, HOME_FILES.bfvPublicKey), 'BFV public key');
  if (bfvPub) fail.push(bfvPub);
  const plain = paths?.plainSecretKey ?? join(home, HOME_FILES.bfvSecretKey);
  if (paths?.sealedSecretKey) {
    const sealed = secretFileProblem(paths.sealedSecretKey, 'sealed BFV secret key');
    if (sealed) fail.push(sealed);
  } else if (config) {
    fail.push(
      "no sealed BFV secret key is configured: nothing can be released; hold the key ceremony ('sectorbench keyholder ceremony').",
    );
  }
  if (existsSync(plain))
    warn.push(
      `${plain} holds the BFV secret key in plain; hold the key ceremony ('sectorbench keyholder ceremony'), which seals it and removes this file.`,
    );
  if (config && !config.pinned_coordinator)
    warn.push(
      "no coordinator key pinned: releases cannot check the manifest; run 'sectorbench keyholder pin-coordinator'.",
    );
  checks.push(
    fail.length
      ? { name: 'keys', status: 'FAIL', detail: [...fail, ...warn].join(' ') }
      : warn.length
        ? { name: 'keys', status: 'WARN', detail: warn.join(' ') }
        : {
            name: 'keys',
            status: 'OK',
            detail:
              'identity key 0600 and a consistent pair, BFV public key present, secret key sealed, coordinator pinned.',
          },
  );

  const restoreHint = `Restore the last backup: 'sectorbench keyholder restore --home ${home} --from FILE' (docs/OPERATIONS.md).`;
  const dbCheck = databaseCheck(inspection, restoreHint);
  checks.push(dbCheck);
  if (dbCheck.status === 'OK') checks.push(interruptedCheck(dbFile));
  checks.push(diskCheck(home, databaseBytes(dbFile), o.disk));
  return doctorReport('keyholder', home, checks);
}

function interruptedCheck(dbFile: string): Check {
  const db = openKeyHolderFile(dbFile, { readonly: true });
  try {
    const { n } = z
      .object({ n: z.number() })
      .parse(db.prepare("SELECT count(*) AS n FROM decryption WHERE outcome = 'started'").get());
    return n
      ? {
          name: 'log',
          status: 'WARN',
          detail: `${n} use(s) of the BFV secret key were started and never completed (interrupted); see 'sectorbench keyholder log' and tell the coalition.`,
        }
      : { name: 'log', status: 'OK', detail: 'every logged use of the secret key completed.' };
  } finally {
    db.close();
  }
}
