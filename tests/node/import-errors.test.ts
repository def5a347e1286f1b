// A broken file gets a clear report naming file, line and column, and leaves the previous
// dataset untouched (INPUT.md "Bad input"; issue 2 "Done when").
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import iconv from 'iconv-lite';
import { importDataset } from '../../node/import/import-dataset.js';
import { ImportRefusedError } from '../../node/import/problems.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { loadDataset } from '../../node/store/dataset-store.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import { sampleDir } from '../helpers/paths.js';

const EDGE = join(sampleDir, 'edge');
const edgeEnr = readFileSync(join(EDGE, 'enrolments.csv'), 'utf8');
const edgeAtt = readFileSync(join(EDGE, 'attendance.csv'), 'utf8');
const expected = JSON.parse(readFileSync(join(EDGE, 'expected.json'), 'utf8'));

/** A home with the edge set imported, and a folder to write broken copies into. */
async function withGoodDataset(t: Test) {
  const dir = t.testdir({ home: {} });
  const home = join(dir, 'home');
  await importDataset({ home, enrolments: join(EDGE, 'enrolments.csv'), attendance: join(EDGE, 'attendance.csv') });
  const db = openNodeDb(home);
  const before = loadDataset(db)!.meta;
  db.close();
  return { dir, home, before };
}

/** Assert the dataset is still the edge set: same metadata, same vector. */
async function assertUntouched(t: Test, home: string, before: unknown) {
  const db = openNodeDb(home);
  t.same(loadDataset(db)!.meta, before, 'the previous dataset is untouched');
  db.close();
  const { json } = await computeNodeVector({ home, codebook: join(EDGE, 'codebook.csv'), year: 2024 });
  t.strictSame(json.cells, expected.cells, 'the previous vector is unchanged');
}

type Case = {
  name: string;
  enr?: string | Buffer;
  att?: string | Buffer;
  code?: string;
  file: string;
  line: number;
  column?: string;
  reason: RegExp;
};

const lines = (s: string) => s.split('\n');
const replaceLine = (s: string, n: number, f: (l: string) => string) =>
  lines(s)
    .map((l, i) => (i === n - 1 ? f(l) : l))
    .join('\n');

