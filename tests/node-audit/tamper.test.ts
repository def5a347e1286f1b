// Issue 6 "Done when": each tamper case of the audit log is detected (edit, deletion,
// reordering, truncation via the receipt's audit head, forged signature), and deep verify fails
// when a logged vector is altered. Each case works on its own copy of a node home after a real
// round (preview, approve, submit over loopback HTTP).
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { approveRound } from '../../node/audit/approval.js';
import { entryHash, readAudit, signEntryHash } from '../../node/audit/log.js';
import { previewRound } from '../../node/audit/preview.js';
import { verifyAuditLog, type FindingKind } from '../../node/audit/verify.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb, type NodeDb } from '../../node/store/node-db.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import { runCli } from '../helpers/cli.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { ROUND, setupNode } from './fixture.js';

const kinds = (v: { findings: { kind: FindingKind }[] }) => v.findings.map((f) => f.kind);

/**
 * A node home after a real round (preview, approve, submit over loopback HTTP) whose log verifies,
 * the receipt kept in a file, and `tampered`: copy the home, tamper with its database, verify.
 */
async function submittedNode(t: Test) {
  const n = await setupNode(t);
  const p = await previewRound({ home: n.home, roundId: ROUND });
  await approveRound({
    home: n.home,
    roundId: ROUND,
    approverKeyFile: itemAt(n.approverKeys, 0),
    expectDigest: p.preview.vector_digest,
  });
  const r = await submitContribution({ home: n.home, roundId: ROUND });
  const clean = await verifyAuditLog({ home: n.home, deep: true });
  t.ok(clean.ok, 'untouched log verifies (deep)');
  const receiptFile = join(n.dir, 'receipt.json');
  writeFileSync(receiptFile, JSON.stringify(r.receipt));

  let k = 0;
  /** Copy the home, tamper with its database (triggers dropped, as an attacker would), verify. */
  const tampered = async (
    tamper: (db: NodeDb) => void,
    o: { deep?: boolean; withoutOutbox?: boolean; receiptFiles?: string[] } = {},
  ) => {
    const home = join(n.dir, `copy-${k++}`);
    cpSync(n.home, home, { recursive: true });
    const db = openNodeDb(home);
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    tamper(db);
    if (o.withoutOutbox) db.exec('DELETE FROM submission');
    db.close();
    return verifyAuditLog({ home, deep: o.deep, receiptFiles: o.receiptFiles });
  };
  const entries = (() => {
    const db = openNodeDb(n.home);
    try {
      return readAudit(db);
    } finally {
      db.close();
    }
  })();
  const envelope = entries.find((e) => e.kind === 'envelope')!;
  const mid = entries[Math.floor(entries.length / 2)]!;
  return { n, r, receiptFile, tampered, entries, envelope, mid };
}

type Ctx = Awaited<ReturnType<typeof submittedNode>>;

/** Edited entries: a changed payload, a rehash without the key, a signature by another key. */
function editCases(t: Test, { tampered, entries, envelope }: Ctx): void {
  t.test('edit a payload', async (t) => {
    const v = await tampered((db) => {
      const row = db.prepare('SELECT payload_json FROM audit_log WHERE seq = ?').get(envelope.seq) as {
        payload_json: string;
      };
      const payload = JSON.parse(row.payload_json) as { wire_bytes: number };
      payload.wire_bytes -= 1;
      db.prepare('UPDATE audit_log SET payload_json = ? WHERE seq = ?').run(JSON.stringify(payload), envelope.seq);
    });
    t.notOk(v.ok);
    t.ok(kinds(v).includes('edited'), kinds(v).join());
  });

  t.test('edit a payload and rehash without the key: bad signature', async (t) => {
    const v = await tampered((db) => {
      const e = entries.find((x) => x.kind === 'preview')!;
      const payload = { ...e.payload, wire_bytes: 1 };
      const hash = entryHash({ ...e, payload });
      db.prepare('UPDATE audit_log SET payload_json = ?, hash = ? WHERE seq = ?').run(
        JSON.stringify(payload),
        hash,
        e.seq,
      );
    });
    t.notOk(v.ok);
    t.ok(kinds(v).includes('bad_signature') || kinds(v).includes('deleted'), kinds(v).join());
  });

  t.test('forged signature (another key re-signs an edited entry)', async (t) => {
    const forger = generateIdentity();
    const v = await tampered((db) => {
      const last = entries.at(-1)!;
      const payload = { ...last.payload, note: 'forged' };
      const hash = entryHash({ ...last, payload });
      db.prepare('UPDATE audit_log SET payload_json = ?, hash = ?, signature = ? WHERE seq = ?').run(
        JSON.stringify(payload),
        hash,
        signEntryHash(hash, forger.secretKey),
        last.seq,
      );
    });
    t.notOk(v.ok);
    t.ok(kinds(v).includes('bad_signature'), kinds(v).join());
  });
}

