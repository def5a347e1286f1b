// Online backups (SQLite backup API) of every role's database during a real round over
// loopback, and restores: refused while the service holds the database, refused for a bad
// backup, and a restored coordinator serves the same releases; a restored node yields the same
// dataset and vector (../shared/sample/expected), a restored key holder the same log.
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { Agent, type Dispatcher, request } from 'undici';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, submitAll } from '../../demo/local-round.js';
import type { Release } from '../../schemas/release.js';
import { startServer } from '../../coordinator/index.js';
import { coordinatorSchemaVersion, openCoordinatorFile } from '../../coordinator/store/db.js';
import { KeyHolderStore, keyHolderSchemaVersion, openKeyHolderFile } from '../../keyholder/store/keyholder-store.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import { nodeSchemaVersion, openNodeFile } from '../../node/store/node-db.js';
import { backupDatabase, restoreDatabase } from '../../shared/ops/sqlite-file.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { releaseDigest } from '../../shared/protocol/release-digest.js';
import { runCli } from '../helpers/cli.js';
import { sampleDir } from '../helpers/paths.js';
import { startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 25, dominance_share: 0.85, min_institutions_distribution: 5 };
const expected1 = JSON.parse(readFileSync(join(sampleDir, 'expected/inst-1.json'), 'utf8')) as {
  cells: unknown;
  groups: unknown;
};

/** Trusts the round's coalition CA when the round runs over TLS (SB_TEST_TLS=1). */
let dispatcher: Dispatcher | undefined;

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await request(url, dispatcher ? { dispatcher } : {});
  return { status: r.statusCode, body: await r.body.text() };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isSbError(e) ? e.code : `not coded: ${(e as Error).message}`;
  }
  return 'no error';
}

function damage(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(4096 * 4, 0x5a), 0, 4096 * 4, 4096);
  } finally {
    closeSync(fd);
  }
}

type Round = Awaited<ReturnType<typeof startRound>>;
type Backups = Awaited<ReturnType<typeof backupOnline>>;

/** Online: the server and an admin connection hold the database while another process backs it up. */
async function backupOnline(t: Test, round: Round, dir: string) {
  // Online: the server and an admin connection hold the database while another process backs it up.
  const backups = join(dir, 'backups');
  const coordBackup = join(backups, 'coordinator.sqlite');
  const cli = runCli(['coordinator', 'backup', '--home', round.coordinator.home, '--out', coordBackup]);
  t.equal(cli.code, 0, cli.stderr);
  t.match(cli.stdout, /integrity_check ok/);
  t.equal(statSync(coordBackup).mode & 0o777, 0o600, 'backup file is 0600');
  t.notOk(existsSync(`${coordBackup}-wal`), 'the backup is one file (no WAL beside it)');
  const again = runCli(['coordinator', 'backup', '--home', round.coordinator.home, '--out', coordBackup]);
  t.equal(again.code, 1);
  t.match(again.stderr, /^error SB_ERR_EXISTS: .*exists already/);

  const nodeDb = join(round.nodes[0]!.home, 'node.sqlite');
  const nodeBackup = join(backups, 'inst-1.sqlite');
  const nb = await backupDatabase({ live: nodeDb, out: nodeBackup, open: openNodeFile, known: nodeSchemaVersion() });
  t.equal(nb.version, nodeSchemaVersion());
  t.equal(statSync(nodeBackup).mode & 0o777, 0o600, 'node backup (student-level data) is 0600');
  const khDb = join(round.keyHolder.home, 'keyholder.sqlite');
  const khBackup = join(backups, 'keyholder.sqlite');
  await backupDatabase({ live: khDb, out: khBackup, open: openKeyHolderFile, known: keyHolderSchemaVersion() });

  return { backups, coordBackup, nodeDb, nodeBackup, khDb, khBackup };
}

/** Restore is refused while the coordinator serves from the database: in another process and in this one. */
async function restoreRefusedWhileServing(
  t: Test,
  round: Round,
  { coordBackup }: Backups,
  coordDb: string,
  base: string,
  served: { body: string },
): Promise<void> {
  // Restore is refused while the coordinator serves from the database: in another process and in this one.
  const busy = runCli(['coordinator', 'restore', '--home', round.coordinator.home, '--from', coordBackup]);
  t.equal(busy.code, 1);
  t.match(busy.stderr, /^error SB_ERR_DB_IN_USE: .*in use by another process .*nothing was changed/);
  t.equal(
    code(() =>
      restoreDatabase({
        live: coordDb,
        from: coordBackup,
        open: openCoordinatorFile,
        known: coordinatorSchemaVersion(),
        stopHint: 'stop it',
      }),
    ),
    'SB_ERR_DB_IN_USE',
  );
  t.equal((await get(`${base}/release`)).body, served.body, 'the refused restore left the service as it was');
}

