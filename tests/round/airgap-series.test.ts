// Issue 16, items 1 and 3 together: an air-gapped node's comparison shows the whole series over
// the studiejaren after ONE carry, as an online node's does (DECISIONS 89). Two unmasked rounds
// (studiejaren 2023 and 2024, generated data with year-to-year drift) on one coordinator; the
// demo writes every node's comparison online. Then inst-3 is switched to the file transport and
// runs `node benchmark` again: its first run asks for the newest release in an export file, the
// coordinator's import answers it and adds the releases of the earlier studiejaren the node
// contributed to, and the second run writes a comparison whose series table equals the online
// one and the reference computed from the exports with DuckDB (tests/helpers/series-reference.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { importRequestFile } from '../../coordinator/airgap/import-file.js';
import { openCoordinatorHome } from '../../coordinator/home.js';
import { runDemo } from '../../demo/run-demo.js';
import { readAudit } from '../../node/audit/log.js';
import { exportPending, importResponses } from '../../node/client/airgap-files.js';
import { readNodeConfig, writeNodeConfig } from '../../node/client/config.js';
import { writeBenchmark } from '../../node/round/benchmark.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { AirgapResponseFileSchema } from '../../schemas/airgap.js';
import { ROUTES } from '../../shared/protocol/routes.js';
import { comparisonSeriesReference, seriesTable } from '../helpers/series-reference.js';

t.setTimeout(20 * 60 * 1000);

const YEARS = [2023, 2024];
const IDS = ['inst-1', 'inst-2', 'inst-3'];

type DemoRound = Awaited<ReturnType<typeof runDemo>>['rounds'][number];

/** Two unmasked studiejaren with the demo; inst-3's online series, checked against the reference. */
async function runTwoYearsOnline(t: Test) {
  const out = join(t.testdir({}), 'out');
  const demo = await runDemo({
    out,
    institutions: 3,
    students: 100,
    seed: 'offline-series',
    year: 2024,
    years: YEARS,
    unmasked: true,
    log: () => {},
  });
  const [first, last] = demo.rounds;
  if (!first || !last || demo.rounds.length !== 2) throw new Error('the demo ran two rounds');
  const home = join(out, 'nodes', 'inst-3');
  const reference = await comparisonSeriesReference(
    demo.rounds.map((r) => ({ year: r.year, data: r.data ?? '' })),
    IDS,
    'inst-3',
  );
  t.equal(reference.length, 2);
  t.not(reference[0]?.[1], reference[1]?.[1], `the studiejaren differ (verzuim ${reference.map((r) => r[1])})`);

  const online = seriesTable(readFileSync(join(home, 'benchmark', 'benchmark.html'), 'utf8'));
  t.same(online, reference, 'online: both studiejaren in the series, equal to the reference');
  return { out, first, last, home, reference, online };
}

/**
 * Carry inst-3's export file to the coordinator and back: the export asks only for the newest
 * release, the coordinator's import adds the earlier studiejaar's release, the node keeps both.
 */
async function carryOnce(t: Test, out: string, home: string, first: DemoRound, last: DemoRound): Promise<void> {
  const carry = await exportPending({ home });
  if (!carry) throw new Error('an export file was written');
  t.same(
    carry.requests,
    [{ method: 'GET', path: ROUTES.release(last.roundId) }],
    'the export file asks only for the newest round’s release',
  );

  const h = await openCoordinatorHome(join(out, 'coordinator'));
  let responseFile: string;
  try {
    const imported = await importRequestFile({ h, file: carry.file });
    t.same(imported.outcomes, [`GET ${ROUTES.release(last.roundId)} → 200`]);
    responseFile = imported.responseFile;
  } finally {
    h.db.close();
  }
  const doc = AirgapResponseFileSchema.parse(JSON.parse(readFileSync(responseFile, 'utf8')));
  t.same(
    doc.responses.filter((r) => r.nonce === null).map((r) => r.path),
    [ROUTES.release(first.roundId)],
    'the coordinator added the earlier studiejaar’s release, unasked',
  );

  const back = await importResponses({ home, file: responseFile });
  t.same([back.answered, back.documents, back.refused], [1, 1, []], 'one answer and one added release kept');
}

/** The node's audit log entries of one kind written after the first `skip` of them. */
function auditEntriesAfter(home: string, kind: string, skip: number) {
  const db = openNodeDb(home);
  const entries = readAudit(db);
  db.close();
  return { all: entries, after: entries.filter((e) => e.kind === kind).slice(skip) };
}

t.test('an offline node with two studiejaren gets the same comparison series as an online one', async (t) => {
  const { out, first, last, home, reference, online } = await runTwoYearsOnline(t);

  // inst-3 goes air-gapped.
  await writeNodeConfig(home, { ...readNodeConfig(home), transport: 'file' });
  const offlineOut = join(out, 'offline-benchmark');
  const bench = () => writeBenchmark({ home, roundId: last.roundId, out: offlineOut });
  await t.rejects(bench(), { code: 'SB_ERR_AIRGAP_PENDING' }, 'offline, the first run waits for a carry');
  await carryOnce(t, out, home, first, last);

  const fetchedBefore = auditEntriesAfter(home, 'release_fetched', 0).after.length;
  const r = await bench();
  t.equal(r.releaseVersion, 1);
  const html = readFileSync(r.html, 'utf8');
  t.same(seriesTable(html), reference, 'offline, after one carry: both studiejaren, equal to the reference');
  t.same(seriesTable(html), online, 'the same series as online');
  t.notMatch(html, /Niet in de reeks/, 'no studiejaar left out');

  const { all, after: fetched } = auditEntriesAfter(home, 'release_fetched', fetchedBefore);
  t.same(
    fetched.map((e) => e.round_id).sort(),
    [first.roundId, last.roundId].sort(),
    'each release verified and logged by the node as online',
  );
  t.notOk(
    all.some((e) => e.kind === 'refusal' && e.round_id === first.roundId),
    'no refusal of the earlier release',
  );

  // The added newest release is used once, as an answer is: the next run asks the coordinator again.
  await t.rejects(bench(), { code: 'SB_ERR_AIRGAP_PENDING' }, 'a later run needs a new carry');
});
