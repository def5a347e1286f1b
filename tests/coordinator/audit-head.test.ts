/** Issue 6: the coordinator records the audit head of every signed request (GETs too) and attests the newest one. */
import t from 'tap';
import { buildApp } from '../../coordinator/app.js';
import { verifyAuditHeadAttestation } from '../../shared/protocol/audit-head.js';
import { contribution, contributionsPath, edgeVector, ROUND, setup, signedHeaders } from './fixture.js';

const f = await setup(t);
const app = await buildApp({
  db: f.db,
  identity: f.coordinator,
  now: f.now,
  config: { publicUrl: 'http://127.0.0.1:8443', rateLimit: false },
});
t.teardown(() => app.close());

const EMPTY = new Uint8Array(0);
const get = (url: string, inst = 'INST1', auditHead?: string, over: { secretKey?: Uint8Array } = {}) => {
  const { 'content-type': _ct, ...headers } = signedHeaders(f, inst, url, EMPTY, { method: 'GET', auditHead, ...over });
  return app.inject({ method: 'GET', url, headers });
};
const heads = (inst = 'INST1') =>
  f.db.prepare('SELECT head, method, path FROM audit_heads WHERE institution_id = ? ORDER BY id').all(inst) as {
    head: string;
    method: string;
    path: string;
  }[];
const A = 'a1'.repeat(32);
const B = 'b2'.repeat(32);
const C = 'c3'.repeat(32);

t.test('public GETs stay open without a signature and record nothing', async (t) => {
  t.equal((await app.inject({ url: `/v1/rounds/${ROUND}/manifest` })).statusCode, 200);
  t.equal((await app.inject({ url: `/v1/rounds/${ROUND}/he-public-key` })).statusCode, 200);
  t.same(heads(), []);
});

t.test('signed GETs are verified and their head recorded', async (t) => {
  t.equal((await get(`/v1/rounds/${ROUND}/manifest`, 'INST1', A)).statusCode, 200);
  t.same(heads(), [{ head: A, method: 'GET', path: `/v1/rounds/${ROUND}/manifest` }]);
  const forged = await get(`/v1/rounds/${ROUND}/he-public-key`, 'INST1', B, {
    secretKey: f.institutions.INST2!.secretKey,
  });
  t.equal(forged.statusCode, 401, 'a bad signature on a public route is refused');
  t.equal(forged.json().code, 'SB_ERR_REQUEST_SIGNATURE');
  t.equal(
    (await get(`/v1/rounds/${ROUND}/he-public-key`, 'INST1')).statusCode,
    200,
    'signed without a head: nothing to record',
  );
  t.equal(heads().length, 1);
});

t.test('signed POSTs are recorded too; the attestation names the head before this request', async (t) => {
  const { wire } = await contribution(f, 'INST1', edgeVector(f.codebook));
  const post = await app.inject({
    method: 'POST',
    url: contributionsPath(),
    payload: Buffer.from(wire),
    headers: signedHeaders(f, 'INST1', contributionsPath(), wire, { auditHead: B }),
  });
  t.equal(post.statusCode, 201);
  t.equal(post.json().audit_head, B);
  t.same(
    heads().map((h) => h.head),
    [A, B],
  );

  const r = await get('/v1/institutions/me/audit-head', 'INST1', C);
  t.equal(r.statusCode, 200);
  const att = r.json();
  t.match(att, {
    type: 'sectorbench.audit-head-attestation',
    institution_id: 'INST1',
    head: B,
    path: contributionsPath(),
    request_head: C,
  });
  t.same(
    att.history.map((h: { head: string }) => h.head),
    [A, B],
    'every head seen before, oldest first',
  );
  t.ok(verifyAuditHeadAttestation(att, f.coordinator.publicKey), 'signed by the coordinator');
  t.notOk(
    verifyAuditHeadAttestation({ ...att, head: A }, f.coordinator.publicKey),
    'the head is covered by the signature',
  );
  t.same(
    heads().map((h) => h.head),
    [A, B, C],
    'the attestation request itself is recorded',
  );
  const again = (await get('/v1/institutions/me/audit-head', 'INST1', A)).json();
  t.equal(again.head, C, 'next time the previous request is the newest');
  t.same(
    again.history.map((h: { head: string }) => h.head),
    [A, B, C],
    'distinct heads, first sighting',
  );

  const other = (await get('/v1/institutions/me/audit-head', 'INST2')).json();
  t.match(other, { institution_id: 'INST2', head: null, seen_at: null, request_head: null });
  t.equal((await app.inject({ url: '/v1/institutions/me/audit-head' })).statusCode, 401, 'unsigned: refused');
});
