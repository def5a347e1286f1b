// Issue 6 "Done when": each wrong approval is refused (other vector, other round, unknown key,
// only one of two under four-eyes, data changed since the preview), and every refusal is logged.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { importDataset } from '../../node/import/import-dataset.js';
import {
  approveRound,
  evaluateApprovals,
  signApproval,
  storeApproval,
  storedApprovals,
} from '../../node/audit/approval.js';
import { readAudit } from '../../node/audit/log.js';
import { previewRound } from '../../node/audit/preview.js';
import { readNodeConfig } from '../../node/client/config.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { generateIdentity, readIdentityFile } from '../../shared/crypto/identity.js';
import { runCli } from '../helpers/cli.js';
import { sampleDir } from '../helpers/paths.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { ROUND, setupNode } from './fixture.js';

const refusals = (home: string) => {
  const db = openNodeDb(home);
  try {
    return readAudit(db).filter((e) => e.kind === 'refusal');
  } finally {
    db.close();
  }
};

/** A node with the edge sample, its preview, and a `put` that stores an approval without the CLI's checks. */
async function approvalSetup(t: Test) {
  const n = await setupNode(t);
  const { preview } = await previewRound({ home: n.home, roundId: ROUND, format: 'json' });
  const config = readNodeConfig(n.home);
  const officer = await readIdentityFile(itemAt(n.approverKeys, 0));
  const nodeId = await readIdentityFile(join(n.home, 'identity.key'));
  const put = (a: ReturnType<typeof signApproval>) => {
    const db = openNodeDb(n.home);
    try {
      storeApproval(db, nodeId, a, new Date());
    } finally {
      db.close();
    }
  };
  const base = {
    roundId: ROUND,
    institutionId: 'EDGE1',
    vectorDigest: preview.vector_digest,
    wireBytes: preview.wire_bytes,
    approverName: 'FG 0',
  };
  return { n, preview, config, officer, put, base };
}

type Ctx = Awaited<ReturnType<typeof approvalSetup>>;

/** Approvals for other data, another round, by an unknown key, for another institution or badly signed. */
async function refusedApprovals(t: Test, { n, preview, config, officer, put, base }: Ctx): Promise<void> {
  await t.test('approval for other data', async (t) => {
    put(signApproval({ ...base, vectorDigest: 'ab'.repeat(32) }, officer));
    await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), {
      code: 'SB_ERR_APPROVAL_MISSING',
      message: /other vector/,
    });
  });
  await t.test('approval for another round', async (t) => {
    put(signApproval({ ...base, roundId: '2024-2025-r2' }, officer));
    // stored under its own round: this round still has no approval
    await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), { code: 'SB_ERR_APPROVAL_MISSING' });
    const check = evaluateApprovals([signApproval({ ...base, roundId: '2024-2025-r2' }, officer)], config, {
      roundId: ROUND,
      vectorDigest: preview.vector_digest,
    });
    t.same(
      check.rejected.map((r) => r.reason),
      ['other_round'],
    );
  });
  await t.test('approval by an unknown key', async (t) => {
    const stranger = generateIdentity();
    put(signApproval(base, stranger));
    await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), {
      code: 'SB_ERR_APPROVAL_MISSING',
      message: /unknown approver/,
    });
    const strangerFile = join(n.dir, 'stranger.key');
    const { writeIdentityFiles } = await import('../../shared/crypto/identity.js');
    await writeIdentityFiles(stranger, strangerFile);
    await t.rejects(approveRound({ home: n.home, roundId: ROUND, approverKeyFile: strangerFile }), {
      code: 'SB_ERR_APPROVER_UNKNOWN',
    });
  });
  await t.test('another institution, a bad signature', async (t) => {
    const other = signApproval({ ...base, institutionId: 'OTHER' }, officer);
    const forged = { ...signApproval(base, officer), wire_bytes: 1 };
    const check = evaluateApprovals([other, forged], config, { roundId: ROUND, vectorDigest: preview.vector_digest });
    t.same(
      check.rejected.map((r) => r.reason),
      ['other_institution', 'bad_signature'],
    );
    t.notOk(check.ok);
  });
}

/** The approvals stored for this round by `approverKey` for `vectorDigest`. */
function officerApprovals(home: string, vectorDigest: string, approverKey: string): { late?: boolean }[] {
  const db = openNodeDb(home);
  try {
    return storedApprovals(db, ROUND).filter(
      (a) =>
        (a as { vector_digest?: string }).vector_digest === vectorDigest &&
        (a as { approver_public_key?: string }).approver_public_key === approverKey,
    ) as { late?: boolean }[];
  } finally {
    db.close();
  }
}

