import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type Check, type DoctorReport, doctorReport } from '../../shared/ops/report.js';
import { databaseBytes, diskCheck, type DiskThresholds, versionsCheck } from '../../shared/ops/host-checks.js';
import { identityProblems, tlsProblems } from '../../shared/ops/key-checks.js';
import { databaseCheck, inspectDatabase } from '../../shared/ops/sqlite-file.js';
import { type Clock, systemClock } from '../../shared/time/clock.js';
import { CONFIG_FILE, IDENTITY_FILE, readHomeConfig, type CoordinatorHomeConfig } from '../home.js';
import { coordinatorSchemaVersion, DB_FILE, openCoordinatorFile } from '../store/db.js';
import { pinnedKeyHolder } from '../store/pins.js';
import { errorMessage } from '../../shared/errors/sb-error.js';

/** Options of {@link coordinatorDoctor}. */
export interface CoordinatorDoctorOptions {
  home: string;
  now?: Clock;
  disk?: DiskThresholds;
}

/**
 * `sectorbench coordinator doctor`: versions, `coordinator.json`, the identity key (0600, a
 * consistent pair), the TLS certificate and key when configured (validity, the pair), the
 * database (integrity, schema version, pinned key holder) and free disk space. Reads only:
 * nothing is created, migrated or written, so it is safe while the service runs.
 */
export async function coordinatorDoctor(o: CoordinatorDoctorOptions): Promise<DoctorReport> {
  const home = resolve(o.home);
  const now = o.now ?? systemClock;
  const checks: Check[] = [];
  const dbFile = join(home, DB_FILE);
  const inspection = existsSync(dbFile)
    ? inspectDatabase(dbFile, openCoordinatorFile)
    : { file: dbFile, version: null, quickCheck: [], integrityCheck: [] };
  checks.push(versionsCheck({ found: inspection.version, known: coordinatorSchemaVersion() }));

  let config: CoordinatorHomeConfig | undefined;
  try {
    config = readHomeConfig(home);
    checks.push({
      name: 'config',
      status: 'OK',
      detail: `${CONFIG_FILE} valid; listens on ${config.listen.host}:${config.listen.port}, public URL ${config.public_url}${config.tls ? ', TLS on' : ''}.`,
    });
    if (!config.tls && !/^https:/.test(config.public_url))
      checks.push({
        name: 'tls',
        status: 'WARN',
        detail: `no TLS: requests and receipts travel in the clear unless a TLS proxy is in front; see docs/OPERATIONS.md "TLS".`,
      });
  } catch (e) {
    checks.push({ name: 'config', status: 'FAIL', detail: errorMessage(e) });
  }

  const at = (p: string) => (isAbsolute(p) ? p : join(home, p));
  const keyProblems = await identityProblems(at(config?.identity_key_file ?? IDENTITY_FILE), "the coordinator's");
  checks.push(
    keyProblems.length
      ? { name: 'keys', status: 'FAIL', detail: keyProblems.join(' ') }
      : { name: 'keys', status: 'OK', detail: 'identity key present, 0600, a consistent pair with its .pub.' },
  );
  if (config?.tls) {
    const t = tlsProblems(at(config.tls.cert_file), at(config.tls.key_file), now);
    checks.push(
      t.fail.length
        ? { name: 'tls', status: 'FAIL', detail: [...t.fail, ...t.warn].join(' ') }
        : t.warn.length
          ? { name: 'tls', status: 'WARN', detail: t.warn.join(' ') }
          : { name: 'tls', status: 'OK', detail: 'certificate valid, key 0600 and matching.' },
    );
  }

  const restoreHint = `Restore the last backup: 'sectorbench coordinator restore --home ${home} --from FILE' (docs/OPERATIONS.md).`;
  const dbCheck = databaseCheck(inspection, restoreHint);
  checks.push(dbCheck);
  if (dbCheck.status === 'OK') checks.push(pinCheck(dbFile));
  checks.push(diskCheck(home, databaseBytes(dbFile), o.disk));
  return doctorReport('coordinator', home, checks);
}

function pinCheck(dbFile: string): Check {
  const db = openCoordinatorFile(dbFile, { readonly: true });
  try {
    pinnedKeyHolder(db);
    return { name: 'pins', status: 'OK', detail: 'key holder key pinned.' };
  } catch (e) {
    return { name: 'pins', status: 'WARN', detail: `${errorMessage(e)} Rounds cannot open until then.` };
  } finally {
    db.close();
  }
}
