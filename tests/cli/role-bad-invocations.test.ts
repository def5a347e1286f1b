// Issue 13, "one error path for the CLI", for the coordinator's and the key holder's commands
// (tests/cli/bad-invocations.test.ts does the node's): each bad invocation exits non-zero with
// an SB_ERR_ code that names the path or option and the next step, prints no stack trace, and
// leaves every file under the test folder as it was (no half-made home, no share folder).
// Homes and output folders are made with shared/fs/make-dir.ts, not mkdirSync({recursive}),
// which spun at 100 % CPU on `--home /proc/h`: that case runs in a real process.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { run } from '../../cli/main.js';
import { initCoordinator } from '../../coordinator/home.js';
import { initKeyHolder } from '../../keyholder/init.js';
import { generateCustodians } from '../../keyholder/custody/present.js';
import { generateIdentity, writeIdentityFiles } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { runCli } from '../helpers/cli.js';
import { diskSnapshot } from '../helpers/disk-snapshot.js';

const STACK = /\n\s+at |\.ts:\d+:\d+/;
// sysfs refuses mkdir to everyone, root included (EPERM): an unwritable home whoever runs the suite.
const UNWRITABLE = '/sys/sectorbench-home';

t.teardown(() => sealWorker().close());

const dir = t.testdir({ 'a-file': 'not a folder\n', 'not-a-key.pub': 'hello\n' });
const F = join(dir, 'a-file');
const missing = join(dir, 'missing-home');

// Fixtures made before the table runs: an existing coordinator and key holder, custodian keys.
const coordHome = join(dir, 'coordinator');
await initCoordinator({ home: coordHome, identity: generateIdentity() });
const khId = join(dir, 'kh-identity.key');
await writeIdentityFiles(generateIdentity(), khId);
const gen = await generateCustodians(join(dir, 'custodians'), { names: ['alice', 'bob'], k: 2 });
const alice = `${gen.keyFiles.get('alice')}.pub`;
const bob = `${gen.keyFiles.get('bob')}.pub`;
const khHome = join(dir, 'keyholder');
await initKeyHolder({ home: khHome, custody: { ...gen.custody, shareDir: join(dir, 'kh-shares') } });
const cust = ['--k', '2', '--custodian-key', alice, '--custodian-key', bob];
const shares = join(dir, 'new-shares');

async function runInProcess(args: string[]) {
  let stderr = '';
  const code = await run(['node', 'sectorbench', ...args], { stderr: (s) => (stderr += s) });
  return { code, stderr };
}

