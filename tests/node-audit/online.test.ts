// Issue 6: entries written after the last receipt (the release fetch) can be cut off without the
// offline verify noticing; `audit verify --online` asks the coordinator (signed attestation of
// the newest head it saw) and reports the truncation. Against the real coordinator.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, writeAllBenchmarks } from '../../demo/local-round.js';
import { readAudit } from '../../node/audit/log.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { repoRoot } from '../helpers/paths.js';
import { startRound } from '../helpers/round-harness.js';

const run = promisify(execFile);
/** The CLI in a child process, without blocking this process (the coordinator runs here). */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli/run.ts'), ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 300_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

t.test('cutting off the release fetch is detected online, not offline', async (t) => {
  const round = await startRound(t.testdir());
  t.teardown(() => round.stop());
  for (const node of round.nodes) {
    await approveAsPrivacyOfficer(node, round);
    await submitContribution({ home: node.home, roundId: round.roundId, now: round.now });
  }
  await closeAndRelease(round);
  await writeAllBenchmarks(round);
  const node = round.nodes[0]!;
  const entries = () => {
    const db = openNodeDb(node.home);
    try {
      return readAudit(db);
    } finally {
      db.close();
    }
  };
  const fetched = entries().find((e) => e.kind === 'release_fetched')!;
  t.ok(fetched, 'release fetch logged');

  // The privacy officer checks online: all well; the request carries the head after the release fetch.
  const clean = await verifyAuditLog({ home: node.home, online: { now: round.now } });
  t.ok(clean.ok, JSON.stringify(clean.findings));
  t.ok(clean.coordinator?.head, 'the coordinator saw a head before');
  t.ok(
    entries().some((e) => e.hash === clean.coordinator?.head),
    'and it is in the chain',
  );
  const check = entries().at(-1)!;
  t.match(
    check,
    {
      kind: 'request',
      payload: { method: 'GET', path: '/v1/institutions/me/audit-head', audit_head: fetched.hash, status: 200 },
    },
    'the check itself is logged with the head it sent',
  );

  // Cut off everything from the release fetch on (as an attacker would: triggers dropped).
  const db = openNodeDb(node.home);
  db.exec('DROP TRIGGER audit_log_no_delete');
  db.prepare('DELETE FROM audit_log WHERE seq >= ?').run(fetched.seq);
  db.close();

  const offline = await verifyAuditLog({ home: node.home });
  t.ok(offline.ok, 'the offline verify cannot see it: every receipt head is still in the chain');

  const online = await verifyAuditLog({ home: node.home, online: { now: round.now } });
  t.notOk(online.ok);
  t.same(
    online.findings.map((f) => f.kind),
    ['truncated'],
  );
  t.equal(online.coordinator?.head, fetched.hash, 'the coordinator attests the head that was cut off');
  t.match(online.findings[0]?.message, fetched.hash.slice(0, 12));
  t.match(online.findings[0]?.message, /coördinator zag .* niet in het log/);

  // The online check above sent the truncated chain's head; the earlier head stays in the history.
  const r = await cli(['node', 'audit', 'verify', '--home', node.home, '--online']);
  t.not(r.code, 0, 'the CLI still fails after later requests');
  t.match(r.stdout, /Auditlog NIET in orde/);
  t.match(r.stdout, /\[truncated\] de coördinator zag/);
  t.match(r.stdout, /Laatst door de coördinator gezien: /);

  const other = await cli(['node', 'audit', 'verify', '--home', round.nodes[1]!.home, '--online']);
  t.equal(other.code, 0, other.stderr);
  t.match(other.stdout, /Auditlog in orde/);
});