const cases: Case[] = [
  {
    name: 'impossible date',
    enr: replaceLine(edgeEnr, 3, (l) => l.replace('2024-08-01', '2024-02-31')),
    file: 'enrolments.csv',
    line: 3,
    column: 'start_date',
    reason: /impossible date/,
  },
  {
    name: 'date that is not a date',
    att: replaceLine(edgeAtt, 5, (l) => l.replace(/2024-\d\d-\d\d/, '2024/09/16')),
    file: 'attendance.csv',
    line: 5,
    column: 'date',
    reason: /not a date/,
  },
  {
    name: 'ISO and day-first dates mixed in one column',
    att: replaceLine(edgeAtt, 6, (l) => l.replace(/(\d{4})-(\d\d)-(\d\d)/, '$3-$2-$1')),
    file: 'attendance.csv',
    line: 6,
    column: 'date',
    reason: /one format/,
  },
  {
    name: 'attendance for an unknown enrolment',
    att: replaceLine(edgeAtt, 4, (l) => l.replace(/^\d+/, '999999')),
    file: 'attendance.csv',
    line: 4,
    column: 'enrolment_id',
    reason: /not in enrolments\.csv/,
  },
  {
    name: 'duplicate enrolment_id',
    enr: `${edgeEnr.trimEnd()}\n${lines(edgeEnr)[1]}\n`,
    file: 'enrolments.csv',
    line: lines(edgeEnr.trimEnd()).length + 1,
    column: 'enrolment_id',
    reason: /duplicate.*line 2/,
  },
  {
    name: 'end_date before start_date',
    enr: replaceLine(edgeEnr, 2, (l) => l.replace('2024-08-01,,', '2024-08-01,2024-07-01,')),
    file: 'enrolments.csv',
    line: 2,
    column: 'end_date',
    reason: /before start_date/,
  },
  {
    name: 'unclosed quote',
    enr: replaceLine(edgeEnr, 4, (l) => l.replace('diploma', '"diploma')),
    code: 'SB_ERR_CSV_QUOTE',
    file: 'enrolments.csv',
    line: 4,
    reason: /never closed/,
  },
  {
    name: 'minutes out of range',
    att: replaceLine(edgeAtt, 2, (l) => l.replace(',60,', ',721,')),
    file: 'attendance.csv',
    line: 2,
    column: 'minutes',
    reason: /1 to 720/,
  },
  {
    name: 'unknown status code',
    att: replaceLine(edgeAtt, 3, (l) => l.replace('absent_unauthorized', 'spijbelen')),
    file: 'attendance.csv',
    line: 3,
    column: 'status',
    reason: /not a status code/,
  },
  {
    name: 'wrong encoding guess: UTF-8 at the start, Windows-1252 bytes later',
    enr: Buffer.concat([Buffer.from(`${edgeEnr.trimEnd()}\n${'x'.repeat(10)}`), iconv.encode('', 'win1252')]),
    att: Buffer.concat([
      Buffer.from(`${edgeAtt.trimEnd()}\n`),
      Buffer.from('81,2024-09-02,60,present\n'.repeat(50000)),
      iconv.encode('81,2024-09-02,60,present – te laat\n', 'win1252'),
    ]),
    code: 'SB_ERR_CSV_ENCODING',
    file: 'attendance.csv',
    line: lines(edgeAtt.trimEnd()).length + 50001,
    reason: /--encoding windows-1252/,
  },
  {
    name: 'missing required column',
    att: edgeAtt.replace('minutes', 'duur'),
    code: 'SB_ERR_IMPORT_COLUMNS',
    file: 'attendance.csv',
    line: 1,
    reason: /minutes/,
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const { dir, home, before } = await withGoodDataset(t);
    const enr = join(dir, 'enrolments.csv');
    const att = join(dir, 'attendance.csv');
    if (c.enr !== undefined) writeFileSync(enr, c.enr);
    else copyFileSync(join(EDGE, 'enrolments.csv'), enr);
    if (c.att !== undefined) writeFileSync(att, c.att);
    else copyFileSync(join(EDGE, 'attendance.csv'), att);
    if (c.name.startsWith('wrong encoding')) copyFileSync(join(EDGE, 'enrolments.csv'), enr);
    const err = await importDataset({
      home,
      enrolments: enr,
      attendance: att,
      codebook: join(EDGE, 'codebook.csv'),
      chunkSize: 64 * 1024,
    }).then(
      () => null,
      (e: unknown) => e as Error & { code: string; details: Record<string, unknown> },
    );
    t.ok(err, 'the import is refused');
    if (!err) return;
    if (c.code) {
      t.equal(err.code, c.code);
      t.equal(err.details.file, c.file);
      t.equal(err.details.line, c.line);
      t.match(err.message, c.reason);
    } else {
      t.equal(err.code, 'SB_ERR_IMPORT_REFUSED');
      t.ok(err instanceof ImportRefusedError);
      const p = (err as ImportRefusedError).problems.listed[0]!;
      t.same({ file: p.file, line: p.line, column: p.column }, { file: c.file, line: c.line, column: c.column });
      t.match(p.reason, c.reason);
      t.match(err.message, `${c.file}:${c.line} column ${c.column}`);
      t.match(err.message, /nothing was changed/);
    }
    await assertUntouched(t, home, before);
  });
}

t.test('--encoding utf-8 on a Windows-1252 file names the line and suggests windows-1252', async (t) => {
  const { home, before } = await withGoodDataset(t);
  const err = await importDataset({
    home,
    enrolments: join(sampleDir, 'inst-1-dirty', 'enrolments.csv'),
    attendance: join(sampleDir, 'inst-1-dirty', 'attendance.csv'),
    encoding: 'utf-8',
  }).catch((e) => e);
  t.equal(err.code, 'SB_ERR_CSV_ENCODING');
  t.equal(err.details.file, 'enrolments.csv');
  t.match(err.message, /UTF-8 was given.*--encoding windows-1252/);
  await assertUntouched(t, home, before);
});

t.test('duplicate lesson (same enrolment_id, date and start_time) names both lines', async (t) => {
  const { dir, home, before } = await withGoodDataset(t);
  const att = join(dir, 'attendance.csv');
  const rows = lines(edgeAtt.trimEnd());
  const withTime = [
    `${rows[0]},start_time`,
    ...rows
      .slice(1)
      .map((l, i) => `${l},${String(8 + (i % 10)).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}`),
  ];
  withTime.push(
    withTime[3]!.replace(
      /,present,|,absent_unauthorized,|,unregistered,|,not_applicable,|,late,|,absent_authorized,/,
      ',present,',
    ),
  );
  writeFileSync(att, `${withTime.join('\n')}\n`);
  const err = (await importDataset({ home, enrolments: join(EDGE, 'enrolments.csv'), attendance: att }).catch(
    (e) => e,
  )) as ImportRefusedError;
  t.equal(err.code, 'SB_ERR_IMPORT_REFUSED');
  t.same(
    err.problems.listed.map((p) => [p.line, p.column]),
    [[withTime.length, 'start_time']],
  );
  t.match(err.problems.listed[0]!.reason, 'on line 4');
  await assertUntouched(t, home, before);

  // Under --max-errors the duplicate is skipped, and the data equal the file without it.
  await importDataset({ home, enrolments: join(EDGE, 'enrolments.csv'), attendance: att, maxErrors: 1 });
  const { json } = await computeNodeVector({ home, codebook: join(EDGE, 'codebook.csv'), year: 2024 });
  t.strictSame(json.cells, expected.cells, 'the skipped duplicate does not count');
});

