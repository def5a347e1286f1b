// `sectorbench doctor` on real homes made by the real init functions (the ones the init
// commands call), healthy and broken: missing key, wrong permissions, damaged database,
// invalid configuration, clock skew against a real coordinator on loopback.
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { initCoordinator, openCoordinatorHome, pinKeyHolder, startServer } from '../../coordinator/index.js';
import { coordinatorDoctor } from '../../coordinator/ops/doctor.js';
import { initKeyHolder } from '../../keyholder/init.js';
import { generateCustodians } from '../../keyholder/custody/present.js';
import { keyHolderDoctor } from '../../keyholder/ops/doctor.js';
import { initNode } from '../../node/client/init.js';
import { importDataset } from '../../node/import/import-dataset.js';
import { nodeDoctor } from '../../node/ops/doctor.js';
import { readPublicIdentityFile } from '../../shared/crypto/identity.js';
import { diskCheck } from '../../shared/ops/host-checks.js';
import type { DoctorReport } from '../../shared/ops/report.js';
import { runCli } from '../helpers/cli.js';
import { sampleDir } from '../helpers/paths.js';

const EDGE = join(sampleDir, 'edge');

function status(r: DoctorReport): Record<string, string> {
  return Object.fromEntries(r.checks.map((c) => [c.name, c.status]));
}
function detail(r: DoctorReport, name: string): string {
  return r.checks.find((c) => c.name === name)?.detail ?? '';
}
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Overwrite one page in the middle of a database file with junk (the header page stays). */
function damage(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096 * 2);
  } finally {
    closeSync(fd);
  }
}

async function coordinatorHome(dir: string) {
  const home = join(dir, 'coordinator');
  const c = await initCoordinator({ home, host: '127.0.0.1', port: 0 });
  return { home, pub: `${c.identityPath}.pub` };
}

