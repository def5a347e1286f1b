// Issue 16, item 3 "Tests": an offline node's round equals the online one. A masked round of the
// three sample institutions: inst-1 and inst-2 online over real HTTP on loopback, inst-3
// air-gapped (transport "file"): every message it sends or receives goes as a signed file,
// carried by hand (`node round` writes the export file, `coordinator import` runs it through the
// API and writes the signed response file, `node import-response` keeps the answers). The release
// equals the sum of the three expected vectors (../shared/sample/expected) in every published
// figure; tampered and wrongly signed files are refused with a coded error naming the file;
// importing a file twice (at either end) is harmless; a `coordinator import` killed (SIGKILL)
// after the API handled a carried request but before its answer was stored loses nothing: the
// same file imported again answers every request and the round completes with the exact sum; the offline node's audit log records every
// carried request and response file and `audit verify --deep` passes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, type LocalNode, type LocalRound } from '../../demo/local-round.js';
import { importRequestFile } from '../../coordinator/airgap/import-file.js';
import { openCoordinatorHome } from '../../coordinator/home.js';
import { importResponses } from '../../node/client/airgap-files.js';
import { readNodeConfig, writeNodeConfig } from '../../node/client/config.js';
import { readAudit } from '../../node/audit/log.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { runRound, type RoundProgress } from '../../node/round/run-round.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { readIdentityFile } from '../../shared/crypto/identity.js';
import { identityPath } from '../../node/client/config.js';
import { signRequestFile } from '../../shared/protocol/airgap-files.js';
import { REQUEST_HEADERS } from '../../shared/protocol/request-signing.js';
import type { AirgapRequestFile } from '../../schemas/airgap.js';
import { runCli } from '../helpers/cli.js';
import { checkRelease } from '../helpers/release-check.js';
import { countOf } from '../helpers/sql.js';
import { startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 5 };

/** The round, its two online nodes and its air-gapped node, and a folder for hand-made files. */
interface Scene {
  round: LocalRound;
  online: LocalNode[];
  offline: LocalNode;
  scratch: string;
}

/** What the carried rounds did: the export files, what each node reached, which checks ran. */
interface Carried {
  files: string[];
  progress: Map<string, RoundProgress>;
  crashed: boolean;
  checkedTwice: boolean;
  extraImports: number;
}

/** Start a masked round of the three sample institutions; inst-3 carries files, the others are approved. */
async function startWithOfflineNode(t: Test): Promise<Scene> {
  const round = await startRound(t.testdir(), { thresholds: THRESHOLDS, masking: {} });
  t.teardown(() => round.stop());
  const online = round.nodes.slice(0, 2);
  const offline = itemAt(round.nodes, 2);
  t.equal(offline.id, 'inst-3');
  await writeNodeConfig(offline.home, { ...readNodeConfig(offline.home), transport: 'file' });
  for (const n of online) await approveAsPrivacyOfficer(n, round);
  const scratch = join(round.out, 'scratch');
  mkdirSync(scratch);
  return { round, online, offline, scratch };
}

/**
 * The coordinator's operator imports a carried export file (a second database connection, as the
 * CLI beside the running server would open).
 */
async function coordinatorImport(round: LocalRound, file: string, out?: string) {
  const h = await openCoordinatorHome(round.coordinator.home);
  try {
    return await importRequestFile({ h, file, now: round.now, ...(out ? { out } : {}) });
  } finally {
    h.db.close();
  }
}

/** The count a `SELECT count(*) AS n` gives for inst-3's nonce. */
const countFor = (round: LocalRound, sql: string, nonce: string | undefined) =>
  countOf(round.coordinator.db.prepare(sql).get('inst-3', nonce));

/**
 * The coordinator's operator runs `coordinator import` (a child process) and it dies (SIGKILL)
 * right after the API handled a carried request, before its answer was stored (DECISIONS 88):
 * neither the answer nor its effect (the spent nonce) is kept.
 */
async function crashImport(t: Test, round: LocalRound, file: string): Promise<void> {
  const killed = runCli(['coordinator', 'import', '--home', round.coordinator.home, file], {
    env: { SB_CRASH_POINT: 'airgap.handled' },
  });
  t.equal(killed.signal, 'SIGKILL', `the import was killed at the crash point (${killed.stderr.trim()})`);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as AirgapRequestFile;
  const nonce = doc.requests[0]?.headers[REQUEST_HEADERS.nonce];
  t.comment(`killed while handling ${doc.requests.map((q) => `${q.method} ${q.path}`).join(', ')}`);
  t.equal(
    countFor(round, 'SELECT count(*) AS n FROM airgap_requests WHERE institution_id = ? AND nonce = ?', nonce),
    0,
    'no answer was stored for the request being handled',
  );
  t.equal(
    countFor(round, 'SELECT count(*) AS n FROM nonces WHERE institution_id = ? AND nonce = ?', nonce),
    0,
    'nor its effect: the nonce is not spent, so the next import runs it afresh',
  );
}

