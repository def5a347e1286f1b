// Issue 16, item 3 with item 2: an air-gapped node sends a late contribution and fetches the
// newest benchmark version, all by carried files. An unmasked round of four institutions (the
// three sample institutions and inst-4 with inst-3's exports): inst-1 and inst-2 give version 1;
// the coordinator reopens the round for inst-3 (online, HTTP on loopback) and inst-4 (offline,
// transport "file"). inst-4 runs `node preview --late`, `node submit --late` and `node benchmark`
// as a user does (the CLI in a child process writes the export file to carry), the coordinator's
// operator imports each file and the node imports the answers. The first import of the late
// contribution is killed (SIGKILL) right after the API stored it and before its answer was kept:
// the same file imported again gives the receipt (DECISIONS 88). Version 2 equals the reference
// sums of the four; the offline node's comparison holds the same release, says the same changes
// as the online node's, and got the version it replaces in the same carry (DECISIONS 89).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import type { LocalNode, LocalRound } from '../../demo/local-round.js';
import { importRequestFile } from '../../coordinator/airgap/import-file.js';
import { openCoordinatorHome } from '../../coordinator/home.js';
import { closeRound, publishRelease, reopenRound } from '../../coordinator/index.js';
import { currentSubmissions } from '../../coordinator/store/submissions.js';
import type { PresentedShare } from '../../keyholder/custody/seal.js';
import { releaseRoundDetailed } from '../../keyholder/release.js';
import { readAudit } from '../../node/audit/log.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { importResponses } from '../../node/client/airgap-files.js';
import { readNodeConfig, writeNodeConfig } from '../../node/client/config.js';
import { writeBenchmark } from '../../node/round/benchmark.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import type { AirgapRequestFile, AirgapResponseFile } from '../../schemas/airgap.js';
import type { Release } from '../../schemas/release.js';
import { REQUEST_HEADERS } from '../../shared/protocol/request-signing.js';
import { ROUTES } from '../../shared/protocol/routes.js';
import { approveLate } from '../helpers/approve-late.js';
import { runCli } from '../helpers/cli.js';
import { sampleDir } from '../helpers/paths.js';
import { checkRelease } from '../helpers/release-check.js';
import { countOf } from '../helpers/sql.js';
import { nodeOf, sampleInstitutions, startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };

/** The round and its air-gapped node, inst-4. */
interface Scene {
  round: LocalRound;
  offline: LocalNode;
}

/** The three sample institutions and inst-4 (inst-3's exports, transport "file") in an unmasked round. */
async function startWithOfflineInst4(t: Test): Promise<Scene> {
  const round = await startRound(t.testdir(), {
    institutions: [
      ...sampleInstitutions(),
      {
        id: 'inst-4',
        enrolments: join(sampleDir, 'inst-3', 'enrolments.csv'),
        attendance: join(sampleDir, 'inst-3', 'attendance.csv'),
      },
    ],
    thresholds: THRESHOLDS,
  });
  t.teardown(() => round.stop());
  const offline = nodeOf(round, 'inst-4');
  await writeNodeConfig(offline.home, { ...readNodeConfig(offline.home), transport: 'file' });
  return { round, offline };
}

/**
 * Version 1 from inst-1 and inst-2, published; the round reopened for inst-3 and inst-4. Returns
 * the custodians' shares the key holder releases with.
 */
async function releaseVersion1AndReopen(t: Test, round: LocalRound): Promise<PresentedShare[]> {
  const db = round.coordinator.db;
  for (const id of ['inst-1', 'inst-2']) {
    await approveAsPrivacyOfficer(nodeOf(round, id), round);
    await submitContribution({ home: nodeOf(round, id).home, roundId: round.roundId, now: round.now });
  }
  const shares = await round.keyHolder.custodians.present();
  const bundle1 = join(round.out, 'bundle-1');
  closeRound({ db, roundId: round.roundId, bundleDir: bundle1, force: true, now: round.now() });
  const v1 = (await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle1, shares, now: round.now }))
    .release;
  publishRelease({ db, roundId: round.roundId, release: v1, now: round.now() });
  checkRelease(t, v1, ['inst-1', 'inst-2']);
  reopenRound({
    db,
    roundId: round.roundId,
    institutions: ['inst-3', 'inst-4'],
    deadline: new Date(round.now().getTime() + 3600_000),
    now: round.now(),
  });
  return shares;
}

/**
 * A `node` command on the offline node, run as a user does: it stops at its first unanswered
 * request and writes the export file to carry, which it names.
 */
