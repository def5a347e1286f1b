// Issue 13, "one error path for the CLI": each bad invocation exits non-zero with an SB_ERR_
// code that names the file and the next step, prints no stack trace, and changes nothing on disk.
// Most run in-process through run() (the same code path as bin/ and cli/run.ts); the ones that
// need a real process (a hanging mkdir, a lock held by another process, --debug) spawn one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { toSbError, renderError } from '../../cli/error-report.js';
import { run } from '../../cli/main.js';
import { importDataset } from '../../node/import/import-dataset.js';
import { runCli } from '../helpers/cli.js';
import { diskSnapshot } from '../helpers/disk-snapshot.js';
import { repoRoot, specDir } from '../helpers/paths.js';

const BASE = join(specDir, 'cases', 'import-baseline');
const ENR = join(BASE, 'enrolments.csv');
const ATT = join(BASE, 'attendance.csv');
const CB = join(BASE, 'codebook.csv');
const STACK = /\n\s+at |\.ts:\d+:\d+/;

const snapshot = diskSnapshot;

async function runInProcess(args: string[]) {
  let stderr = '';
  const code = await run(['node', 'sectorbench', ...args], { stderr: (s) => (stderr += s) });
  return { code, stderr };
}

const dir = t.testdir({
  'a-file': 'not a folder\n',
  'empty-home': {},
  'garbage-home': { 'node.sqlite': 'x'.repeat(4096) },
});
const good = join(dir, 'good-home');
await importDataset({ home: good, enrolments: ENR, attendance: ATT });

