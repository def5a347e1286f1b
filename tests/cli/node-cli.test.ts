// The `sectorbench node` commands as a data team runs them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { generateIdentity, writeIdentityFiles } from '../../shared/crypto/identity.js';
import { runCli } from '../helpers/cli.js';
import { sampleDir } from '../helpers/paths.js';

const EDGE = join(sampleDir, 'edge');

t.test('--help on every level', async (t) => {
  for (const args of [
    ['--help'],
    ['node', '--help'],
    ['node', 'import', '--help'],
    ['node', 'vector', '--help'],
    ['node', 'quality', '--help'],
    ['synth', '--help'],
  ]) {
    const r = runCli(args);
    t.equal(r.code, 0, `${args.join(' ')} exits 0`);
    t.match(r.stdout, /Usage: sectorbench/, `${args.join(' ')} prints usage`);
  }
});

/** The edge sample's expected vector (cells, groups, data quality, excluded crebos). */
const edgeExpected = () => JSON.parse(readFileSync(join(EDGE, 'expected.json'), 'utf8'));

/** `node import` of the edge set: counts on stdout, progress on stderr. */
function importEdge(t: Test, home: string): void {
  const imp = runCli([
    'node',
    'import',
    '--home',
    home,
    '--enrolments',
    join(EDGE, 'enrolments.csv'),
    '--attendance',
    join(EDGE, 'attendance.csv'),
  ]);
  t.equal(imp.code, 0, imp.stderr);
  t.match(imp.stdout, /Imported 78 enrolments .* and 93 observations/);
  t.match(imp.stderr, /attendance: 93 rows/, 'progress on stderr');
}

/** `node vector --out`: the JSON vector equals the edge sample's expected cells and groups. */
function vectorJson(t: Test, home: string): void {
  const expected = edgeExpected();
  const out = join(home, 'vector.json');
  const vec = runCli([
    'node',
    'vector',
    '--home',
    home,
    '--codebook',
    join(EDGE, 'codebook.csv'),
    '--year',
    '2024',
    '--out',
    out,
  ]);
  t.equal(vec.code, 0, vec.stderr);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  t.strictSame(json.cells, expected.cells);
  t.strictSame(json.groups, expected.groups);
}

/** `node vector --format csv`: one line per non-zero row, kind, key and 64 slots. */
function vectorCsv(t: Test, home: string): void {
  const expected = edgeExpected();
  const csv = runCli([
    'node',
    'vector',
    '--home',
    home,
    '--codebook',
    join(EDGE, 'codebook.csv'),
    '--year',
    '2024',
    '--format',
    'csv',
  ]);
  t.equal(csv.code, 0);
  const lines = csv.stdout.trim().split('\n');
  t.equal(
    lines.length,
    1 + Object.keys(expected.cells).length + Object.keys(expected.groups).length,
    'one line per non-zero row',
  );
  t.equal(lines[0]!.split(',').length, 66, 'kind, key and 64 slots');
}

/** `node quality` (json and text): the expected data quality and excluded crebos. */
function quality(t: Test, home: string): void {
  const expected = edgeExpected();
  const q = runCli([
    'node',
    'quality',
    '--home',
    home,
    '--codebook',
    join(EDGE, 'codebook.csv'),
    '--year',
    '2024',
    '--format',
    'json',
  ]);
  t.equal(q.code, 0, q.stderr);
  const report = JSON.parse(q.stdout);
  t.equal(report.overall.observations_in_year, expected.data_quality.observations_in_year);
  t.equal(report.overall.observations_outside_enrolment, expected.data_quality.observations_outside_enrolment);
  t.same(
    Object.fromEntries(
      report.unknown_crebos
        .filter((u: { enrolments_active_in_year: number }) => u.enrolments_active_in_year > 0)
        .map((u: { crebo: string; enrolments_active_in_year: number }) => [u.crebo, u.enrolments_active_in_year]),
    ),
    expected.excluded_crebos,
  );
  const text = runCli(['node', 'quality', '--home', home, '--codebook', join(EDGE, 'codebook.csv'), '--year', '2024']);
  t.match(text.stdout, /Datakwaliteit, studiejaar 2024-2025/);
  t.match(text.stdout, /Crebo's buiten het codeboek/);
}

t.test('import, vector (json, csv) and quality on the edge set', async (t) => {
  const home = t.testdir();
  importEdge(t, home);
  vectorJson(t, home);
  vectorCsv(t, home);
  quality(t, home);
});

t.test('a refused import exits 1 with the code, the lines and what to do', async (t) => {
  const dir = t.testdir({
    'att.csv': 'enrolment_id,date,minutes,status\n81,2024-09-02,60,present\n81,2024-09-02,60,ziek\n',
  });
  const r = runCli([
    'node',
    'import',
    '--home',
    join(dir, 'home'),
    '--enrolments',
    join(EDGE, 'enrolments.csv'),
    '--attendance',
    join(dir, 'att.csv'),
  ]);
  t.equal(r.code, 1);
  t.match(r.stderr, /error SB_ERR_IMPORT_REFUSED/);
  t.match(r.stderr, /att\.csv:3 column status: a value shaped aaaa is not a status code/);
  t.notMatch(r.stderr, /ziek/, 'the value itself is not echoed');
  t.match(r.stderr, /--max-errors/);
});

t.test('usage errors', async (t) => {
  const r = runCli(['node', 'vector', '--home', '/tmp/x']);
  t.not(r.code, 0);
  t.match(r.stderr, /required option/);
  const r2 = runCli([
    'node',
    'vector',
    '--home',
    '/tmp/x',
    '--codebook',
    join(EDGE, 'codebook.csv'),
    '--year',
    'twenty',
  ]);
  t.equal(r2.code, 1);
  t.match(r2.stderr, /SB_ERR_USAGE/);
});

t.test('node init --offline: an air-gapped node (transport "file"), said at enrolment', async (t) => {
  const dir = t.testdir();
  const coord = generateIdentity();
  const kh = generateIdentity();
  await writeIdentityFiles(coord, join(dir, 'coordinator.key'));
  await writeIdentityFiles(kh, join(dir, 'keyholder.key'));
  const home = join(dir, 'node');
  const r = runCli([
    'node',
    'init',
    '--home',
    home,
    '--institution',
    'inst-9',
    '--coordinator',
    'http://127.0.0.1:9',
    '--coordinator-key',
    join(dir, 'coordinator.key.pub'),
    '--key-holder-key',
    join(dir, 'keyholder.key.pub'),
    '--offline',
  ]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Air-gapped: this node never connects/);
  t.equal(
    JSON.parse(readFileSync(join(home, 'node.json'), 'utf8')).transport,
    'file',
    'node.json says transport "file"',
  );
});