/** Order of the chain: a deleted middle entry, two swapped entries. */
function orderCases(t: Test, { tampered, entries, mid }: Ctx): void {
  t.test('delete a middle entry', async (t) => {
    const v = await tampered((db) => db.prepare('DELETE FROM audit_log WHERE seq = ?').run(mid.seq));
    t.notOk(v.ok);
    t.ok(kinds(v).includes('deleted'), kinds(v).join());
  });

  t.test('swap two entries', async (t) => {
    const a = entries[2]!;
    const b = entries[3]!;
    const v = await tampered((db) => {
      const put = db.prepare(
        'UPDATE audit_log SET at = ?, kind = ?, round_id = ?, payload_json = ?, prev_hash = ?, hash = ?, signature = ? WHERE seq = ?',
      );
      const row = (e: typeof a) => [
        e.at,
        e.kind,
        e.round_id,
        JSON.stringify(e.payload),
        e.prev_hash,
        `${e.hash.slice(0, 63)}x`,
        e.signature,
      ];
      // two-step to respect UNIQUE(hash)
      put.run(...row(a), b.seq);
      put.run(...row(b), a.seq);
      db.prepare('UPDATE audit_log SET hash = ? WHERE seq = ?').run(a.hash, b.seq);
      db.prepare('UPDATE audit_log SET hash = ? WHERE seq = ?').run(b.hash, a.seq);
    });
    t.notOk(v.ok);
    t.ok(kinds(v).includes('reordered'), kinds(v).join());
  });
}

/** Truncation found through receipts (kept elsewhere or in the outbox), and a forged receipt. */
function truncationCases(t: Test, { n, r, receiptFile, tampered, entries, envelope }: Ctx): void {
  t.test('truncate the newest entries: detected via the receipt audit_head', async (t) => {
    // cut off everything from the envelope entry on, and remove the outbox too: only the
    // receipt kept elsewhere remains, and its audit_head is not in the chain.
    const v = await tampered((db) => db.prepare('DELETE FROM audit_log WHERE seq >= ?').run(envelope.seq), {
      withoutOutbox: true,
      receiptFiles: [receiptFile],
    });
    t.notOk(v.ok);
    t.ok(kinds(v).includes('truncated'), kinds(v).join());
    t.match(v.findings.find((f) => f.kind === 'truncated')?.message ?? '', /logkop/);
  });

  t.test('truncate only the receipt entry: the outbox receipt is not in the log', async (t) => {
    const v = await tampered((db) =>
      db.prepare('DELETE FROM audit_log WHERE seq >= ?').run(entries.find((e) => e.kind === 'receipt')!.seq),
    );
    t.notOk(v.ok);
    t.ok(kinds(v).includes('truncated'), kinds(v).join());
  });

  t.test('a forged receipt does not count', async (t) => {
    const forged = join(n.dir, 'forged-receipt.json');
    writeFileSync(forged, JSON.stringify({ ...r.receipt, wire_bytes: 1 }));
    const v = await tampered(() => undefined, { receiptFiles: [forged] });
    t.ok(kinds(v).includes('receipt_invalid'), kinds(v).join());
  });
}