/** The database damaged; a damaged or too new backup is refused; the good one restores and serves the same release. */
async function restoreCoordinator(
  t: Test,
  round: Round,
  { backups, coordBackup }: Backups,
  coordDb: string,
  served: { body: string },
  servedCsv: { body: string },
): Promise<void> {
  damage(coordDb);
  const badBackup = join(backups, 'damaged.sqlite');
  const copy = new Database(coordBackup, { readonly: true });
  await copy.backup(badBackup);
  copy.close();
  damage(badBackup);
  t.equal(
    code(() =>
      restoreDatabase({
        live: coordDb,
        from: badBackup,
        open: openCoordinatorFile,
        known: coordinatorSchemaVersion(),
        stopHint: '',
      }),
    ),
    'SB_ERR_BACKUP_INVALID',
  );
  const future = join(backups, 'future.sqlite');
  const f = new Database(coordBackup, { readonly: true });
  await f.backup(future);
  f.close();
  const fw = new Database(future);
  fw.pragma(`user_version = ${coordinatorSchemaVersion() + 1}`);
  fw.close();
  const tooNew = runCli(['coordinator', 'restore', '--home', round.coordinator.home, '--from', future]);
  t.equal(tooNew.code, 1);
  t.match(tooNew.stderr, /SB_ERR_BACKUP_INVALID: .*schema version \d+, this sectorbench knows \d+/);

  const restored = runCli(['coordinator', 'restore', '--home', round.coordinator.home, '--from', coordBackup]);
  t.equal(restored.code, 0, restored.stderr);
  const kept = /kept as (\S+)\./.exec(restored.stdout)?.[1];
  t.ok(kept && existsSync(kept), 'the replaced (damaged) database is kept beside it');
  t.equal(statSync(coordDb).mode & 0o777, 0o600);

  // The round's dispatcher closed with it; over TLS the restored server is reached with the same CA.
  const caFile = join(round.coordinator.home, 'tls', 'ca.pem');
  dispatcher = dispatcher && existsSync(caFile) ? new Agent({ connect: { ca: readFileSync(caFile) } }) : undefined;
  t.teardown(() => (dispatcher as Agent | undefined)?.close());
  const server = await startServer({ home: round.coordinator.home, host: '127.0.0.1', port: 0, logger: false });
  t.teardown(() => server.close());
  const base2 = `${server.url}/v1/rounds/${round.roundId}`;
  const after = await get(`${base2}/release`);
  t.equal(after.status, 200);
  t.equal(after.body, served.body, 'the restored coordinator serves the same signed release, byte for byte');
  t.equal((await get(`${base2}/release.csv`)).body, servedCsv.body, 'and the same CSV');
}

/** Node: damage, restore, same dataset and the sample's expected vector; its receipt kept. */
async function restoreNode(t: Test, round: Round, { nodeDb, nodeBackup }: Backups): Promise<void> {
  const node = round.nodes[0]!;
  // Node: damage, restore, same dataset and the sample's expected vector; its receipt kept.
  const beforeDb = new Database(nodeDb, { readonly: true });
  const receiptsBefore = beforeDb.prepare('SELECT receipt_json FROM submission ORDER BY id').all();
  beforeDb.close();
  t.equal(receiptsBefore.length, 1, 'the node holds its receipted submission');
  rmSync(nodeDb);
  rmSync(`${nodeDb}-wal`, { force: true });
  rmSync(`${nodeDb}-shm`, { force: true });
  const nr = restoreDatabase({
    live: nodeDb,
    from: nodeBackup,
    open: openNodeFile,
    known: nodeSchemaVersion(),
    stopHint: '',
  });
  t.equal(nr.keptAs, null, 'nothing to keep when the database was gone');
  const v = await computeNodeVector({ home: node.home, codebook: join(sampleDir, 'codebook.csv'), year: 2024 });
  t.same(v.json.cells, expected1.cells, 'restored node: the vector equals sample/expected/inst-1.json (cells)');
  t.same(v.json.groups, expected1.groups, 'and its groups');
  const nodeRows = new Database(nodeDb, { readonly: true });
  t.same(nodeRows.prepare('SELECT receipt_json FROM submission ORDER BY id').all(), receiptsBefore, 'receipt kept');
  nodeRows.close();
}

/** Key holder: damage, restore, the same signed release in its log. */
function restoreKeyHolder(t: Test, round: Round, { khDb, khBackup }: Backups, release: Release): void {
  // Key holder: damage, restore, the same signed release in its log.
  damage(khDb);
  restoreDatabase({
    live: khDb,
    from: khBackup,
    open: openKeyHolderFile,
    known: keyHolderSchemaVersion(),
    stopHint: '',
  });
  const store = KeyHolderStore.open(round.keyHolder.home);
  t.same(
    store.releases(round.roundId).map((r) => r.releaseDigest),
    [releaseDigest(release)],
    'the restored log holds the signed release',
  );
  t.equal(store.releaseDocuments(round.roundId).length, 1, 'the signed release document is in the restored log');
  store.close();
}

t.test('backup during a round, restore after damage: same releases, same vector, same log', async (t) => {
  const dir = t.testdir();
  const round = await startRound(dir, { thresholds: THRESHOLDS });
  dispatcher = round.coordinator.dispatcher;
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await round.stop();
  });
  await submitAll(round, approveAsPrivacyOfficer);
  const { release } = await closeAndRelease(round);
  const coordDb = join(round.coordinator.home, 'coordinator.sqlite');
  const base = `${round.coordinator.url}/v1/rounds/${round.roundId}`;
  const served = await get(`${base}/release`);
  const servedCsv = await get(`${base}/release.csv`);
  t.equal(served.status, 200);
  t.equal(JSON.parse(served.body).round_id, release.round_id);

  const b = await backupOnline(t, round, dir);
  await restoreRefusedWhileServing(t, round, b, coordDb, base, served);
  // Stop the service; the database gets damaged; a damaged or too new backup is refused.
  await round.stop();
  stopped = true;
  await restoreCoordinator(t, round, b, coordDb, served, servedCsv);
  await restoreNode(t, round, b);
  restoreKeyHolder(t, round, b, release);
});