const F = join(dir, 'a-file');
const MISSING = join(dir, 'missing-home');
const table: { name: string; args: string[]; code: RegExp; says: RegExp }[] = [
  {
    name: 'home is a file (EEXIST)',
    args: ['node', 'import', '--home', F, '--enrolments', ENR, '--attendance', ATT],
    code: /SB_ERR_HOME_NOT_DIR/,
    says: /a-file: is a file, not a folder/,
  },
  {
    name: 'unwritable home (sysfs refuses mkdir even to root: EPERM)',
    args: ['node', 'import', '--home', '/sys/sectorbench-home', '--enrolments', ENR, '--attendance', ATT],
    code: /SB_ERR_HOME_UNWRITABLE/,
    says: /sectorbench-home: cannot create the node's home folder \(EPERM.*Choose a folder you may write to/,
  },
  {
    name: 'home under a file',
    args: ['node', 'import', '--home', join(F, 'h'), '--enrolments', ENR, '--attendance', ATT],
    code: /SB_ERR_HOME_NOT_DIR/,
    says: /its parent .*a-file is a file/,
  },
  {
    name: 'a folder given as the enrolments file (EISDIR)',
    args: ['node', 'import', '--home', MISSING, '--enrolments', BASE, '--attendance', ATT],
    code: /SB_ERR_FILE_NOT_FILE/,
    says: /import-baseline: is a folder, not a file/,
  },
  {
    name: 'a missing attendance file (ENOENT)',
    args: ['node', 'import', '--home', MISSING, '--enrolments', ENR, '--attendance', join(dir, 'nope.csv')],
    code: /SB_ERR_FILE_NOT_FOUND/,
    says: /nope\.csv: file not found/,
  },
  {
    name: 'a missing mapping file',
    args: [
      'node',
      'import',
      '--home',
      MISSING,
      '--enrolments',
      ENR,
      '--attendance',
      ATT,
      '--mapping',
      join(dir, 'm.json'),
    ],
    code: /SB_ERR_FILE_NOT_FOUND/,
    says: /m\.json/,
  },
  {
    name: '--max-errors abc',
    args: ['node', 'import', '--home', MISSING, '--enrolments', ENR, '--attendance', ATT, '--max-errors', 'abc'],
    code: /SB_ERR_USAGE/,
    says: /--max-errors must be a whole number/,
  },
  {
    name: '--encoding utf-16 (not a choice)',
    args: ['node', 'import', '--home', MISSING, '--enrolments', ENR, '--attendance', ATT, '--encoding', 'utf-16'],
    code: /SB_ERR_USAGE/,
    says: /utf-16.*Allowed choices/s,
  },
  {
    name: 'vector --year 24',
    args: ['node', 'vector', '--home', good, '--codebook', CB, '--year', '24'],
    code: /SB_ERR_USAGE/,
    says: /four-digit first year/,
  },
  {
    name: 'vector --year twenty',
    args: ['node', 'vector', '--home', good, '--codebook', CB, '--year', 'twenty'],
    code: /SB_ERR_USAGE/,
    says: /--year/,
  },
  {
    name: 'a missing required option',
    args: ['node', 'vector', '--home', good, '--year', '2024'],
    code: /SB_ERR_USAGE/,
    says: /required option '--codebook <file>' not specified/,
  },
  {
    name: 'an unknown option',
    args: ['node', 'vector', '--home', good, '--codebook', CB, '--year', '2024', '--codebok', CB],
    code: /SB_ERR_USAGE/,
    says: /unknown option '--codebok'/,
  },
  { name: 'an unknown command', args: ['node', 'vectr'], code: /SB_ERR_USAGE/, says: /unknown command 'vectr'/ },
  {
    name: 'quality on a missing home creates nothing',
    args: ['node', 'quality', '--home', MISSING, '--codebook', CB, '--year', '2024'],
    code: /SB_ERR_HOME_NOT_FOUND/,
    says: /nothing was created/,
  },
  {
    name: 'vector on an empty home creates no database',
    args: ['node', 'vector', '--home', join(dir, 'empty-home'), '--codebook', CB, '--year', '2024'],
    code: /SB_ERR_NO_DATASET/,
    says: /sectorbench node import/,
  },
  {
    name: 'vector on a home whose node.sqlite is not a database',
    args: ['node', 'vector', '--home', join(dir, 'garbage-home'), '--codebook', CB, '--year', '2024'],
    code: /SB_ERR_DB_UNREADABLE/,
    says: /garbage-home\/node\.sqlite: the node database cannot be used/,
  },
  {
    name: 'a folder given as the codebook',
    args: ['node', 'vector', '--home', good, '--codebook', BASE, '--year', '2024'],
    code: /SB_ERR_FILE_NOT_FILE/,
    says: /is a folder/,
  },
  {
    name: '--out into a folder (EISDIR on write)',
    args: ['node', 'vector', '--home', good, '--codebook', CB, '--year', '2024', '--out', dir],
    code: /SB_ERR_FILE_NOT_FILE/,
    says: /is a folder where a file was expected/,
  },
  {
    name: 'quality --year 2024-2025',
    args: ['node', 'quality', '--home', good, '--codebook', CB, '--year', '2024-2025'],
    code: /SB_ERR_USAGE/,
    says: /--year/,
  },
];

t.test('each bad invocation: exit != 0, a coded message, no stack trace, nothing changed', async (t) => {
  for (const c of table) {
    const before = snapshot(dir);
    const r = await runInProcess(c.args);
    t.not(r.code, 0, `${c.name}: exit code`);
    t.match(r.stderr, /^error SB_ERR_[A-Z_]+: /, `${c.name}: starts with a code`);
    t.match(r.stderr, c.code, `${c.name}: ${c.code}`);
    t.match(r.stderr, c.says, `${c.name}: names the file or option`);
    t.notMatch(r.stderr, STACK, `${c.name}: no stack trace`);
    t.same(snapshot(dir), before, `${c.name}: nothing changed on disk`);
  }
});

