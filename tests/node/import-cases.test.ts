// The import cases of ../shared/cases (README there), each with its right behaviour, plus the
// other members of each case's kind (issue 13: "fix each kind, not each file").
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import t, { type Test } from 'tap';
import { importDataset } from '../../node/import/import-dataset.js';
import { ImportRefusedError } from '../../node/import/problems.js';
import { loadDataset } from '../../node/store/dataset-store.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import { specDir } from '../helpers/paths.js';

const CASES = join(specDir, 'cases');
const BASE = join(CASES, 'import-baseline');
const CODEBOOK = join(BASE, 'codebook.csv');
const baseEnr = readFileSync(join(BASE, 'enrolments.csv'), 'utf8');
const baseAtt = readFileSync(join(BASE, 'attendance.csv'), 'utf8');

/** The cases README: cell 90001|2|BOL of the baseline vector. */
const BASELINE_CELL = { a_enrolments: 2, a_min_planned: 335, a_min_present: 155, a_min_abs_unauth: 180 };

async function cellOf(home: string) {
  const { json } = await computeNodeVector({ home, codebook: CODEBOOK, year: 2024 });
  const c = json.cells['90001|2|BOL'] ?? {};
  return {
    a_enrolments: c.a_enrolments,
    a_min_planned: c.a_min_planned,
    a_min_present: c.a_min_present,
    a_min_abs_unauth: c.a_min_abs_unauth,
  };
}

async function importFiles(home: string, enrolments: string, attendance: string, extra = {}) {
  return importDataset({ home, enrolments, attendance, codebook: CODEBOOK, chunkSize: 7, ...extra }).then(
    (r) => ({ ok: true as const, r }),
    (e: Error & { code: string; details: Record<string, unknown> }) => ({ ok: false as const, e }),
  );
}

/** A home holding the baseline dataset, and its metadata to compare with after a refusal. */
async function baselineHome(t: Test) {
  const dir = t.testdir({});
  const home = join(dir, 'home');
  const r = await importFiles(home, join(BASE, 'enrolments.csv'), join(BASE, 'attendance.csv'));
  if (!r.ok) throw r.e;
  const db = openNodeDb(home);
  const meta = loadDataset(db)?.meta;
  db.close();
  return { dir, home, meta };
}

async function assertKept(t: Test, home: string, meta: unknown) {
  const db = openNodeDb(home);
  t.same(loadDataset(db)?.meta, meta, 'the previous dataset stays');
  db.close();
  t.same(await cellOf(home), BASELINE_CELL, 'and its vector');
}

function write(dir: string, name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

t.test('import-baseline: the reference vector of the README', async (t) => {
  const { home } = await baselineHome(t);
  t.same(await cellOf(home), BASELINE_CELL);
});

t.test('import-cr-only: a lone CR ends a line, so the baseline vector', async (t) => {
  const { home } = await baselineHome(t);
  const dir = join(CASES, 'import-cr-only');
  const r = await importFiles(home, join(dir, 'enrolments.csv'), join(dir, 'attendance.csv'));
  t.ok(r.ok, r.ok ? 'imported' : r.e.message);
  if (r.ok) {
    t.equal(r.r.enrolments.imported, 3);
    t.equal(r.r.attendance.records, 7);
  }
  t.same(await cellOf(home), BASELINE_CELL);
});

t.test('every kind of line end, also mixed in one file, gives the baseline vector', async (t) => {
  const { dir, home } = await baselineHome(t);
  const ends = ['\n', '\r\n', '\r'];
  for (let k = 0; k < 3; k++) {
    const mix = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .map((l, i) => l + (ends[(i + k) % 3] as string))
        .join('');
    const r = await importFiles(home, write(dir, 'e.csv', mix(baseEnr)), write(dir, 'a.csv', mix(baseAtt)));
    t.ok(r.ok, r.ok ? `mix ${k} imported` : r.e.message);
    t.same(await cellOf(home), BASELINE_CELL, `mix ${k}`);
  }
});

t.test('import-sep-hint: an Excel sep=; first line is honoured', async (t) => {
  const { home } = await baselineHome(t);
  const dir = join(CASES, 'import-sep-hint');
  const r = await importFiles(home, join(dir, 'enrolments.csv'), join(dir, 'attendance.csv'));
  t.ok(r.ok, r.ok ? 'imported' : r.e.message);
  if (r.ok) t.equal(r.r.enrolments.delimiter, ';');
  t.same(await cellOf(home), BASELINE_CELL);
});

t.test('sep= naming a delimiter the contract does not allow is refused naming line 1', async (t) => {
  const { dir, home, meta } = await baselineHome(t);
  const r = await importFiles(home, write(dir, 'e.csv', `sep=#\n${baseEnr}`), join(BASE, 'attendance.csv'));
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.e.code, 'SB_ERR_CSV_DELIMITER');
    t.equal(r.e.details.line, 1);
  }
  await assertKept(t, home, meta);
});

