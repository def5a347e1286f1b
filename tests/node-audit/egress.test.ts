// Issue 6 part 5: the node talks to nothing but the configured coordinator. A manifest whose
// key URL points elsewhere, a redirect, and a --coordinator other than the configured one are
// refused, nothing is sent, and each refusal is in the audit log.
import { createServer } from 'node:http';
import t from 'tap';
import { approveRound } from '../../node/audit/approval.js';
import { readAudit } from '../../node/audit/log.js';
import { previewRound } from '../../node/audit/preview.js';
import { submitContribution } from '../../node/round/submit.js';
import { openNodeDb } from '../../node/store/node-db.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { ROUND, setupNode } from './fixture.js';

const lastRefusal = (home: string) => {
  const db = openNodeDb(home);
  try {
    return readAudit(db)
      .filter((e) => e.kind === 'refusal')
      .at(-1);
  } finally {
    db.close();
  }
};

t.test('egress is refused and logged', async (t) => {
  // a second server: the "elsewhere" that must never be contacted
  let contacted = 0;
  const elsewhere = createServer((_req, res) => {
    contacted++;
    res.end('{}');
  });
  await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => elsewhere.close(() => r())));
  const other = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}`;

  const n = await setupNode(t);
  const { preview } = await previewRound({ home: n.home, roundId: ROUND });
  await approveRound({
    home: n.home,
    roundId: ROUND,
    approverKeyFile: itemAt(n.approverKeys, 0),
    expectDigest: preview.vector_digest,
  });

  await t.test('--coordinator other than configured', async (t) => {
    await t.rejects(submitContribution({ home: n.home, roundId: ROUND, coordinatorUrl: other }), {
      code: 'SB_ERR_EGRESS',
    });
    t.equal(lastRefusal(n.home)?.payload.code, 'SB_ERR_EGRESS');
  });

  await t.test('a manifest whose key URL points elsewhere (signed by the coordinator)', async (t) => {
    const original = n.coordinator.manifest;
    n.coordinator.setManifest((m) => ({ ...m, he_public_key: { ...m.he_public_key, url: `${other}/key` } }));
    t.teardown(() => {
      n.coordinator.manifest = original;
    });
    await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), {
      code: 'SB_ERR_EGRESS',
      message: new RegExp(other.replace(/[.]/g, '\\.')),
    });
    t.equal(lastRefusal(n.home)?.payload.stage, 'manifest');
    n.coordinator.manifest = original;
  });

  await t.test('a redirect from the coordinator', async (t) => {
    const path = `/v1/rounds/${ROUND}/he-public-key`;
    n.coordinator.override.set(path, (res) => res.writeHead(302, { location: `${other}/key` }).end());
    t.teardown(() => n.coordinator.override.delete(path));
    await t.rejects(submitContribution({ home: n.home, roundId: ROUND }), {
      code: 'SB_ERR_EGRESS',
      message: /redirect/,
    });
    t.equal(lastRefusal(n.home)?.payload.code, 'SB_ERR_EGRESS');
    n.coordinator.override.delete(path);
  });

  t.equal(contacted, 0, 'the other server was never contacted');
  t.equal(n.coordinator.received.length, 0, 'no contribution was sent');
  // after all that, the node still works with its own coordinator, and the log verifies
  await submitContribution({ home: n.home, roundId: ROUND });
  t.equal(n.coordinator.received.length, 1);
  const { verifyAuditLog } = await import('../../node/audit/verify.js');
  const v = await verifyAuditLog({ home: n.home, deep: true });
  t.ok(v.ok, JSON.stringify(v.findings));
});