/**
 * Import the same export file again at the coordinator (nothing runs twice, the same answers),
 * and the response files again at the node (nothing changes).
 */
async function importTwice(t: Test, s: Scene, carry: string, responseFile: string, requests: number): Promise<void> {
  const again = await coordinatorImport(s.round, carry, join(s.scratch, 'again.response.json'));
  t.equal(again.ran, 0, 'a second import of the same export file runs nothing');
  t.equal(again.repeated, requests, 'every request answered from the kept answers');
  const first = JSON.parse(readFileSync(responseFile, 'utf8'));
  t.same(
    JSON.parse(readFileSync(again.responseFile, 'utf8')).responses,
    first.responses,
    'the same answers, byte for byte',
  );
  const twice = await importResponses({ home: s.offline.home, file: responseFile, now: s.round.now });
  t.equal(twice.already, true, 'a response file imported twice changes nothing');
  const other = await importResponses({ home: s.offline.home, file: again.responseFile, now: s.round.now });
  t.same([other.already, other.answered], [false, 0], 'a second response file with the same answers adds nothing');
}

/**
 * Run the round to the end: the online nodes over HTTP, the offline node's messages carried as
 * files (one import killed mid-way, one file imported twice), the offline node approved once the
 * manifest reached it.
 */
async function carryRoundToTheEnd(t: Test, s: Scene): Promise<Carried> {
  const { round, online, offline } = s;
  const c: Carried = { files: [], progress: new Map(), crashed: false, checkedTwice: false, extraImports: 0 };
  let approved = false;
  for (let pass = 0; pass < 12; pass++) {
    for (const n of online) {
      if (c.progress.get(n.id)?.state === 'done') continue;
      c.progress.set(n.id, await runRound({ home: n.home, roundId: round.roundId, now: round.now }));
    }
    if (c.progress.get(offline.id)?.state === 'done' && online.every((n) => c.progress.get(n.id)?.state === 'done'))
      break;
    const p = await runRound({ home: offline.home, roundId: round.roundId, now: round.now });
    c.progress.set(offline.id, p);
    if (!p.carry) continue;
    t.match(p.message, /Carry .*\.request\.json to the coordinator/, 'the node says which file to carry');
    c.files.push(p.carry.file);
    if (!c.crashed && p.carry.requests.some((q) => q.method === 'POST')) {
      c.crashed = true;
      await crashImport(t, round, p.carry.file);
    }
    const imported = await coordinatorImport(round, p.carry.file);
    t.equal(imported.institutionId, 'inst-3');
    t.notOk(
      imported.outcomes.some((l) => / → 409$/.test(l)),
      `no carried request refused as replayed (${imported.outcomes.join('; ')})`,
    );
    const r = await importResponses({ home: offline.home, file: imported.responseFile, now: round.now });
    t.equal(r.already, false);
    t.equal(r.answered, p.carry.requests.length, `every carried request answered (${basename(p.carry.file)})`);

    if (!c.checkedTwice && p.carry.requests.some((q) => q.path.endsWith('/secagg/share'))) {
      c.checkedTwice = true;
      await importTwice(t, s, p.carry.file, imported.responseFile, p.carry.requests.length);
      c.extraImports++;
    }
    // The privacy officer approves once the manifest is on the offline node (the preview reads it there).
    if (!approved) {
      await approveAsPrivacyOfficer(offline, round);
      approved = true;
    }
  }
  return c;
}

/** Every node did its part, with the crash and the double import exercised, about one carry per phase. */
function assertEveryPartRan(t: Test, s: Scene, c: Carried): void {
  for (const n of s.round.nodes) t.equal(c.progress.get(n.id)?.state, 'done', `${n.id} did its part`);
  t.ok(c.checkedTwice, 'the double import was exercised');
  t.ok(c.crashed, 'an import was killed between handling a carried request and storing its answer');
  t.ok(
    c.files.length >= 5 && c.files.length <= 7,
    `about one carry per phase: ${c.files.length} export files (manifest, then five phases)`,
  );
}

/**
 * The offline node's audit log: every request left in a file (none over HTTP), each response
 * file is recorded, and the log verifies (chain, signatures, receipts, deep re-derivation).
 */