t.test('coordinator: healthy, then each kind of breakage', async (t) => {
  const dir = t.testdir();
  const { home } = await coordinatorHome(dir);
  const fresh = await coordinatorDoctor({ home });
  t.same(status(fresh), {
    versions: 'OK',
    config: 'OK',
    tls: 'WARN',
    keys: 'OK',
    database: 'OK',
    pins: 'WARN',
    disk: 'OK',
  });
  t.equal(fresh.verdict, 'WARN', 'no TLS and no key holder pinned: a warning, not a failure');
  t.match(detail(fresh, 'versions'), /schema version 3 \(current\)|schema version \d+ \(current\)/);

  const identityPath = join(home, 'coordinator-identity.json');
  // Pin a key holder key (any identity .pub will do for the pin).
  const kh = join(dir, 'kh.pub');
  writeFileSync(kh, readFileSync(`${identityPath}.pub`));
  const admin = await openCoordinatorHome(home);
  pinKeyHolder(admin.db, { publicKey: await readPublicIdentityFile(kh), now: new Date() });
  admin.db.close();
  const db = join(home, 'coordinator.sqlite');
  const before = sha(db);
  const pinned = await coordinatorDoctor({ home });
  t.equal(status(pinned).pins, 'OK');
  t.equal(sha(db), before, 'doctor changes nothing in the database');

  chmodSync(identityPath, 0o644);
  const loose = await coordinatorDoctor({ home });
  t.equal(status(loose).keys, 'FAIL');
  t.match(detail(loose, 'keys'), /mode 0644: group or others can read it; run 'chmod 600/);
  t.equal(loose.verdict, 'FAIL');
  chmodSync(identityPath, 0o600);

  const saved = readFileSync(identityPath);
  rmSync(identityPath);
  const missing = await coordinatorDoctor({ home });
  t.equal(status(missing).keys, 'FAIL');
  t.match(detail(missing, 'keys'), /coordinator-identity\.json is missing/);
  writeFileSync(identityPath, saved, { mode: 0o600 });

  const cfg = join(home, 'coordinator.json');
  const goodCfg = readFileSync(cfg);
  writeFileSync(cfg, '{"listen": {"host": "127.0.0.1", "port": 99999}, "public_url": "x"}');
  const badCfg = await coordinatorDoctor({ home });
  t.equal(status(badCfg).config, 'FAIL');
  t.match(detail(badCfg, 'config'), /not a valid coordinator configuration/);
  writeFileSync(cfg, goodCfg);

  damage(db);
  const broken = await coordinatorDoctor({ home });
  t.equal(status(broken).database, 'FAIL');
  t.match(detail(broken, 'database'), /damaged|cannot be read/);
  t.match(detail(broken, 'database'), /coordinator restore --home/);
  t.notOk('pins' in status(broken), 'no pin check on a damaged database');

  rmSync(db);
  const gone = await coordinatorDoctor({ home });
  t.equal(status(gone).database, 'FAIL');
  t.match(detail(gone, 'database'), /is missing/);
});

t.test('node: healthy against a live coordinator, clock skew, wrong coordinator, broken homes', async (t) => {
  const dir = t.testdir();
  const c = await coordinatorHome(dir);
  const server = await startServer({ home: c.home, host: '127.0.0.1', port: 0, logger: false });
  t.teardown(() => server.close());
  const home = join(dir, 'node');
  await importDataset({ home, enrolments: join(EDGE, 'enrolments.csv'), attendance: join(EDGE, 'attendance.csv') });
  await initNode({
    home,
    institutionId: 'inst-1',
    coordinatorUrl: server.url,
    coordinatorKeyFile: c.pub,
    keyHolderKeyFile: c.pub,
  });

  const ok = await nodeDoctor({ home });
  t.same(status(ok), {
    versions: 'OK',
    config: 'OK',
    home: 'OK',
    keys: 'OK',
    database: 'OK',
    dataset: 'OK',
    disk: 'OK',
    clock: 'OK',
  });
  t.equal(ok.verdict, 'OK');
  t.match(detail(ok, 'dataset'), /78 enrolment records/, 'the edge set has 78 enrolments (sample/edge)');
  t.match(detail(ok, 'clock'), /coordinator key as pinned/);

  const realNow = () => new Date();
  const ahead = await nodeDoctor({ home, now: () => new Date(realNow().getTime() + 10 * 60_000) });
  t.equal(status(ahead).clock, 'FAIL', '10 minutes ahead: the coordinator would refuse signed requests');
  t.match(detail(ahead, 'clock'), /ahead of the coordinator/);
  const behind = await nodeDoctor({ home, now: () => new Date(realNow().getTime() - 120_000) });
  t.equal(status(behind).clock, 'WARN', '2 minutes behind: a warning');
  t.match(detail(behind, 'clock'), /behind the coordinator/);

  // Another coordinator (another key) at the configured URL's place.
  const other = await coordinatorHome(join(dir, 'other'));
  const otherServer = await startServer({ home: other.home, host: '127.0.0.1', port: 0, logger: false });
  const cfgFile = join(home, 'node.json');
  const cfg = readFileSync(cfgFile, 'utf8');
  writeFileSync(cfgFile, cfg.replace(server.url, otherServer.url));
  const impostor = await nodeDoctor({ home });
  t.equal(status(impostor).clock, 'FAIL');
  t.match(detail(impostor, 'clock'), /another coordinator key than the one pinned/);
  await otherServer.close();
  const down = await nodeDoctor({ home });
  t.equal(status(down).clock, 'WARN', 'unreachable coordinator: a warning (offline nodes work until they send)');
  t.match(detail(down, 'clock'), /cannot reach/);
  writeFileSync(cfgFile, cfg);

  chmodSync(home, 0o755);
  const open = await nodeDoctor({ home });
  t.equal(status(open).home, 'FAIL');
  t.match(detail(open, 'home'), /student-level data.*mode 0755.*chmod 700/);
  chmodSync(home, 0o700);

  const key = join(home, 'identity.key');
  chmodSync(key, 0o640);
  t.equal(status(await nodeDoctor({ home })).keys, 'FAIL', '0640 is too open');
  chmodSync(key, 0o600);
  const savedKey = readFileSync(key);
  rmSync(key);
  const nokey = await nodeDoctor({ home });
  t.equal(status(nokey).keys, 'FAIL');
  t.match(detail(nokey, 'keys'), /identity\.key is missing/);
  writeFileSync(key, savedKey, { mode: 0o600 });

  damage(join(home, 'node.sqlite'));
  const broken = await nodeDoctor({ home });
  t.equal(status(broken).database, 'FAIL');
  t.equal(broken.verdict, 'FAIL');
  t.match(detail(broken, 'database'), /node restore --home/);
});

t.test('key holder: healthy, key readable by others, plain secret key, missing log', async (t) => {
  const dir = t.testdir();
  const c = await coordinatorHome(dir);
  const custodians = await generateCustodians(join(dir, 'custodians'), { n: 3, k: 2 });
  const home = join(dir, 'keyholder');
  await initKeyHolder({ home, coordinatorKey: await readPublicIdentityFile(c.pub), custody: custodians.custody });
  const ok = await keyHolderDoctor({ home });
  t.same(status(ok), { versions: 'OK', config: 'OK', keys: 'OK', database: 'OK', log: 'OK', disk: 'OK' });
  t.equal(ok.verdict, 'OK');
  t.match(detail(ok, 'config'), /2 of 3 custodian shares/);

  chmodSync(join(home, 'identity.key'), 0o644);
  const loose = await keyHolderDoctor({ home });
  t.equal(status(loose).keys, 'FAIL');
  chmodSync(join(home, 'identity.key'), 0o600);

  writeFileSync(join(home, 'bfv-secret.key'), 'x', { mode: 0o600 });
  const plain = await keyHolderDoctor({ home });
  t.equal(status(plain).keys, 'WARN');
  t.match(detail(plain, 'keys'), /in plain; hold the key ceremony/);
  rmSync(join(home, 'bfv-secret.key'));

  rmSync(join(home, 'bfv-secret.sealed'));
  t.equal(status(await keyHolderDoctor({ home })).keys, 'FAIL', 'no sealed key: nothing can be released');

  rmSync(join(home, 'keyholder.sqlite'));
  const nolog = await keyHolderDoctor({ home });
  t.equal(status(nolog).database, 'FAIL');
});

t.test('disk space thresholds (bytes computed by hand)', async (t) => {
  const MiB = 1024 ** 2;
  const GiB = 1024 ** 3;
  const dir = t.testdir();
  t.equal(diskCheck(dir, 10 * MiB, {}, 100 * MiB).status, 'FAIL', '100 MiB < 256 MiB');
  t.equal(diskCheck(dir, 10 * MiB, {}, 1 * GiB).status, 'WARN', '1 GiB < 2 GiB');
  t.equal(diskCheck(dir, 10 * MiB, {}, 3 * GiB).status, 'OK');
  t.equal(diskCheck(dir, 1 * GiB, {}, 3 * GiB).status, 'WARN', '3 GiB < 5 x 1 GiB database');
  t.equal(diskCheck(dir, 2 * GiB, {}, 3 * GiB).status, 'FAIL', '3 GiB < 2 x 2 GiB database');
});

t.test('the CLI: report, verdict and exit status 0 / 1 / 2', async (t) => {
  const dir = t.testdir();
  const custodians = await generateCustodians(join(dir, 'custodians'), { n: 3, k: 2 });
  const kh = join(dir, 'keyholder');
  const c = await coordinatorHome(dir);
  await initKeyHolder({ home: kh, coordinatorKey: await readPublicIdentityFile(c.pub), custody: custodians.custody });

  const ok = runCli(['doctor', '--home', kh]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /sectorbench doctor: keyholder at/);
  t.match(ok.stdout, /Verdict: OK: all 6 checks passed\./);

  const warn = runCli(['coordinator', 'doctor', '--home', c.home, '--json']);
  t.equal(warn.code, 1, 'WARN exits 1');
  const report = JSON.parse(warn.stdout) as DoctorReport;
  t.equal(report.verdict, 'WARN');
  t.equal(report.role, 'coordinator');
  t.equal(warn.stderr, '', 'nothing on stderr');

  chmodSync(join(kh, 'identity.key'), 0o604);
  const fail = runCli(['keyholder', 'doctor', '--home', kh]);
  t.equal(fail.code, 2, 'FAIL exits 2');
  t.match(fail.stdout, /FAIL {2}keys/);
  t.match(fail.stdout, /Verdict: FAIL: 1 failed/);
  t.equal(fail.stderr, '', 'no stack trace, no error line: the report says it');

  const none = runCli(['doctor', '--home', dir]);
  t.equal(none.code, 1);
  t.match(none.stderr, /^error SB_ERR_USAGE: .* holds no node\.json, coordinator\.json or keyholder\.json/);
});