/** Deep verify recomputes the logged vector: a rewritten chain re-signed with the node key fails. */
function deepCase(t: Test, { n, receiptFile, tampered, envelope }: Ctx): void {
  t.test('deep verify fails when a logged vector is altered (re-signed with the node key)', async (t) => {
    const { readIdentityFile } = await import('../../shared/crypto/identity.js');
    const nodeId = await readIdentityFile(join(n.home, 'identity.key'));
    // the attacker holds the node's key and rewrites the whole chain from the envelope on
    const v = await tampered(
      (db) => {
        const rows = readAudit(db).filter((e) => e.seq >= envelope.seq);
        let prev = readAudit(db).find((e) => e.seq === envelope.seq - 1)!.hash;
        for (const e of rows) {
          const payload = JSON.parse(JSON.stringify(e.payload)) as Record<string, unknown>;
          if (e.kind === 'envelope') {
            const cells = (payload.vector as { cells: Record<string, Record<string, number>> }).cells;
            const first = Object.values(cells)[0]!;
            first.a_enrolments = (first.a_enrolments ?? 0) + 1;
          }
          const hash = entryHash({ ...e, payload, prev_hash: prev });
          db.prepare('UPDATE audit_log SET payload_json = ?, prev_hash = ?, hash = ?, signature = ? WHERE seq = ?').run(
            JSON.stringify(payload),
            prev,
            hash,
            signEntryHash(hash, nodeId.secretKey),
            e.seq,
          );
          prev = hash;
        }
      },
      { deep: true, receiptFiles: [receiptFile] },
    );
    t.notOk(v.ok);
    t.ok(kinds(v).includes('deep_mismatch'), kinds(v).join());
    t.ok(kinds(v).includes('truncated'), 'the rewritten chain no longer holds the receipted head');
  });
}

/** The CLI's verify and show, and the append-only triggers. */
function cliAndTriggerCases(t: Test, { n, mid }: Ctx): void {
  t.test('CLI: audit verify exits 1 on a tampered log, 0 on a clean one; show renders', async (t) => {
    const ok = runCli(['node', 'audit', 'verify', '--home', n.home]);
    t.equal(ok.code, 0, ok.stderr);
    t.match(ok.stdout, /Auditlog in orde/);
    const home = join(n.dir, 'cli-copy');
    cpSync(n.home, home, { recursive: true });
    const db = openNodeDb(home);
    db.exec('DROP TRIGGER audit_log_no_delete');
    db.prepare('DELETE FROM audit_log WHERE seq = ?').run(mid.seq);
    db.close();
    const bad = runCli(['node', 'audit', 'verify', '--home', home]);
    t.equal(bad.code, 1);
    t.match(bad.stdout, /NIET in orde/);
    const show = runCli(['node', 'audit', 'show', '--home', n.home]);
    t.equal(show.code, 0, show.stderr);
    t.match(show.stdout, /Auditlog van node EDGE1/);
  });

  t.test('the log refuses plain updates and deletes (triggers)', async (t) => {
    const db = openNodeDb(n.home);
    t.teardown(() => db.close());
    t.throws(() => db.prepare('DELETE FROM audit_log WHERE seq = 1').run(), /append-only/);
    t.throws(() => db.prepare("UPDATE audit_log SET kind = 'x' WHERE seq = 1").run(), /append-only/);
  });
}

t.test('tamper cases', async (t) => {
  const ctx = await submittedNode(t);
  editCases(t, ctx);
  orderCases(t, ctx);
  truncationCases(t, ctx);
  deepCase(t, ctx);
  cliAndTriggerCases(t, ctx);
});
