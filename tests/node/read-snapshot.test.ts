// Issue 13, consistency: `node vector` (and the preview and benchmark, which use the same
// computeFromDb) reads the dataset's enrolments and its weekly sums in one read transaction, so
// an import that commits between the two statements cannot yield a vector that belongs to
// neither dataset. Here another connection commits a change at exactly that moment: the vector
// must still be the one of the dataset as it was when the reading began.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { importDataset } from '../../node/import/import-dataset.js';
import { openNodeDb, type NodeDb } from '../../node/store/node-db.js';
import { computeFromDb } from '../../node/vector/node-vector.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { vectorToJson } from '../../shared/metrics/vector.js';
import { specDir } from '../helpers/paths.js';

const BASE = join(specDir, 'cases', 'import-baseline');

t.test('a write committed between reading enrolments and weekly sums does not reach the vector', async (t) => {
  const home = join(t.testdir({}), 'home');
  await importDataset({
    home,
    enrolments: join(BASE, 'enrolments.csv'),
    attendance: join(BASE, 'attendance.csv'),
  });
  const codebook = await readCodebookFile(join(BASE, 'codebook.csv'));
  const db = openNodeDb(home, { mode: 'existing' });
  t.teardown(() => db.close());
  const other = new Database(join(home, 'node.sqlite'), { timeout: 5_000 });
  t.teardown(() => other.close());

  let interleaved = 0;
  // The database as computeFromDb sees it, except that preparing the weekly-sums query first
  // lets the other connection commit (as an import in another process would).
  const seam = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'prepare') {
        return (sql: string) => {
          if (/FROM enrolment_week/.test(sql) && interleaved === 0) {
            interleaved = other.prepare('DELETE FROM enrolment_week').run().changes;
          }
          return target.prepare(sql);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as NodeDb;

  const during = computeFromDb(seam, home, codebook, 2024);
  t.ok(interleaved > 0, `the other connection committed in between (${interleaved} weekly rows deleted)`);
  // cases/README.md: the baseline's cell 90001|2|BOL.
  const cell = (v: typeof during) => vectorToJson(codebook, v.vector).cells['90001|2|BOL'];
  t.match(cell(during), { a_enrolments: 2, a_min_planned: 335, a_min_present: 155, a_min_abs_unauth: 180 });
  // The write did land: read again, the weekly sums are gone (so the check above was not vacuous).
  const after = computeFromDb(db, home, codebook, 2024);
  t.equal(cell(after)?.a_min_planned ?? 0, 0, 'a fresh read sees no planned minutes');
});
