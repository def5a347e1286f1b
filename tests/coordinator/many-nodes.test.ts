/**
 * Issue 13: 500 honest nodes behind one address submit at once over real HTTP on loopback
 * (port 0) and are all acknowledged: signed requests count per institution, never against the
 * address (in its own file for tap's per-file timeout: about 15 s on an idle 2-core machine,
 * minutes when it is shared).
 */
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { Agent } from 'undici';
import { buildApp } from '../../coordinator/app.js';
import type { CoordinatorAppConfig } from '../../coordinator/context.js';
import { openRound } from '../../coordinator/rounds/open-round.js';
import { openCoordinatorDb } from '../../coordinator/store/db.js';
import { addInstitution } from '../../coordinator/store/institutions.js';
import { pinKeyHolder } from '../../coordinator/store/pins.js';
import { currentSubmissions } from '../../coordinator/store/submissions.js';
import { CoordinatorClient } from '../../node/client/coordinator-client.js';
import { bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { generateIdentity, type Identity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { codebookDigest } from '../../shared/metrics/codebook.js';
import { buildEnvelope, signEnvelope } from '../../shared/protocol/envelope.js';
import { isSignedReceipt } from '../../shared/protocol/receipt.js';
import { encodeContribution } from '../../shared/protocol/wire.js';
import { contribution, contributionsPath, edgeVector, endorse, setup, ROUND, T0, type Fixture } from './fixture.js';

t.teardown(() => sealWorker().close());

async function listen(
  f: Fixture,
  rateLimit: CoordinatorAppConfig['rateLimit'],
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = await buildApp({
    db: f.db,
    identity: f.coordinator,
    now: f.now,
    config: { publicUrl: 'http://127.0.0.1:8443', rateLimit },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

type Base = Awaited<ReturnType<typeof setup>>;
type Listening = Awaited<ReturnType<typeof listen>>;

/** K institutions registered with fresh identities and endorsed by the key holder; the round opened for them. */
async function openRoundFor(db: Fixture['db'], base: Base, K: number) {
  const ids = Array.from({ length: K }, (_, i) => `N${String(i + 1).padStart(3, '0')}`);
  const identities = new Map<string, Identity>();
  for (const id of ids) {
    const idn = generateIdentity();
    identities.set(id, idn);
    addInstitution(db, { id, publicKey: idn.publicKey, now: T0 });
  }
  pinKeyHolder(db, { publicKey: base.keyHolder.publicKey, now: T0 });
  await openRound({
    db,
    identity: base.coordinator,
    roundId: ROUND,
    studiejaar: 2024,
    codebook: base.codebook,
    endorsement: endorse(base.keyHolder, base.bfv.publicKey, ROUND, {
      max_participants: K,
      // The key holder's own enrolment of the 500 institutions (issue 11), fictitious BRIN codes.
      participants: ids.map((id, i) => ({
        institution_id: id,
        name: id,
        brin: `9${String(i).padStart(3, '0')}`,
        ed25519_public_key: Buffer.from((identities.get(id) as Identity).publicKey).toString('base64'),
      })),
    }),
    hePublicKey: base.bfv.publicKey,
    participants: ids,
    deadline: '2025-11-01T00:00:00.000Z',
    publicUrl: 'http://127.0.0.1:8443',
    now: T0,
  });
  return { ids, identities };
}

/** Every node signs its own envelope over the same ciphertexts and submits at once through one agent. */
function submitAll(
  f: Fixture,
  s: Listening,
  agent: Agent,
  ids: string[],
  identities: Map<string, Identity>,
  ciphertexts: Uint8Array[],
) {
  return Promise.allSettled(
    ids.map(async (id) => {
      const idn = identities.get(id) as Identity;
      const client = new CoordinatorClient({
        baseUrl: s.url,
        institutionId: id,
        secretKey: idn.secretKey,
        dispatcher: agent,
        now: f.now,
      });
      const envelope = signEnvelope(
        buildEnvelope({
          roundId: ROUND,
          institutionId: id,
          codebookDigest: codebookDigest(f.codebook),
          hePublicKeyDigest: bfvPublicKeyDigest(f.bfv.publicKey),
          ciphertexts,
          createdAt: f.now(),
        }),
        idn.secretKey,
      );
      const r = await client.send('POST', contributionsPath(), encodeContribution({ envelope, ciphertexts }));
      return { status: r.status, receipt: JSON.parse(r.body.toString('utf8')) as Record<string, unknown> };
    }),
  );
}

/** No node failed; K × 201 with signed receipts and sequences 0..K-1; all stored, one per institution. */
function checkAllAcknowledged(
  t: Test,
  db: Fixture['db'],
  base: Base,
  K: number,
  results: Awaited<ReturnType<typeof submitAll>>,
): void {
  const failed = results.filter((r) => r.status === 'rejected');
  t.equal(
    failed.length,
    0,
    `no node failed${failed.length ? `: ${String((failed[0] as PromiseRejectedResult).reason)}` : ''}`,
  );
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  t.equal(ok.filter((r) => r.status === 201).length, K, `${K} × 201`);
  t.equal(
    ok.filter((r) => isSignedReceipt(r.receipt as never, base.coordinator.publicKey)).length,
    K,
    'every receipt signed by the coordinator',
  );
  t.same(
    ok.map((r) => r.receipt.sequence as number).sort((a, b) => a - b),
    Array.from({ length: K }, (_, i) => i),
    'sequences 0..499, each once',
  );
  const cur = currentSubmissions(db, ROUND);
  t.equal(cur.length, K, 'all stored');
  t.equal(new Set(cur.map((c) => c.institutionId)).size, K);
}

t.test('500 concurrent honest submissions from one address are all acknowledged', async (t) => {
  const K = 500;
  const dir = t.testdir({});
  const db = openCoordinatorDb(`${dir}/coordinator.sqlite`);
  t.teardown(() => db.close());
  const base = await setup(t);
  const { ids, identities } = await openRoundFor(db, base, K);
  const f: Fixture = { ...base, db };
  // An address may send 100 unsigned requests a minute here; the 500 signed ones from the same
  // address must not count against it (per institution instead), whatever that budget is.
  const limits = { ipPerMinute: 100, institutionPerMinute: 60, failedAuthPerMinute: 30 };
  // Real ciphertexts of the edge vector, encrypted once; each node signs its own envelope over them.
  const { ciphertexts } = await contribution(base, 'INST1', edgeVector(base.codebook));
  const s = await listen(f, limits);
  t.teardown(s.close);
  const agent = new Agent({ connections: K });
  t.teardown(() => agent.close());

  checkAllAcknowledged(t, db, base, K, await submitAll(f, s, agent, ids, identities, ciphertexts));
});