async function assertOfflineAuditLog(t: Test, s: Scene, c: Carried): Promise<void> {
  const db = openNodeDb(s.offline.home);
  const entries = readAudit(db);
  db.close();
  const requests = entries.filter((e) => e.kind === 'request');
  t.ok(requests.length > 0);
  t.ok(
    requests.every((e) => e.payload.transport === 'file' && /\.request\.json$/.test(String(e.payload.file))),
    'every request of the offline node went in an export file (none over the network)',
  );
  t.ok(
    requests.every((e) => /^[0-9a-f]{64}$/.test(String(e.payload.body_sha256))),
    'each with the SHA-256 of its body',
  );
  const imports = entries.filter((e) => e.kind === 'airgap_import');
  t.equal(imports.length, c.files.length + c.extraImports, 'each response file recorded once');
  t.ok(
    imports.every((e) => /^[0-9a-f]{64}$/.test(String(e.payload.file_sha256))),
    'with the file digest and per answer the status and body digest',
  );
  t.same(
    entries.filter((e) => e.kind === 'secagg_message').map((e) => e.payload.phase),
    ['advertise', 'share', 'consistency', 'unmask'],
    'each phase message logged as online',
  );
  const v = await verifyAuditLog({ home: s.offline.home, deep: true });
  t.ok(v.ok, `audit verify --deep passes (${v.findings.map((f) => f.message).join('; ')})`);
  t.equal(v.deep?.envelopes, 1, 'the masked envelope carried by hand was re-derived');
}

/** A tampered response file and a cut-off one: refused at the node, naming the file; nothing kept. */
async function assertBadResponseFilesRefused(t: Test, s: Scene, lastCarried: string): Promise<void> {
  const respFile = lastCarried.replace(/\.request\.json$/, '.response.json');
  const doc = JSON.parse(readFileSync(respFile, 'utf8'));
  doc.responses[0].status = 500;
  const tampered = join(s.scratch, 'tampered.response.json');
  writeFileSync(tampered, JSON.stringify(doc));
  await t.rejects(importResponses({ home: s.offline.home, file: tampered }), {
    code: 'SB_ERR_AIRGAP_SIGNATURE',
    message: /tampered\.response\.json: .*pinned at enrolment.*Nothing was imported\. Ask the coordinator's operator/,
  });
  const cut = join(s.scratch, 'cut.response.json');
  writeFileSync(cut, readFileSync(respFile).subarray(0, 100));
  await t.rejects(importResponses({ home: s.offline.home, file: cut }), {
    code: 'SB_ERR_AIRGAP_FILE',
    message: /cut\.response\.json: not JSON/,
  });
}

/**
 * An export file signed with another institution's key, and one whose request path was changed
 * after signing: refused at the coordinator, nothing run.
 */
async function assertBadExportFilesRefused(t: Test, s: Scene, lastCarried: string): Promise<void> {
  const req = JSON.parse(readFileSync(lastCarried, 'utf8')) as AirgapRequestFile;
  const otherHome = itemAt(s.online, 0).home;
  const other = await readIdentityFile(identityPath(otherHome, readNodeConfig(otherHome)));
  const { node_signature: _sig, ...unsigned } = req;
  const forged = join(s.scratch, 'forged.request.json');
  writeFileSync(forged, JSON.stringify(signRequestFile(unsigned, other.secretKey)));
  await t.rejects(coordinatorImport(s.round, forged), {
    code: 'SB_ERR_AIRGAP_SIGNATURE',
    message: /forged\.request\.json: .*not signed by the key registered for institution inst-3.*node export/,
  });
  const altered = join(s.scratch, 'altered.request.json');
  const changed = structuredClone(req);
  if (changed.requests[0]) changed.requests[0].path = '/v1/rounds/other/secagg/unmask';
  writeFileSync(altered, JSON.stringify(changed));
  await t.rejects(coordinatorImport(s.round, altered), {
    code: 'SB_ERR_AIRGAP_SIGNATURE',
    message: /altered\.request\.json/,
  });
}

t.test('a masked round with one air-gapped node: the release equals the all-online reference', async (t) => {
  const s = await startWithOfflineNode(t);
  const carried = await carryRoundToTheEnd(t, s);
  assertEveryPartRan(t, s, carried);

  const { release } = await closeAndRelease(s.round);
  t.equal(release.institutions, 3, 'the offline institution is in the sum');
  t.ok(checkRelease(t, release, ['inst-1', 'inst-2', 'inst-3']) > 100, 'many figures published and compared');

  await assertOfflineAuditLog(t, s, carried);
  const last = carried.files.at(-1);
  if (!last) throw new Error('no file was carried');
  await assertBadResponseFilesRefused(t, s, last);
  await assertBadExportFilesRefused(t, s, last);
});