/** A late submission needs a late approval, which replaces the masked one of the same vector. */
async function lateApproval(t: Test, { n, preview, config, officer, put, base }: Ctx): Promise<void> {
  const masked = signApproval(base, officer);
  const late = signApproval({ ...base, late: true }, officer);
  const want = { roundId: ROUND, vectorDigest: preview.vector_digest };
  t.same(
    evaluateApprovals([masked], config, { ...want, late: true }).rejected.map((r) => r.reason),
    ['not_late'],
    'an approval given under the masked protection does not cover a late (unmasked) submission',
  );
  t.ok(evaluateApprovals([late], config, { ...want, late: true }).ok, 'a late approval does');
  t.ok(evaluateApprovals([late], config, want).ok, 'and covers an ordinary submission of the same vector too');
  t.notOk(
    evaluateApprovals([{ ...masked, late: true }], config, { ...want, late: true }).ok,
    'the late mark is signed: added afterwards it breaks the signature',
  );
  put(masked);
  put(late);
  const stored = officerApprovals(n.home, preview.vector_digest, masked.approver_public_key);
  t.equal(stored.length, 1, 'one approval per officer and vector');
  t.equal(stored[0]?.late, true, "the late approval took the masked one's place");
  put(masked);
  const again = officerApprovals(n.home, preview.vector_digest, masked.approver_public_key);
  t.equal(again[0]?.late, true, 'a masked approval stored afterwards does not undo it');
}

/** `--digest` that is no digest, one no preview showed, and one whose data changed since. */
async function wrongDigests(t: Test, { n, preview }: Ctx): Promise<void> {
  const approve = (expectDigest: string) =>
    approveRound({ home: n.home, roundId: ROUND, approverKeyFile: itemAt(n.approverKeys, 0), expectDigest });
  await t.rejects(approve('deadbeef'), { code: 'SB_ERR_APPROVAL_DIGEST_INVALID', message: /not a digest/ });
  await t.rejects(approve('cd'.repeat(32)), {
    code: 'SB_ERR_APPROVAL_DIGEST_WRONG',
    message: /not shown by any preview/,
  });
  // A digest a preview did show, after the data changed: re-import with one observation less.
  const dir = t.testdir({});
  const att = readFileSync(join(sampleDir, 'edge', 'attendance.csv'), 'utf8')
    .trimEnd()
    .split('\n');
  writeFileSync(join(dir, 'attendance.csv'), `${att.slice(0, -1).join('\n')}\n`);
  await importDataset({
    home: n.home,
    enrolments: join(sampleDir, 'edge', 'enrolments.csv'),
    attendance: join(dir, 'attendance.csv'),
  });
  await t.rejects(approve(preview.vector_digest), { code: 'SB_ERR_APPROVAL_STALE', message: /data changed/ });
  await importDataset({
    home: n.home,
    enrolments: join(sampleDir, 'edge', 'enrolments.csv'),
    attendance: join(sampleDir, 'edge', 'attendance.csv'),
  });
}

t.test('wrong approvals are refused', async (t) => {
  const c = await approvalSetup(t);
  const { n, preview } = c;
  await refusedApprovals(t, c);
  await t.test('a late submission needs a late approval; it replaces the masked one of the same vector', async (t) =>
    lateApproval(t, c),
  );
  await t.test('a --digest that is no digest, one no preview showed, one whose data changed', async (t) =>
    wrongDigests(t, c),
  );
  t.equal(n.coordinator.received.length, 0, 'no contribution left the node');
  t.ok(refusals(n.home).length >= 4, 'every refusal is in the log');

  await t.test('the right approval lets it go', async (t) => {
    await approveRound({
      home: n.home,
      roundId: ROUND,
      approverKeyFile: itemAt(n.approverKeys, 0),
      expectDigest: preview.vector_digest,
    });
    const r = await submitContribution({ home: n.home, roundId: ROUND });
    t.equal(r.wireBytes, preview.wire_bytes);
    t.equal(n.coordinator.received.length, 1);
  });
});

t.test('four-eyes: one of two approvals is not enough', async (t) => {
  const n = await setupNode(t, { approvers: 2, approvalsRequired: 2 });
  t.equal(readNodeConfig(n.home).approvals_required, 2);
  const { preview } = await previewRound({ home: n.home, roundId: ROUND });
  const first = await approveRound({
    home: n.home,
    roundId: ROUND,
    approverKeyFile: itemAt(n.approverKeys, 0),
    expectDigest: preview.vector_digest,
  });
  t.same([first.approvals, first.required], [1, 2]);
  // the same officer approving twice still counts once
  await approveRound({ home: n.home, roundId: ROUND, approverKeyFile: itemAt(n.approverKeys, 0) });
  await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), {
    code: 'SB_ERR_APPROVAL_MISSING',
    message: /1 of 2/,
  });
  t.equal(n.coordinator.received.length, 0);
  // CLI: the second officer approves
  const cli = runCli([
    'node',
    'approve',
    '--home',
    n.home,
    '--round',
    ROUND,
    '--key',
    itemAt(n.approverKeys, 1),
    '--digest',
    preview.vector_digest,
  ]);
  t.equal(cli.code, 0, cli.stderr);
  t.match(cli.stdout, /2 van 2/);
  const db = openNodeDb(n.home);
  t.equal(storedApprovals(db, ROUND).length, 2);
  db.close();
  await submitContribution({ home: n.home, roundId: ROUND });
  t.equal(n.coordinator.received.length, 1);
});

t.test('no approvers configured: submit says how to add one', async (t) => {
  const n = await setupNode(t, { approvers: 0 });
  await previewRound({ home: n.home, roundId: ROUND });
  await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), {
    code: 'SB_ERR_NO_APPROVERS',
    message: /approver add/,
  });
  const list = runCli(['node', 'approver', 'list', '--home', n.home]);
  t.match(list.stdout, /geen goedkeurders/);
});
