/**
 * Issue 10: the coordinator's secure-aggregation phases over real HTTP (payloads opaque here):
 * who is expected in each phase, relays only after a phase ended, idempotent and immutable
 * phase messages, masked input only from U2, and a round that fails closed below t.
 */
import t from 'tap';
import nacl from 'tweetnacl';
import { request } from 'undici';
import { buildApp } from '../../coordinator/app.js';
import { closeRound } from '../../coordinator/rounds/close-round.js';
import { advanceRound } from '../../coordinator/secagg/phases.js';
import { RoundManifestSchema } from '../../schemas/manifest.js';
import { PhaseAckSchema, type SecAggPhase, SecAggStatusSchema } from '../../schemas/secagg.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { PURPOSE } from '../../shared/protocol/round-documents.js';
import { ROUTES } from '../../shared/protocol/routes.js';
import { verifyObject } from '../../shared/protocol/signed-object.js';
import { contribution, contributionsPath, edgeVector, ROUND, setup, signedHeaders } from './fixture.js';

t.teardown(() => sealWorker().close());

const revealKey = Buffer.from(nacl.box.keyPair().publicKey).toString('base64');
const f = await setup(t, {
  endorsement: {
    thresholds: { min_institutions: 2, min_population: 10, dominance_share: 0.85, min_institutions_distribution: 5 },
    masking: { threshold: 2, graph: { kind: 'complete' }, reveal_public_key: revealKey },
  },
});
const app = await buildApp({
  db: f.db,
  identity: f.coordinator,
  now: f.now,
  config: { publicUrl: 'http://127.0.0.1:8443', rateLimit: false },
});
t.teardown(() => app.close());
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

const message = (phase: SecAggPhase, from: string, items: { to: string | null; payload: unknown }[]) =>
  new Uint8Array(
    Buffer.from(
      JSON.stringify({ type: 'sectorbench.secagg-message', version: 1, round_id: ROUND, phase, from, items }),
    ),
  );

async function post(phase: SecAggPhase, from: string, body: Uint8Array) {
  const path = ROUTES.secaggPhase(ROUND, phase);
  const r = await request(base + path, {
    method: 'POST',
    body: Buffer.from(body),
    headers: signedHeaders(f, from, path, body),
  });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}
async function relay(phase: SecAggPhase, who: string) {
  const path = ROUTES.secaggPhase(ROUND, phase);
  const empty = new Uint8Array(0);
  const r = await request(base + path, { headers: signedHeaders(f, who, path, empty, { method: 'GET' }) });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}
async function status() {
  const r = await request(base + ROUTES.secaggStatus(ROUND));
  return SecAggStatusSchema.parse(await r.body.json());
}

t.test('the manifest carries t, graph, reveal key and increasing phase deadlines', async (t) => {
  const m = RoundManifestSchema.parse(await (await request(`${base}${ROUTES.manifest(ROUND)}`)).body.json());
  t.equal(m.secagg?.threshold, 2);
  t.equal(m.secagg?.reveal_public_key, revealKey);
  t.equal(m.secagg?.deadlines.unmask, m.deadline, 'unmask ends at the round deadline');
  const s = await status();
  t.equal(s.current_phase, 'advertise');
  t.same(s.phases[0]?.missing, ['INST1', 'INST2', 'INST3'], 'nobody has advertised yet');
});

t.test('advertise: relayed only after every participant acted; messages cannot change', async (t) => {
  const a1 = message('advertise', 'INST1', [{ to: null, payload: { keys: 'one' } }]);
  const r1 = await post('advertise', 'INST1', a1);
  t.equal(r1.status, 201);
  const ack = PhaseAckSchema.parse(r1.body);
  t.ok(
    verifyObject(
      PURPOSE.secaggAck,
      ack as unknown as Record<string, unknown>,
      'coordinator_signature',
      f.coordinator.publicKey,
    ),
    'ack signed by the coordinator',
  );
  t.equal((await post('advertise', 'INST1', a1)).status, 200, 'the same message again: 200');
  const changed = await post(
    'advertise',
    'INST1',
    message('advertise', 'INST1', [{ to: null, payload: { keys: 'other' } }]),
  );
  t.equal(changed.status, 409);
  t.equal(changed.body.code, 'SB_ERR_SECAGG_CONFLICT');
  const early = await relay('advertise', 'INST2');
  t.equal(early.body.code, 'SB_ERR_SECAGG_WAIT', 'nothing is relayed while the phase runs');
  const tooEarly = await post('share', 'INST1', message('share', 'INST1', [{ to: 'INST2', payload: 1 }]));
  t.equal(tooEarly.body.code, 'SB_ERR_SECAGG_PHASE_NOT_STARTED');
  const outsider = await post('advertise', 'OUTSIDER', message('advertise', 'OUTSIDER', [{ to: null, payload: 1 }]));
  t.equal(outsider.body.code, 'SB_ERR_NOT_PARTICIPANT');
  t.equal(
    (await post('advertise', 'INST2', message('advertise', 'INST2', [{ to: null, payload: { keys: 'two' } }]))).status,
    201,
  );
  t.equal(
    (await post('advertise', 'INST3', message('advertise', 'INST3', [{ to: null, payload: { keys: 'three' } }])))
      .status,
    201,
  );
  const r = await relay('advertise', 'INST2');
  t.equal(r.status, 200);
  t.same(r.body.members, ['INST1', 'INST2', 'INST3']);
  t.same(
    (r.body.items as { from: string; payload: { keys: string } }[]).map((i) => [i.from, i.payload.keys]),
    [
      ['INST1', 'one'],
      ['INST2', 'two'],
      ['INST3', 'three'],
    ],
  );
  t.equal((await status()).current_phase, 'share');
});