function nodeCli(t: Test, s: Scene, args: string[]): { file: string; stdout: string } {
  const r = runCli(['node', ...args, '--home', s.offline.home, '--round', s.round.roundId]);
  t.equal(r.code, 0, `node ${args.join(' ')} exits 0 offline (${r.stderr.trim()})`);
  const file = /export file to carry: (\S+\.request\.json)/.exec(r.stdout)?.[1];
  t.ok(file, `node ${args[0]} names the export file to carry`);
  t.match(r.stdout, /sectorbench node import-response/, 'and what to run with the answer');
  return { file: file ?? '', stdout: r.stdout };
}

/** The coordinator's operator imports a carried export file (its own database connection). */
async function coordinatorImport(round: LocalRound, file: string, out?: string) {
  const h = await openCoordinatorHome(round.coordinator.home);
  try {
    return await importRequestFile({ h, file, now: round.now, ...(out ? { out } : {}) });
  } finally {
    h.db.close();
  }
}

/** Carry an export file to the coordinator and its response file back; every request is answered. */
async function carry(t: Test, s: Scene, file: string) {
  const imported = await coordinatorImport(s.round, file);
  const back = await importResponses({ home: s.offline.home, file: imported.responseFile, now: s.round.now });
  t.equal(back.answered, readRequestFile(file).requests.length, 'every carried request answered');
  return { imported, back };
}

/** 1. The late preview needs the manifest: one carry brings it and the round's key; then approved. */
async function carryTheLatePreview(t: Test, s: Scene): Promise<void> {
  const preview = nodeCli(t, s, ['preview', '--late']);
  t.match(preview.stdout, new RegExp(`GET ${ROUTES.manifest(s.round.roundId)}`), 'it asks for the manifest');
  const first = await carry(t, s, preview.file);
  t.equal(first.back.documents, 2, 'the manifest and the round key come along');
  await approveLate(s.round, s.offline);
}

/**
 * 2. The late contribution, carried; the first import dies between storing it and keeping its
 * answer; the next runs it afresh, one more repeats the kept answer; it is stored once.
 */
async function carryTheLateContribution(t: Test, s: Scene): Promise<void> {
  const { round } = s;
  const submit = nodeCli(t, s, ['submit', '--late']);
  t.match(
    submit.stdout,
    new RegExp(`POST ${ROUTES.contributions(round.roundId)}`),
    'the contribution waits in the file',
  );
  await crashImport(t, round, submit.file);
  const second = await carry(t, s, submit.file);
  t.same(second.imported.outcomes, [`POST ${ROUTES.contributions(round.roundId)} → 201`], 'run afresh and accepted');
  const again = await coordinatorImport(round, submit.file, join(round.out, 'again.response.json'));
  t.same([again.ran, again.repeated], [0, 1], 'imported once more: the kept answer, nothing run');
  const sent = await submitContribution({ home: s.offline.home, roundId: round.roundId, late: true, now: round.now });
  t.ok(sent.resent, 'the stored contribution, not a new one');
  t.equal(sent.receipt.institution_id, 'inst-4', 'receipted by the coordinator');
  t.same(
    currentSubmissions(round.coordinator.db, round.roundId)
      .filter((x) => x.institutionId === 'inst-4')
      .map((x) => x.envelopeDigest),
    [sent.envelopeDigest],
    'stored once, the envelope the receipt acknowledges',
  );
}

/** Version 2: all four, equal to the reference sums; published. */
async function releaseVersion2(t: Test, round: LocalRound, shares: PresentedShare[]): Promise<Release> {
  const db = round.coordinator.db;
  const bundle2 = join(round.out, 'bundle-2');
  const closed = closeRound({ db, roundId: round.roundId, bundleDir: bundle2, now: round.now() });
  t.equal(closed.contributions, 4);
  const v2 = (await releaseRoundDetailed({ home: round.keyHolder.home, bundleDir: bundle2, shares, now: round.now }))
    .release;
  t.equal(v2.release_version, 2);
  t.equal(v2.institutions, 4, 'the offline late contribution is in the sum');
  t.ok(checkRelease(t, v2, ['inst-1', 'inst-2', 'inst-3', 'inst-3']) > 100, 'many figures compared');
  publishRelease({ db, roundId: round.roundId, release: v2, now: round.now() });
  return v2;
}

/**
 * 3. The benchmark: online for inst-3, by file for inst-4; one carry brings both versions, and the
 * offline node's comparison equals the online one.
 */