t.test('import-stray-quote-swallow: refused naming line 3; with warn, accepted with a warning', async (t) => {
  const { home, meta } = await baselineHome(t);
  const att = join(CASES, 'import-stray-quote-swallow', 'attendance.csv');
  const r = await importFiles(home, join(BASE, 'enrolments.csv'), att);
  t.notOk(r.ok, 'refused');
  if (!r.ok) {
    t.equal(r.e.code, 'SB_ERR_CSV_QUOTE_SPAN');
    t.equal(r.e.details.file, 'attendance.csv');
    t.equal(r.e.details.line, 3, 'the line where the quote opens');
    t.match(r.e.message, /^attendance\.csv:3: /);
    t.match(r.e.message, /--multiline-quotes warn/);
  }
  await assertKept(t, home, meta);
  const w = await importFiles(home, join(BASE, 'enrolments.csv'), att, { multilineQuotes: 'warn' });
  t.ok(w.ok, 'accepted with --multiline-quotes warn');
  if (w.ok) {
    t.equal(w.r.attendance.records, 4, 'the quoted field is one value of line 3, as RFC 4180 reads it');
    t.equal(w.r.warnings.length, 1);
    t.match(w.r.warnings[0], { file: 'attendance.csv', line: 3 });
  }
});

t.test('a quoted line break in ordinary text is accepted (RFC 4180)', async (t) => {
  const { dir, home } = await baselineHome(t);
  const att = baseAtt.replace('header', 'header').replace('start_time\n', 'start_time,opmerking\n');
  const lines = att.trimEnd().split('\n');
  const withRemarks = lines.map((l, i) => (i === 0 ? l : `${l},${i === 2 ? '"trein\nvertraagd"' : ''}`)).join('\n');
  const r = await importFiles(home, join(BASE, 'enrolments.csv'), write(dir, 'a.csv', `${withRemarks}\n`));
  t.ok(r.ok, r.ok ? 'imported' : r.e.message);
  t.same(await cellOf(home), BASELINE_CELL);
});

t.test('a file with no rows is refused with one message and the previous dataset stays', async (t) => {
  const { dir, home, meta } = await baselineHome(t);
  const enrHeader = write(dir, 'enrolments.csv', `${baseEnr.split('\n')[0]}\n`);
  const attHeader = write(dir, 'attendance.csv', `${baseAtt.split('\n')[0]}\r\n\r\n`);
  const empty = write(dir, 'empty.csv', '');
  for (const [name, e, a, file, code] of [
    ['header-only enrolments', enrHeader, join(BASE, 'attendance.csv'), 'enrolments.csv', 'SB_ERR_IMPORT_EMPTY'],
    ['header-only attendance', join(BASE, 'enrolments.csv'), attHeader, 'attendance.csv', 'SB_ERR_IMPORT_EMPTY'],
    ['empty enrolments', empty, join(BASE, 'attendance.csv'), 'empty.csv', 'SB_ERR_CSV_EMPTY'],
  ] as const) {
    const r = await importFiles(home, e, a);
    t.notOk(r.ok, `${name}: refused`);
    if (r.ok) continue;
    t.equal(r.e.code, code, name);
    t.equal(r.e.details.file, file, name);
    t.equal(r.e.details.line, 1, name);
    if (code === 'SB_ERR_IMPORT_EMPTY') t.match(r.e.message, `${file} has no rows`, name);
    t.equal(r.e.message.split('\n').length, 1, `${name}: one message, not one per row`);
    t.notMatch(r.e.message, /not in enrolments\.csv/, name);
  }
  await assertKept(t, home, meta);
});

t.test('under --max-errors, an import whose every row is skipped is refused too', async (t) => {
  const { dir, home, meta } = await baselineHome(t);
  const att = baseAtt.replace(/,(present|late|absent_unauthorized|absent_authorized|unregistered),/g, ',x,');
  const r = await importFiles(home, join(BASE, 'enrolments.csv'), write(dir, 'a.csv', att), { maxErrors: 100 });
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.e.code, 'SB_ERR_IMPORT_EMPTY');
  await assertKept(t, home, meta);
});

