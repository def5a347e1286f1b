import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { duckdbVector } from '../../bench/ingest/duckdb-vector.js';

/** The conformance sample: `<repo>/../shared/sample`, found by walking up from this file. */
function samplePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const cand = join(dir, '..', 'shared', 'sample');
    if (existsSync(join(cand, 'codebook.csv')) && existsSync(join(dir, 'package.json'))) return cand;
    dir = dirname(dir);
  }
  throw new Error('shared/sample not found next to the repository');
}

const S = samplePath();
const load = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

for (const inst of ['inst-1', 'inst-2', 'inst-3']) {
  t.test(`DuckDB rendering equals expected/${inst}.json`, async (t) => {
    const got = await duckdbVector({
      codebook: join(S, 'codebook.csv'),
      enrolments: join(S, inst, 'enrolments.csv'),
      attendance: join(S, inst, 'attendance.csv'),
      year: 2024,
    });
    const want = load(join(S, 'expected', `${inst}.json`)) as typeof got;
    t.same(got.cells, want.cells, 'cells');
    t.same(got.groups, want.groups, 'groups');
    t.same(got.excluded_crebos, want.excluded_crebos, 'excluded_crebos');
    t.same(got.data_quality, want.data_quality, 'data_quality');
    t.equal(JSON.stringify(got), JSON.stringify(want), 'byte-identical JSON rendering');
  });
}

t.test('DuckDB rendering equals edge/expected.json', async (t) => {
  const e = join(S, 'edge');
  const got = await duckdbVector({
    codebook: join(e, 'codebook.csv'),
    enrolments: join(e, 'enrolments.csv'),
    attendance: join(e, 'attendance.csv'),
    year: 2024,
  });
  t.equal(JSON.stringify(got), JSON.stringify(load(join(e, 'expected.json'))));
});

t.test('duplicate lessons with start_time are an error; empty start_time is not compared', async (t) => {
  const dir = t.testdir({
    'codebook.csv': 'crebo,name,niveau,sectorkamer_code,sectorkamer_name\n90001,A (synthetisch),2,AAA,A\n',
    'enrolments.csv':
      'student_id,enrolment_id,crebo,niveau,leerweg,start_date,end_date,exit_reason\ns1,1,90001,2,BOL,2024-08-01,,\n',
    'ok.csv':
      'enrolment_id,date,minutes,status,start_time\n1,2024-09-02,60,present,\n1,2024-09-02,60,present,\n1,2024-09-02,60,present,08:30\n',
    'dup.csv':
      'enrolment_id,date,minutes,status,start_time\n1,2024-09-02,60,present,08:30\n1,2024-09-02,45,late,08:30\n',
    'dup-padded.csv':
      'enrolment_id,date,minutes,status,start_time\n1,2024-09-02,60,present,08:30\n 1 ,2024-09-02,45,late, 08:30\u00a0\n',
  });
  const base = { codebook: join(dir, 'codebook.csv'), enrolments: join(dir, 'enrolments.csv'), year: 2024 };
  const ok = await duckdbVector({ ...base, attendance: join(dir, 'ok.csv') });
  t.equal(ok.cells['90001|2|BOL']?.a_min_present, 180);
  await t.rejects(duckdbVector({ ...base, attendance: join(dir, 'dup.csv') }), {
    code: 'SB_ERR_INPUT_DUPLICATE_LESSON',
  });
  await t.rejects(duckdbVector({ ...base, attendance: join(dir, 'dup-padded.csv') }), {
    code: 'SB_ERR_INPUT_DUPLICATE_LESSON',
  });
  const unchecked = await duckdbVector({ ...base, attendance: join(dir, 'dup.csv'), checkDuplicates: false });
  t.equal(unchecked.cells['90001|2|BOL']?.a_late, 1);
});

t.test('input errors', async (t) => {
  const dir = t.testdir({
    'codebook.csv': 'crebo,name,niveau,sectorkamer_code,sectorkamer_name\n90001,A (synthetisch),2,AAA,A\n',
    'enrolments.csv':
      'student_id,enrolment_id,crebo,niveau,leerweg,start_date,end_date,exit_reason\ns1,1,90001,2,BOL,2024-08-01,,\n',
    'bad-niveau.csv':
      'student_id,enrolment_id,crebo,niveau,leerweg,start_date,end_date,exit_reason\ns1,1,90001,3,BOL,2024-08-01,,\n',
    'unknown.csv': 'enrolment_id,date,minutes,status\n2,2024-09-02,60,present\n',
    'status.csv': 'enrolment_id,date,minutes,status\n1,2024-09-02,60,P\n',
    'minutes.csv': 'enrolment_id,date,minutes,status\n1,2024-09-02,0,present\n',
  });
  const base = { codebook: join(dir, 'codebook.csv'), enrolments: join(dir, 'enrolments.csv'), year: 2024 };
  for (const f of ['unknown.csv', 'status.csv', 'minutes.csv'])
    await t.rejects(duckdbVector({ ...base, attendance: join(dir, f) }), { code: 'SB_ERR_INPUT_INVALID' }, f);
  await t.rejects(
    duckdbVector({ ...base, enrolments: join(dir, 'bad-niveau.csv'), attendance: join(dir, 'status.csv') }),
    { code: 'SB_ERR_INPUT_INVALID' },
  );
});