t.test('share: one box per peer; a node that misses the deadline drops out', async (t) => {
  const wrong = await post('share', 'INST1', message('share', 'INST1', [{ to: 'INST2', payload: 'x' }]));
  t.equal(wrong.body.code, 'SB_ERR_SECAGG_MESSAGE', 'a box for every other member is required');
  const s1 = message('share', 'INST1', [
    { to: 'INST2', payload: 'box 1->2' },
    { to: 'INST3', payload: 'box 1->3' },
  ]);
  t.equal((await post('share', 'INST1', s1)).status, 201);
  const s2 = message('share', 'INST2', [
    { to: 'INST1', payload: 'box 2->1' },
    { to: 'INST3', payload: 'box 2->3' },
  ]);
  t.equal((await post('share', 'INST2', s2)).status, 201);
  const st = await status();
  t.same(st.phases[1]?.missing, ['INST3'], 'status names who has not shared');
  f.setNow(new Date(Date.parse(st.phases[1]?.deadline as string) + 1000));
  const r = await relay('share', 'INST1');
  t.same(r.body.members, ['INST1', 'INST2'], 'U2: INST3 dropped');
  t.same(r.body.items, [{ from: 'INST2', payload: 'box 2->1' }], 'INST1 gets only the box addressed to it, from U2');
});

t.test('masked input only from U2; then consistency; unmask below t fails closed', async (t) => {
  const v = edgeVector(f.codebook);
  const late = await contribution(f, 'INST3', v);
  const r3 = await request(base + contributionsPath(), {
    method: 'POST',
    body: Buffer.from(late.wire),
    headers: signedHeaders(f, 'INST3', contributionsPath(), late.wire),
  });
  t.equal(((await r3.body.json()) as { code: string }).code, 'SB_ERR_SECAGG_NOT_EXPECTED');
  for (const id of ['INST1', 'INST2']) {
    const c = await contribution(f, id, v);
    const r = await request(base + contributionsPath(), {
      method: 'POST',
      body: Buffer.from(c.wire),
      headers: signedHeaders(f, id, contributionsPath(), c.wire),
    });
    t.equal(r.statusCode, 201, `${id} submitted its masked input`);
    await r.body.dump();
  }
  const u3 = await relay('masked_input', 'INST2');
  t.same(u3.body.members, ['INST1', 'INST2'], 'the survivor set');
  for (const id of ['INST1', 'INST2'])
    t.equal(
      (await post('consistency', id, message('consistency', id, [{ to: null, payload: `sig ${id}` }]))).status,
      201,
    );
  const sigs = await relay('consistency', 'INST1');
  t.equal((sigs.body.items as unknown[]).length, 2);
  t.equal((await post('unmask', 'INST1', message('unmask', 'INST1', [{ to: null, payload: 'reveal 1' }]))).status, 201);
  t.throws(
    () => closeRound({ db: f.db, roundId: ROUND, bundleDir: `${f.dir}/bundle`, now: f.now() }),
    { code: 'SB_ERR_ROUND_NOT_DUE' },
    'cannot close while unmask runs',
  );
  const after = advanceRound(f.db, ROUND, f.now(), { force: true });
  t.equal(after.current_phase, 'failed');
  t.equal(after.failure?.code, 'SB_ERR_SECAGG_BELOW_THRESHOLD');
  t.match(after.failure?.message, /1 of 2 expected institutions .* t = 2/);
  const refused = await post('unmask', 'INST2', message('unmask', 'INST2', [{ to: null, payload: 'reveal 2' }]));
  t.equal(refused.status, 409);
  t.equal(refused.body.code, 'SB_ERR_SECAGG_BELOW_THRESHOLD', 'every node gets the coded reason');
  t.throws(
    () => closeRound({ db: f.db, roundId: ROUND, bundleDir: `${f.dir}/bundle`, now: f.now() }),
    { code: 'SB_ERR_SECAGG_BELOW_THRESHOLD' },
    'nothing is handed to the key holder',
  );
});