async function carryTheBenchmark(t: Test, s: Scene): Promise<void> {
  const { round, offline } = s;
  const online = await writeBenchmark({
    home: nodeOf(round, 'inst-3').home,
    roundId: round.roundId,
    out: join(round.out, 'bm-inst-3'),
    now: round.now,
  });
  const outDir = join(round.out, 'bm-inst-4');
  const asked = nodeCli(t, s, ['benchmark', '--out', outDir]);
  const third = await carry(t, s, asked.file);
  const response = JSON.parse(readFileSync(third.imported.responseFile, 'utf8')) as AirgapResponseFile;
  t.same(
    response.responses.filter((r) => r.nonce === null).map((r) => r.path),
    [ROUTES.release(round.roundId, '', 1)],
    'the coordinator adds the version the newest one replaces',
  );
  const bm = await writeBenchmark({ home: offline.home, roundId: round.roundId, out: outDir, now: round.now });
  t.equal(bm.releaseVersion, 2, 'the offline node has the newest version');
  t.same(readJson(bm.release), readJson(online.release), 'the same signed release as the online node');
  t.same(bm.changes, online.changes, 'and says the same about what changed against version 1');
  t.equal(bm.rows, online.rows);
  // The same comparison: inst-4 has inst-3's exports (only the institution's id and name differ).
  const asInst3 = (file: string) =>
    readFileSync(file, 'utf8').replaceAll('inst-4', 'inst-3').replaceAll('Instelling 4', 'Instelling 3');
  t.equal(asInst3(bm.json), readFileSync(online.json, 'utf8'), 'the same comparison, figure for figure');
}

/** The offline node's audit log: nothing went over the network; both versions fetched; it verifies. */
async function assertOfflineAuditLog(t: Test, offline: LocalNode): Promise<void> {
  const ndb = openNodeDb(offline.home);
  const entries = readAudit(ndb);
  ndb.close();
  t.ok(
    entries.filter((e) => e.kind === 'request').every((e) => e.payload.transport === 'file'),
    'every request of the offline node went in an export file',
  );
  t.same(
    entries.filter((e) => e.kind === 'release_fetched').map((e) => e.payload.release_version),
    [2, 1],
    'it records the fetch of version 2 and of version 1 it replaces',
  );
  const v = await verifyAuditLog({ home: offline.home, deep: true });
  t.ok(v.ok, `audit verify --deep passes (${v.findings.map((f) => f.message).join('; ')})`);
}

t.test('offline late contribution and offline benchmark: the same figures as online', async (t) => {
  const s = await startWithOfflineInst4(t);
  const { round } = s;
  const shares = await releaseVersion1AndReopen(t, round);

  // inst-3 sends its late contribution online.
  await approveLate(round, nodeOf(round, 'inst-3'));
  await submitContribution({ home: nodeOf(round, 'inst-3').home, roundId: round.roundId, late: true, now: round.now });

  await carryTheLatePreview(t, s);
  await carryTheLateContribution(t, s);
  await releaseVersion2(t, round, shares);
  await carryTheBenchmark(t, s);
  await assertOfflineAuditLog(t, s.offline);
});

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const readRequestFile = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as AirgapRequestFile;

/**
 * `coordinator import` in a child process, killed (SIGKILL) right after the API handled the first
 * carried request and before its answer was kept; afterwards neither its effect nor an answer is
 * stored, so the next import runs it afresh.
 */
async function crashImport(t: Test, round: LocalRound, file: string): Promise<void> {
  const db = round.coordinator.db;
  const killed = runCli(['coordinator', 'import', '--home', round.coordinator.home, file], {
    env: { SB_CRASH_POINT: 'airgap.handled' },
  });
  t.equal(killed.signal, 'SIGKILL', `the import was killed at the crash point (${killed.stderr.trim()})`);
  const nonce = readRequestFile(file).requests[0]?.headers[REQUEST_HEADERS.nonce];
  const count = (sql: string) => countOf(db.prepare(sql).get('inst-4', nonce));
  t.equal(
    count('SELECT count(*) AS n FROM airgap_requests WHERE institution_id = ? AND nonce = ?'),
    0,
    'no answer kept',
  );
  t.equal(
    count('SELECT count(*) AS n FROM nonces WHERE institution_id = ? AND nonce = ?'),
    0,
    'and no effect: the nonce is not spent',
  );
  t.equal(
    countOf(db.prepare("SELECT count(*) AS n FROM submissions WHERE institution_id = 'inst-4'").get()),
    0,
    'nor the contribution stored without its answer',
  );
}
