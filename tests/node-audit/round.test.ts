// Issue 6 "Done when", against the real coordinator (round harness): a privacy officer can,
// from the preview, the approval and the log alone, account for every byte each node sent in
// the round; the sums of logged envelope sizes equal what the coordinator stored, and its
// receipts echo audit heads that are in each node's chain. Then benchmark logs the release.
import t from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, writeAllBenchmarks } from '../../demo/local-round.js';
import { readAudit } from '../../node/audit/log.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { startRound } from '../helpers/round-harness.js';

t.test('every byte accounted for against the real coordinator', async (t) => {
  const round = await startRound(t.testdir());
  t.teardown(() => round.stop());
  const approved = new Map<string, { digest: string; bytes: number }>();
  for (const node of round.nodes) {
    await approveAsPrivacyOfficer(node, round);
    const db = openNodeDb(node.home);
    const a = readAudit(db)
      .filter((e) => e.kind === 'approval')
      .at(-1)!;
    db.close();
    const approval = a.payload.approval as { vector_digest: string; wire_bytes: number };
    approved.set(node.id, { digest: approval.vector_digest, bytes: approval.wire_bytes });
    await submitContribution({ home: node.home, roundId: round.roundId, now: round.now });
  }
  const stored = round.coordinator.db
    .prepare('SELECT institution_id, wire_bytes, wire_sha256, audit_head FROM submissions WHERE round_id = ?')
    .all(round.roundId) as {
    institution_id: string;
    wire_bytes: number;
    wire_sha256: string;
    audit_head: string | null;
  }[];
  t.equal(stored.length, round.nodes.length);

  let loggedTotal = 0;
  for (const node of round.nodes) {
    const v = await verifyAuditLog({ home: node.home, deep: true });
    t.ok(v.ok, `${node.id}: ${JSON.stringify(v.findings)}`);
    const acc = v.accounting.find((a) => a.round_id === round.roundId)!;
    const mine = stored.filter((s) => s.institution_id === node.id);
    t.equal(
      acc.contribution_bytes,
      mine.reduce((s, x) => s + x.wire_bytes, 0),
      `${node.id}: logged POST bytes = bytes the coordinator stored`,
    );
    t.equal(acc.envelope_wire_bytes, acc.contribution_bytes, `${node.id}: logged envelope sizes = POST bytes`);
    t.equal(acc.receipted_bytes, acc.contribution_bytes, `${node.id}: receipted bytes = POST bytes`);
    t.equal(
      approved.get(node.id)?.bytes,
      acc.contribution_bytes,
      `${node.id}: the approved preview announced exactly these bytes`,
    );
    const db = openNodeDb(node.home);
    const entries = readAudit(db);
    db.close();
    const hashes = new Set(entries.map((e) => e.hash));
    for (const s of mine) {
      t.ok(s.audit_head && hashes.has(s.audit_head), `${node.id}: the coordinator's stored audit head is in the chain`);
      t.ok(
        entries.some((e) => e.kind === 'envelope' && e.payload.wire_sha256 === s.wire_sha256),
        `${node.id}: the stored bytes are a logged envelope`,
      );
    }
    const env = entries.find((e) => e.kind === 'envelope')!;
    t.equal(
      env.payload.vector_digest,
      approved.get(node.id)?.digest,
      `${node.id}: the approved digest is the digest of what was encrypted`,
    );
    loggedTotal += acc.contribution_bytes;
  }
  t.equal(
    loggedTotal,
    stored.reduce((s, x) => s + x.wire_bytes, 0),
    'sector total: logged = received',
  );

  await closeAndRelease(round);
  await writeAllBenchmarks(round);
  for (const node of round.nodes) {
    const db = openNodeDb(node.home);
    t.ok(
      readAudit(db).some((e) => e.kind === 'release_fetched'),
      `${node.id}: release fetch logged`,
    );
    db.close();
    t.ok((await verifyAuditLog({ home: node.home })).ok);
  }
});
