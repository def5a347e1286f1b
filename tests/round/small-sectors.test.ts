// The main job on small synthetic sectors whose releases the disclosure audit once refused
// because secondary suppression did not widen a too narrow protection interval: the parent of
// a fully suppressed group (3 x 200, seed 1), a group pinned by a sibling at its known minimum
// (7 x 250, seed 2), and one pinned to width 0 (9 x 600, seed 1). Each must now be released,
// with the audit's verdict signed in it.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { runDemo } from '../../demo/run-demo.js';

for (const [institutions, students, seed] of [
  [3, 200, '1'],
  [7, 250, '2'],
  [9, 600, '1'],
] as const) {
  t.test(`${institutions} institutions x ${students} students, seed ${seed}`, async (t) => {
    const out = t.testdir();
    const r = await runDemo({ out, institutions, students, seed, year: 2024, log: () => {} });
    const release = JSON.parse(readFileSync(r.release, 'utf8'));
    t.equal(release.institutions, institutions);
    t.equal(release.disclosure.audit.verdict, 'passed');
    t.equal(release.disclosure.audit.determined, 0);
    t.ok(release.disclosure.blocks.published > 0, `published ${release.disclosure.blocks.published} blocks`);
  });
}
