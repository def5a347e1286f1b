// Issue 13: the seeded CSV fuzz, its first 1,000 mutants (bench/fuzz/run.ts runs 10,000 and
// more). 0 crashes, 0 partial imports, every refusal names file and line and echoes no student
// value, and every accepted mutant's vector equals the independent reference (csv-parse + DuckDB)
// computed on the same mutant's records.
import { join } from 'node:path';
import t from 'tap';
import { runFuzz } from '../../bench/fuzz/run-fuzz.js';
import { specDir } from '../helpers/paths.js';

// About 2 minutes on an idle 2-core machine; the file-level timeout is raised for busy ones.
t.setTimeout(3_600_000);

t.test('1,000 seeded CSV mutants', async (t) => {
  const r = await runFuzz({
    dir: t.testdir({}),
    count: 1000,
    seed: 'fuzz',
    codebook: join(specDir, 'cases', 'import-baseline', 'codebook.csv'),
  });
  t.equal(r.mutants, 1000);
  for (const what of ['crash', 'partial-import', 'no-file-line', 'echo', 'vector-differs'] as const) {
    const f = r.failures.filter((x) => x.what === what);
    t.same(f, [], `${what}: none`);
  }
  t.ok(r.accepted >= 100, `a fair share is accepted (${r.accepted}), so vectors are compared`);
  t.ok(r.refused >= 100, `a fair share is refused (${r.refused}), so refusals are checked`);
  t.ok(r.referenceRuns >= 5, `the reference computed ${r.referenceRuns} distinct record sets`);
});
