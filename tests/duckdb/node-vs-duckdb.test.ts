import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize } from '../../synth/run-synth.js';
import { duckdbVector } from '../../bench/ingest/duckdb-vector.js';

// The node's importer and vector (node/) against the independent DuckDB rendering of METRICS.md,
// on a small synthetic sector in canonical and in SIS-export (messy) shape.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const importer = join(repo, 'node', 'import', 'import-dataset.ts');
const vectorMod = join(repo, 'node', 'vector', 'node-vector.ts');

if (!existsSync(importer) || !existsSync(vectorMod)) {
  t.pass(
    `skipped: the node's importer (node/import/import-dataset.ts) or vector (node/vector/node-vector.ts) does not exist yet`,
  );
} else {
  t.test('node vector equals DuckDB vector on a synthetic sector, canonical and messy', async (t) => {
    const { importDataset } = (await import(
      '../../node/import/import-dataset.js'
    )) as typeof import('../../node/import/import-dataset.js');
    const { computeNodeVector } = (await import(
      '../../node/vector/node-vector.js'
    )) as typeof import('../../node/vector/node-vector.js');
    const base = t.testdir({});
    const opts = { institutions: 2, students: 300, seed: 'nvd', year: 2024, progress: false };
    const canon = await synthesize({ ...opts, out: join(base, 'canonical') });
    const messy = await synthesize({ ...opts, out: join(base, 'messy'), messy: true });
    for (let i = 0; i < canon.institutions.length; i++) {
      const c = canon.institutions[i]!;
      const m = messy.institutions[i]!;
      const want = await duckdbVector({
        codebook: canon.codebook,
        enrolments: c.enrolments,
        attendance: c.attendance,
        year: 2024,
      });
      t.ok(Object.keys(want.cells).length > 10, `inst-${i + 1}: DuckDB vector has cells`);
      for (const [shape, files] of [
        ['canonical', c],
        ['messy', m],
      ] as const) {
        const home = join(base, `home-${shape}-${i + 1}`);
        await importDataset({ home, enrolments: files.enrolments, attendance: files.attendance });
        const { json } = await computeNodeVector({ home, codebook: canon.codebook, year: 2024 });
        t.same(json.cells, want.cells, `inst-${i + 1} ${shape}: cells`);
        t.same(json.groups, want.groups, `inst-${i + 1} ${shape}: groups`);
        t.same(json.excluded_crebos, want.excluded_crebos, `inst-${i + 1} ${shape}: excluded_crebos`);
        t.same(json.data_quality, want.data_quality, `inst-${i + 1} ${shape}: data_quality`);
      }
    }
  });
}
