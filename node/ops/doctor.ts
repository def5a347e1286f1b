import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dispatcher } from 'undici';
import { type Check, type DoctorReport, doctorReport } from '../../shared/ops/report.js';
import {
  databaseBytes,
  diskCheck,
  type DiskThresholds,
  privateFolderProblem,
  versionsCheck,
} from '../../shared/ops/host-checks.js';
import { identityProblems } from '../../shared/ops/key-checks.js';
import { databaseCheck, inspectDatabase } from '../../shared/ops/sqlite-file.js';
import type { Clock } from '../../shared/time/clock.js';
import { identityPath, readNodeConfig, type NodeConfig } from '../client/config.js';
import { nodeDbFile, nodeSchemaVersion, openNodeFile } from '../store/node-db.js';
import { datasetImportSummary } from '../store/dataset-store.js';
import { coordinatorClockCheck } from './clock-check.js';
import { coordinatorDispatcher } from '../client/tls-pin.js';

/** Options of {@link nodeDoctor}. */
export interface NodeDoctorOptions {
  home: string;
  now?: Clock;
  /** HTTP dispatcher for the clock check (default: undici's global one). */
  dispatcher?: Dispatcher;
  disk?: DiskThresholds;
}

/**
 * `sectorbench node doctor`: versions, `node.json`, the home folder private (it holds
 * student-level data), the identity key (0600, a consistent pair), the database (integrity,
 * schema version, a dataset imported), free disk space, and clock skew against the
 * coordinator (which must answer with the key pinned at enrolment). Reads only; the only
 * request it sends is the unsigned `GET /v1/health`.
 */
export async function nodeDoctor(o: NodeDoctorOptions): Promise<DoctorReport> {
  const home = resolve(o.home);
  const checks: Check[] = [];
  const dbFile = nodeDbFile(home);
  const inspection = existsSync(dbFile)
    ? inspectDatabase(dbFile, openNodeFile)
    : { file: dbFile, version: null, quickCheck: [], integrityCheck: [] };
  checks.push(versionsCheck({ found: inspection.version, known: nodeSchemaVersion() }));

  let config: NodeConfig | undefined;
  try {
    config = readNodeConfig(home);
    checks.push({
      name: 'config',
      status: 'OK',
      detail:
        `node.json valid; institution ${config.institution_id}, coordinator ${config.coordinator_url},` +
        ` ${config.approvers.length} approver(s), ${config.approvals_required} approval(s) required.`,
    });
  } catch (e) {
    checks.push({ name: 'config', status: 'FAIL', detail: (e as Error).message });
  }
  const folder = privateFolderProblem(home, "the node's home folder (it holds student-level data)");
  checks.push(
    folder
      ? { name: 'home', status: 'FAIL', detail: folder }
      : { name: 'home', status: 'OK', detail: `${home} is private to its owner (0700).` },
  );
  const keyProblems = await identityProblems(
    config ? identityPath(home, config) : resolve(home, 'identity.key'),
    "the node's",
  );
  checks.push(
    keyProblems.length
      ? { name: 'keys', status: 'FAIL', detail: keyProblems.join(' ') }
      : { name: 'keys', status: 'OK', detail: 'identity key present, 0600, a consistent pair with its .pub.' },
  );
  const restoreHint = [
    `Restore the last backup: 'sectorbench node restore --home ${home} --from FILE',`,
    'or import the dataset again (docs/OPERATIONS.md).',
  ].join(' ');
  const dbCheck = databaseCheck(inspection, restoreHint);
  checks.push(dbCheck);
  if (dbCheck.status === 'OK') checks.push(datasetCheck(dbFile, home));
  checks.push(diskCheck(home, databaseBytes(dbFile), o.disk));
  if (config)
    checks.push(
      await coordinatorClockCheck({
        coordinatorUrl: config.coordinator_url,
        pinnedKey: config.pinned.coordinator.ed25519_public_key,
        dispatcher: o.dispatcher ?? pinnedDispatcher(home, config),
        now: o.now,
      }),
    );
  return doctorReport('node', home, checks);
}

function pinnedDispatcher(home: string, config: NodeConfig): Dispatcher | undefined {
  try {
    return coordinatorDispatcher(home, config);
  } catch {
    // A missing or altered CA file: the clock check then fails on the certificate, saying so.
    return undefined;
  }
}

function datasetCheck(dbFile: string, home: string): Check {
  const db = openNodeFile(dbFile, { readonly: true });
  try {
    const row = datasetImportSummary(db);
    return row
      ? {
          name: 'dataset',
          status: 'OK',
          detail: `dataset imported ${row.importedAt} (${row.enrolmentRecords} enrolment records).`,
        }
      : {
          name: 'dataset',
          status: 'WARN',
          detail: [
            `no dataset imported yet; run 'sectorbench node import --home ${home} --enrolments FILE`,
            `--attendance FILE'.`,
          ].join(' '),
        };
  } finally {
    db.close();
  }
}