const table: { name: string; args: string[]; code: RegExp; says: RegExp }[] = [
  // coordinator
  {
    name: 'coordinator init: home is a file',
    args: ['coordinator', 'init', '--home', F],
    code: /SB_ERR_HOME_NOT_DIR/,
    says: /a-file: is a file, not a folder; the coordinator's home folder must be a folder/,
  },
  {
    name: 'coordinator init: home under a file',
    args: ['coordinator', 'init', '--home', join(F, 'h')],
    code: /SB_ERR_HOME_NOT_DIR/,
    says: /its parent .*a-file is a file/,
  },
  {
    name: 'coordinator init: unwritable home',
    args: ['coordinator', 'init', '--home', UNWRITABLE],
    code: /SB_ERR_HOME_UNWRITABLE/,
    says: /sectorbench-home: cannot create the coordinator's home folder \(EPERM.*Choose a folder you may write to/,
  },
  {
    name: 'coordinator init: missing --home',
    args: ['coordinator', 'init'],
    code: /SB_ERR_USAGE/,
    says: /required option '--home <dir>' not specified/,
  },
  {
    name: 'coordinator init: --port 70000',
    args: ['coordinator', 'init', '--home', missing, '--port', '70000'],
    code: /SB_ERR_USAGE/,
    says: /--port must be 0\.\.65535/,
  },
  {
    name: 'coordinator init: --public-url that is no URL',
    args: ['coordinator', 'init', '--home', missing, '--public-url', 'coordinator'],
    code: /SB_ERR_USAGE/,
    says: /public_url: .*Check --public-url/,
  },
  {
    name: 'coordinator init: a coordinator is there already',
    args: ['coordinator', 'init', '--home', coordHome],
    code: /SB_ERR_EXISTS/,
    says: /already holds a coordinator; use another --home/,
  },
  {
    name: 'coordinator institution list: missing home',
    args: ['coordinator', 'institution', 'list', '--home', missing],
    code: /SB_ERR_CONFIG/,
    says: /missing-home\/coordinator\.json.*run 'sectorbench coordinator init/,
  },
  {
    name: 'coordinator serve: home is a file',
    args: ['coordinator', 'serve', '--home', F],
    code: /SB_ERR_CONFIG/,
    says: /a-file\/coordinator\.json/,
  },
  {
    name: 'coordinator pin-keyholder: missing --key',
    args: ['coordinator', 'pin-keyholder', '--home', coordHome],
    code: /SB_ERR_USAGE/,
    says: /required option '--key <file\.pub>' not specified/,
  },
  {
    name: 'coordinator pin-keyholder: key file missing',
    args: ['coordinator', 'pin-keyholder', '--home', coordHome, '--key', join(dir, 'nope.pub')],
    code: /SB_ERR_FILE_NOT_FOUND/,
    says: /nope\.pub: does not exist.*Check the path/,
  },
  {
    name: 'coordinator pin-keyholder: not a key file',
    args: ['coordinator', 'pin-keyholder', '--home', coordHome, '--key', join(dir, 'not-a-key.pub')],
    code: /SB_ERR_KEY_FILE/,
    says: /not-a-key\.pub/,
  },
  {
    name: 'coordinator round close: unknown round writes no bundle',
    args: ['coordinator', 'round', 'close', '--home', coordHome, '--round', 'nope', '--bundle', join(dir, 'bundle')],
    code: /SB_ERR_ROUND_UNKNOWN/,
    says: /round nope does not exist/,
  },
  {
    name: 'coordinator round reopen: a deadline in the past',
    args: [
      'coordinator',
      'round',
      'reopen',
      '--home',
      coordHome,
      '--round',
      'nope',
      '--late',
      'ROC01',
      '--deadline',
      '2000-01-01T00:00:00Z',
    ],
    code: /SB_ERR_USAGE/,
    says: /--deadline 2000-01-01T00:00:00\.000Z must be an ISO 8601 time in the future/,
  },
  {
    name: 'coordinator round reopen: unknown round',
    args: [
      'coordinator',
      'round',
      'reopen',
      '--home',
      coordHome,
      '--round',
      'nope',
      '--late',
      'ROC01',
      '--deadline',
      '2099-01-01T00:00:00Z',
    ],
    code: /SB_ERR_ROUND_UNKNOWN/,
    says: /round nope does not exist/,
  },
  // key holder
  {
    name: 'keyholder init: home is a file',
    args: ['keyholder', 'init', '--home', F, ...cust, '--shares-out', shares],
    code: /SB_ERR_HOME_NOT_DIR/,
    says: /a-file: is a file, not a folder; the key holder's home folder must be a folder/,
  },
  {
    name: 'keyholder init: home under a file',
    args: ['keyholder', 'init', '--home', join(F, 'kh'), ...cust, '--shares-out', shares],
    code: /SB_ERR_HOME_NOT_DIR/,
    says: /its parent .*a-file is a file/,
  },
  {
    name: 'keyholder init: unwritable home',
    args: ['keyholder', 'init', '--home', UNWRITABLE, ...cust, '--shares-out', shares],
    code: /SB_ERR_HOME_UNWRITABLE/,
    says: /cannot create the key holder's home folder \(EPERM/,
  },
  {
    name: 'keyholder init: unwritable share folder (the home is not left behind)',
    args: ['keyholder', 'init', '--home', missing, ...cust, '--shares-out', '/sys/sectorbench-shares'],
    code: /SB_ERR_DIR_UNWRITABLE/,
    says: /cannot create the custodians' share folder \(EPERM/,
  },
  {
    name: 'keyholder init: share folder is a file',
    args: ['keyholder', 'init', '--home', missing, ...cust, '--shares-out', F],
    code: /SB_ERR_DIR_NOT_DIR/,
    says: /a-file: is a file, not a folder; the custodians' share folder/,
  },
  {
    name: 'keyholder init: share folder inside the home',
    args: ['keyholder', 'init', '--home', missing, ...cust, '--shares-out', join(missing, 'shares')],
    code: /SB_ERR_USAGE/,
    says: /inside the key holder's home/,
  },
  {
    name: 'keyholder init: missing --shares-out',
    args: ['keyholder', 'init', '--home', missing, ...cust],
    code: /SB_ERR_USAGE/,
    says: /required option '--shares-out <dir>' not specified/,
  },
  {
    name: 'keyholder init: missing --home',
    args: ['keyholder', 'init', ...cust, '--shares-out', shares],
    code: /SB_ERR_USAGE/,
    says: /required option '--home <dir>' not specified/,
  },
  {
    name: 'keyholder init: --k 0',
    args: ['keyholder', 'init', '--home', missing, '--k', '0', '--custodian-key', alice, '--shares-out', shares],
    code: /SB_ERR_USAGE/,
    says: /--k must be a positive whole number/,
  },
  {
    name: 'keyholder init: k above the number of custodians',
    args: [
      'keyholder',
      'init',
      '--home',
      missing,
      '--k',
      '3',
      '--custodian-key',
      alice,
      '--custodian-key',
      bob,
      '--shares-out',
      shares,
    ],
    code: /SB_ERR_USAGE/,
    says: /2 <= k <= n .*k = 3, n = 2/,
  },
  {
    name: 'keyholder init: a custodian key file missing',
    args: [
      'keyholder',
      'init',
      '--home',
      missing,
      '--k',
      '2',
      '--custodian-key',
      alice,
      '--custodian-key',
      join(dir, 'nope.pub'),
      '--shares-out',
      shares,
    ],
    code: /SB_ERR_FILE_NOT_FOUND/,
    says: /nope\.pub: does not exist/,
  },
  {
    name: 'keyholder init: a key holder is there already',
    args: ['keyholder', 'init', '--home', khHome, ...cust, '--shares-out', shares],
    code: /SB_ERR_KEYHOLDER_EXISTS/,
    says: /holds a key holder\. Use another --home/,
  },
  {
    name: 'keyholder participant list: missing home',
    args: ['keyholder', 'participant', 'list', '--home', missing],
    code: /SB_ERR_KEYHOLDER_CONFIG/,
    says: /missing-home\/keyholder\.json does not exist; run 'sectorbench keyholder init/,
  },
  {
    name: 'keyholder pin-coordinator: not a key file',
    args: ['keyholder', 'pin-coordinator', '--home', khHome, '--key', join(dir, 'not-a-key.pub')],
    code: /SB_ERR_KEY_FILE/,
    says: /not-a-key\.pub/,
  },
  {
    name: 'keyholder custodian-key: --out under a file',
    args: ['keyholder', 'custodian-key', '--name', 'carol', '--out', join(F, 'carol.key')],
    code: /SB_ERR_HOME_NOT_DIR|SB_ERR_DIR_NOT_DIR/,
    says: /a-file\/carol\.key/,
  },
  {
    name: 'keyholder custodian-key: missing --out',
    args: ['keyholder', 'custodian-key', '--name', 'carol'],
    code: /SB_ERR_USAGE/,
    says: /required option '--out <file>' not specified/,
  },
];

