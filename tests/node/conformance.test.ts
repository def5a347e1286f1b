// The node must reproduce the conformance sample's vectors exactly (../shared/sample/README.md):
// the three institutions, the messy SIS-shaped copy of inst-1, and the hand-computed edge set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { importDataset } from '../../node/import/import-dataset.js';
import { computeNodeVector } from '../../node/vector/node-vector.js';
import { sampleDir } from '../helpers/paths.js';

const cases = [
  { name: 'inst-1', dir: 'inst-1', codebook: 'codebook.csv', expected: 'expected/inst-1.json' },
  { name: 'inst-2 (no birth_date column)', dir: 'inst-2', codebook: 'codebook.csv', expected: 'expected/inst-2.json' },
  { name: 'inst-3 (no start_time column)', dir: 'inst-3', codebook: 'codebook.csv', expected: 'expected/inst-3.json' },
  {
    name: 'inst-1-dirty (Windows-1252, ;, CRLF, D-M-YYYY, extra columns)',
    dir: 'inst-1-dirty',
    codebook: 'codebook.csv',
    expected: 'expected/inst-1.json',
  },
  { name: 'edge (hand-computed)', dir: 'edge', codebook: 'edge/codebook.csv', expected: 'edge/expected.json' },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const home = t.testdir();
    const dir = join(sampleDir, c.dir);
    await importDataset({ home, enrolments: join(dir, 'enrolments.csv'), attendance: join(dir, 'attendance.csv') });
    const { json } = await computeNodeVector({ home, codebook: join(sampleDir, c.codebook), year: 2024 });
    const expected = JSON.parse(readFileSync(join(sampleDir, c.expected), 'utf8'));
    t.same(json.slots, expected.slots, 'slot names and order');
    t.same(json.group_slots, expected.group_slots, 'group slot names and order');
    t.strictSame(json.cells, expected.cells, 'cell rows');
    t.strictSame(json.groups, expected.groups, 'group rows');
    t.strictSame(json.excluded_crebos, expected.excluded_crebos, 'excluded_crebos');
    t.strictSame(json.data_quality, expected.data_quality, 'data_quality');
    t.equal(json.studiejaar, '2024-2025');
    t.equal(json.metric_spec, 'v1');
  });
}

t.test('the three institutions add up to sector.json', async (t) => {
  const { addVectors, vectorFromJson } = await import('../../shared/metrics/vector.js');
  const { readCodebookFile } = await import('../../shared/metrics/codebook-file.js');
  const { vectorToJson } = await import('../../shared/metrics/vector.js');
  const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));
  const vs = [];
  for (const i of [1, 2, 3]) {
    const home = t.testdir();
    const dir = join(sampleDir, `inst-${i}`);
    await importDataset({ home, enrolments: join(dir, 'enrolments.csv'), attendance: join(dir, 'attendance.csv') });
    const { json } = await computeNodeVector({ home, codebook: join(sampleDir, 'codebook.csv'), year: 2024 });
    vs.push(vectorFromJson(codebook, json));
  }
  const sector = vectorToJson(codebook, addVectors(codebook, vs));
  const expected = JSON.parse(readFileSync(join(sampleDir, 'expected/sector.json'), 'utf8'));
  t.strictSame(sector.cells, expected.cells);
  t.strictSame(sector.groups, expected.groups);
});