t.test('the report lists the first 100 problems and the total', async (t) => {
  const { dir, home, before } = await withGoodDataset(t);
  const att = join(dir, 'attendance.csv');
  writeFileSync(att, `${edgeAtt.trimEnd()}\n${'81,2024-09-02,sixty,present\n'.repeat(150)}`);
  const err = (await importDataset({ home, enrolments: join(EDGE, 'enrolments.csv'), attendance: att }).catch(
    (e) => e,
  )) as ImportRefusedError;
  t.equal(err.problems.total, 150);
  t.equal(err.problems.listed.length, 100);
  t.match(err.message, /and 50 more/);
  t.match(err.message, /150 problem\(s\) in 150 row\(s\)/);
  await assertUntouched(t, home, before);
});

t.test('--max-errors skips up to N bad rows and records them with the dataset', async (t) => {
  const { dir, home } = await withGoodDataset(t);
  const enr = join(dir, 'enrolments.csv');
  const att = join(dir, 'attendance.csv');
  // One bad enrolment row (its observations are dropped with it) and two bad observations.
  const badEnrLine = lines(edgeEnr).findIndex((l) => l.startsWith('s13,')) + 1;
  writeFileSync(
    enr,
    replaceLine(edgeEnr, badEnrLine, (l) => l.replace(/,BOL,|,BBL,/, ',XYZ,')),
  );
  writeFileSync(att, `${edgeAtt.trimEnd()}\n81,2024-09-02,0,present\n81,not-a-date,60,present\n`);
  const refused = await importDataset({ home, enrolments: enr, attendance: att, maxErrors: 2 }).catch((e) => e);
  t.equal(refused.code, 'SB_ERR_IMPORT_REFUSED', '3 bad rows are more than --max-errors 2');
  const r = await importDataset({ home, enrolments: enr, attendance: att, maxErrors: 3 });
  t.equal(r.rowsSkipped, 3);
  t.ok(r.observationsDropped > 0, 'observations of the skipped enrolment are dropped with it');
  const db = openNodeDb(home);
  const meta = loadDataset(db)!.meta;
  db.close();
  t.equal(meta.rowsSkipped, 3, 'recorded with the dataset');
  t.equal(meta.observationsDropped, r.observationsDropped);
});

t.test('niveau that contradicts the codebook: refused at import with --codebook, and by vector', async (t) => {
  const { dir, home } = await withGoodDataset(t);
  const enr = join(dir, 'enrolments.csv');
  writeFileSync(
    enr,
    replaceLine(edgeEnr, 2, (l) => l.replace(',90004,4,', ',90004,3,')),
  );
  const err = (await importDataset({
    home,
    enrolments: enr,
    attendance: join(EDGE, 'attendance.csv'),
    codebook: join(EDGE, 'codebook.csv'),
  }).catch((e) => e)) as ImportRefusedError;
  t.same(
    err.problems.listed.map((p) => [p.line, p.column]),
    [[2, 'niveau']],
  );
  await importDataset({ home, enrolments: enr, attendance: join(EDGE, 'attendance.csv') });
  const v = await computeNodeVector({ home, codebook: join(EDGE, 'codebook.csv'), year: 2024 }).catch((e) => e);
  t.equal(v.code, 'SB_ERR_NIVEAU_MISMATCH');
  t.match(v.message, /line 2 \(crebo 90004 niveau 3, codebook niveau 4\)/);
});

t.test('missing files and an empty home give errors that say what to do', async (t) => {
  const dir = t.testdir();
  const e1 = await importDataset({
    home: dir,
    enrolments: join(dir, 'nope.csv'),
    attendance: join(EDGE, 'attendance.csv'),
  }).catch((e) => e);
  t.equal(e1.code, 'SB_ERR_FILE_NOT_FOUND');
  const e2 = await computeNodeVector({ home: dir, codebook: join(EDGE, 'codebook.csv'), year: 2024 }).catch((e) => e);
  t.equal(e2.code, 'SB_ERR_NO_DATASET');
  t.match(e2.message, /sectorbench node import/);
});