t.test('each bad invocation: exit != 0, a coded message, no stack trace, nothing changed', async (t) => {
  for (const c of table) {
    const before = diskSnapshot(dir);
    const r = await runInProcess(c.args);
    t.not(r.code, 0, `${c.name}: exit code`);
    t.match(r.stderr, /^error SB_ERR_[A-Z_]+: /, `${c.name}: starts with a code`);
    t.match(r.stderr, c.code, `${c.name}: ${c.code}`);
    t.match(r.stderr, c.says, `${c.name}: names the path or option`);
    t.notMatch(r.stderr, STACK, `${c.name}: no stack trace`);
    t.same(diskSnapshot(dir), before, `${c.name}: nothing changed on disk`);
  }
  t.notOk(existsSync(missing), 'no half-made home');
  t.notOk(existsSync(shares), 'no share folder');
});

t.test('--home /proc/h ends at once with a coded error for both roles (mkdir -p used to spin)', async (t) => {
  for (const args of [
    ['coordinator', 'init', '--home', '/proc/h'],
    ['keyholder', 'init', '--home', '/proc/h', ...cust, '--shares-out', shares],
  ]) {
    const before = diskSnapshot(dir);
    const r = runCli(args);
    t.equal(r.code, 1, `${args[0]}: exits 1 (a spinning process would be killed by the timeout: null)`);
    t.match(r.stderr, /^error SB_ERR_HOME_UNWRITABLE: \/proc\/h: cannot create the .* home folder \(ENOENT/);
    t.notMatch(r.stderr, STACK);
    t.same(diskSnapshot(dir), before, `${args[0]}: nothing changed on disk`);
  }
  const r = runCli(['keyholder', 'init', '--home', missing, ...cust, '--shares-out', '/proc/s']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^error SB_ERR_DIR_UNWRITABLE: \/proc\/s: cannot create the custodians' share folder/);
  t.notOk(existsSync(missing), 'the home made before the share folder was refused is removed again');
});