t.test('--home /proc/h ends at once with a coded error (it used to spin at 100 % CPU)', async (t) => {
  const r = runCli(['node', 'import', '--home', '/proc/h', '--enrolments', ENR, '--attendance', ATT]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^error SB_ERR_HOME_UNWRITABLE: \/proc\/h: cannot create the node's home folder/);
  t.notMatch(r.stderr, STACK);
});

t.test('a node database locked by another process: coded "in use", the dataset kept', async (t) => {
  const home = join(dir, 'locked-home');
  await importDataset({ home, enrolments: ENR, attendance: ATT });
  const holder = new Database(join(home, 'node.sqlite'));
  holder.exec('BEGIN IMMEDIATE'); // the write lock, as a running import holds it
  const before = snapshot(home).filter((l) => !l.includes('-shm') && !l.includes('-wal'));
  try {
    const r = runCli(['node', 'import', '--home', home, '--enrolments', ENR, '--attendance', ATT]);
    t.equal(r.code, 1);
    t.match(
      r.stderr,
      /error SB_ERR_DB_IN_USE: .*locked-home\/node\.sqlite: the node database is in use by another process/,
    );
    t.match(r.stderr, /run this again/);
    t.notMatch(r.stderr, STACK);
    t.notMatch(r.stderr, /SqliteError|database is locked/);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
  t.same(
    snapshot(home).filter((l) => !l.includes('-shm') && !l.includes('-wal')),
    before,
    'node.sqlite unchanged',
  );
  // Readers do not wait for a writer (WAL): vector works while the lock is held.
  const holder2 = new Database(join(home, 'node.sqlite'));
  holder2.exec('BEGIN IMMEDIATE');
  const v = await runInProcess([
    'node',
    'vector',
    '--home',
    home,
    '--codebook',
    CB,
    '--year',
    '2024',
    '--out',
    join(dir, 'v.json'),
  ]);
  holder2.exec('ROLLBACK');
  holder2.close();
  t.equal(v.code, 0, v.stderr);
});

t.test('a commander error in a real process, and --debug', async (t) => {
  const r = runCli(['node', 'vector', '--home', good]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^error SB_ERR_USAGE: required option/);
  t.notMatch(r.stderr, STACK);
  const d = runCli([
    '--debug',
    'node',
    'vector',
    '--home',
    good,
    '--codebook',
    join(dir, 'nope.csv'),
    '--year',
    '2024',
  ]);
  t.equal(d.code, 1);
  t.match(d.stderr, /^error SB_ERR_FILE_NOT_FOUND: /);
  t.match(d.stderr, STACK, '--debug adds the stack trace');
});

t.test('errors that reach the CLI unconverted', async (t) => {
  const eacces = Object.assign(new Error("EACCES: permission denied, mkdir '/srv/h'"), {
    code: 'EACCES',
    syscall: 'mkdir',
    path: '/srv/h',
  });
  const e1 = toSbError(eacces);
  t.equal(e1.code, 'SB_ERR_FILE_PERMISSION');
  t.match(e1.message, /^\/srv\/h: may not be used by this user \(permission denied\) \(EACCES on mkdir\)\. Choose/);
  const locked = Object.assign(new Error('database is locked'), { name: 'SqliteError', code: 'SQLITE_BUSY' });
  t.equal(toSbError(locked).code, 'SB_ERR_DB_IN_USE');
  // An unexpected error: its text could hold a value from a row, so it is not shown.
  const internal = toSbError(new TypeError("Cannot read properties of undefined (reading '0760295')"));
  t.equal(internal.code, 'SB_ERR_INTERNAL');
  t.notMatch(internal.message, '0760295');
  t.notMatch(renderError(internal, false), STACK);
  t.match(renderError(internal, true), /caused by: TypeError: Cannot read/);
});

t.test('npx sectorbench: bin/ runs from source when dist/ is missing', async (t) => {
  mkdirSync(join(dir, 'cwd'), { recursive: true });
  if (existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
    t.pass('dist/ exists in this checkout, so bin/ runs it; the fallback is not reachable here');
    return;
  }
  const r = spawnSync(
    process.execPath,
    [join(repoRoot, 'bin', 'sectorbench.js'), 'node', 'vector', '--home', good, '--codebook', CB, '--year', '2024'],
    {
      encoding: 'utf8',
      cwd: join(dir, 'cwd'),
      timeout: 300_000,
    },
  );
  t.equal(r.status, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).cells['90001|2|BOL'].a_min_planned, 335);
});