t.test('UTF-16 without a BOM is reported as an encoding, not as missing columns', async (t) => {
  const { dir, home, meta } = await baselineHome(t);
  for (const [enc, bom] of [
    ['utf16-le', false],
    ['utf16-be', false],
    ['utf16-le', true],
  ] as const) {
    const bytes = iconv.encode(baseEnr, enc, { addBOM: bom });
    const r = await importFiles(home, write(dir, 'enrolments.csv', bytes), join(BASE, 'attendance.csv'));
    t.notOk(r.ok);
    if (r.ok) continue;
    t.equal(r.e.code, 'SB_ERR_CSV_ENCODING', `${enc} bom=${bom}`);
    t.match(r.e.message, /^enrolments\.csv:1: the file is UTF-16/);
    t.match(r.e.message, /CSV UTF-8/);
  }
  await assertKept(t, home, meta);
});

t.test('a shifted column: the problem describes the shape, never the value', async (t) => {
  const { dir, home, meta } = await baselineHome(t);
  // The id lands in leerweg, the birth date in start_date: the same width, other places.
  const shifted = baseEnr.replace(
    's3,007,2008-02-03,90001,2,BOL,2024-08-20,,',
    's3,007,2008-02-03,90001,2,0760295,1-1-2007,,',
  );
  const r = await importFiles(home, write(dir, 'enrolments.csv', shifted), join(BASE, 'attendance.csv'));
  t.notOk(r.ok);
  if (r.ok) return;
  t.ok(r.e instanceof ImportRefusedError);
  t.match(r.e.message, 'enrolments.csv:4 column leerweg: a value shaped 9999999 is not BOL or BBL');
  t.notMatch(r.e.message, '0760295', 'the id is not echoed');
  t.notMatch(r.e.message, '1-1-2007', 'the date is not echoed');
  t.match(r.e.message, /shown by shape only/);
  t.notMatch(JSON.stringify(r.e.details), '0760295', 'nor in the details');
  await assertKept(t, home, meta);
});

t.test('a row of another width (glued or shifted) is refused naming its line', async (t) => {
  const { dir, home, meta } = await baselineHome(t);
  const lines = baseAtt.trimEnd().split('\n');
  lines[2] = `${lines[2]},extra`;
  const r = await importFiles(home, join(BASE, 'enrolments.csv'), write(dir, 'a.csv', `${lines.join('\n')}\n`));
  t.notOk(r.ok);
  if (!r.ok) {
    t.match(r.e.message, 'a.csv:3 column (row): the row has 6 field(s) but the header has 5');
  }
  await assertKept(t, home, meta);
  // A trailing delimiter (an empty extra field) carries nothing and passes.
  const trailing = `${baseAtt.trimEnd().split('\n').join(',\n')},\n`;
  const ok = await importFiles(home, join(BASE, 'enrolments.csv'), write(dir, 'b.csv', trailing));
  t.ok(ok.ok, ok.ok ? 'trailing empty field accepted' : ok.e.message);
});

t.test('header: a file without its header line, or with a column twice, is refused without echoing data', async (t) => {
  const { dir, home, meta } = await baselineHome(t);
  const noHeader = baseEnr.split('\n').slice(1).join('\n');
  const r = await importFiles(home, write(dir, 'enrolments.csv', noHeader), join(BASE, 'attendance.csv'));
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.e.code, 'SB_ERR_IMPORT_COLUMNS');
    t.match(r.e.message, /probably not a header/);
    t.notMatch(r.e.message, /2007-05-01|s1|e1/, 'no field of the first row is echoed');
  }
  const twice = baseAtt.replace('start_time', 'date');
  const r2 = await importFiles(home, join(BASE, 'enrolments.csv'), write(dir, 'attendance.csv', twice));
  t.notOk(r2.ok);
  if (!r2.ok) {
    t.equal(r2.e.code, 'SB_ERR_IMPORT_COLUMNS');
    t.match(r2.e.message, /column date twice \(columns 2 and 5\)/);
  }
  await assertKept(t, home, meta);
});

t.test('leading blank lines before the header are skipped; lines still count', async (t) => {
  const { dir, home } = await baselineHome(t);
  const att = `\r\n\r\n${baseAtt.replace('e2,2024-09-04,30,unregistered', 'e2,2024-09-04,30,nope')}`;
  const r = await importFiles(home, join(BASE, 'enrolments.csv'), write(dir, 'attendance.csv', att));
  t.notOk(r.ok);
  if (!r.ok) t.match(r.e.message, 'attendance.csv:8 column status');
});
