/** Every refusal of POST /v1/rounds/:id/contributions, as application/problem+json (app.inject). */
import t, { type Test } from 'tap';
import { buildApp } from '../../coordinator/app.js';
import { revokeInstitution } from '../../coordinator/store/institutions.js';
import { closeRound } from '../../coordinator/rounds/close-round.js';
import { allSubmissions } from '../../coordinator/store/submissions.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import {
  contribution,
  contributionsPath,
  edgeVector,
  scaled,
  setup,
  signedHeaders,
  ROUND,
  DEADLINE,
} from './fixture.js';

t.teardown(() => sealWorker().close());

const f = await setup(t);
const app = await buildApp({
  db: f.db,
  identity: f.coordinator,
  now: f.now,
  config: { publicUrl: 'http://127.0.0.1:8443', rateLimit: false },
});
t.teardown(() => app.close());
const v = edgeVector(f.codebook);
const good = await contribution(f, 'INST1', v);

async function post(path: string, body: Uint8Array, headers: Record<string, string>) {
  const r = await app.inject({ method: 'POST', url: path, payload: Buffer.from(body), headers });
  return { status: r.statusCode, type: r.headers['content-type'], json: r.json() as Record<string, unknown> };
}

function isProblem(
  tt: Test,
  r: { status: number; type: unknown; json: Record<string, unknown> },
  status: number,
  code: string,
) {
  tt.equal(r.status, status, `status ${status}`);
  tt.match(String(r.type), /^application\/problem\+json/);
  tt.match(r.json, { status, code, type: String, title: String, detail: String });
}

const nothingStored = (tt: Test) => tt.equal(allSubmissions(f.db, ROUND).length, 0, 'nothing stored');

t.test('unsigned request: 401', async (t) => {
  isProblem(
    t,
    await post(contributionsPath(), good.wire, { 'content-type': 'application/octet-stream' }),
    401,
    'SB_ERR_REQUEST_UNSIGNED',
  );
  nothingStored(t);
});

t.test('forged signature (another key): 401', async (t) => {
  const h = signedHeaders(f, 'INST1', contributionsPath(), good.wire, { secretKey: generateIdentity().secretKey });
  isProblem(t, await post(contributionsPath(), good.wire, h), 401, 'SB_ERR_REQUEST_SIGNATURE');
  nothingStored(t);
});

t.test('signature over another path: 401', async (t) => {
  const h = signedHeaders(f, 'INST1', '/v1/rounds/other/contributions', good.wire);
  isProblem(t, await post(contributionsPath(), good.wire, h), 401, 'SB_ERR_REQUEST_SIGNATURE');
});

t.test('body altered after signing: 400 digest mismatch', async (t) => {
  const h = signedHeaders(f, 'INST1', contributionsPath(), good.wire);
  const altered = Uint8Array.from(good.wire);
  altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 1;
  isProblem(t, await post(contributionsPath(), altered, h), 400, 'SB_ERR_REQUEST_DIGEST');
  nothingStored(t);
});

t.test('stale timestamp: 401', async (t) => {
  const h = signedHeaders(f, 'INST1', contributionsPath(), good.wire, {
    signedAt: new Date(f.now().getTime() - 301_000),
  });
  isProblem(t, await post(contributionsPath(), good.wire, h), 401, 'SB_ERR_REQUEST_STALE');
  const future = signedHeaders(f, 'INST1', contributionsPath(), good.wire, {
    signedAt: new Date(f.now().getTime() + 301_000),
  });
  isProblem(t, await post(contributionsPath(), good.wire, future), 401, 'SB_ERR_REQUEST_STALE');
  nothingStored(t);
});

t.test('unknown institution: 401', async (t) => {
  const stranger = generateIdentity();
  const h = signedHeaders(f, 'NOBODY', contributionsPath(), good.wire, { secretKey: stranger.secretKey });
  isProblem(t, await post(contributionsPath(), good.wire, h), 401, 'SB_ERR_UNKNOWN_INSTITUTION');
});

t.test('non-participant: 403', async (t) => {
  const c = await contribution(f, 'OUTSIDER', v);
  isProblem(
    t,
    await post(contributionsPath(), c.wire, signedHeaders(f, 'OUTSIDER', contributionsPath(), c.wire)),
    403,
    'SB_ERR_NOT_PARTICIPANT',
  );
  nothingStored(t);
});

t.test('wrong round: unknown round 404, envelope for another round 422', async (t) => {
  const p = contributionsPath('2023-2024-r9');
  isProblem(t, await post(p, good.wire, signedHeaders(f, 'INST1', p, good.wire)), 404, 'SB_ERR_ROUND_UNKNOWN');
  const other = await contribution(f, 'INST1', v, { roundId: '2023-2024-r9', ciphertexts: good.ciphertexts });
  const r = await post(contributionsPath(), other.wire, signedHeaders(f, 'INST1', contributionsPath(), other.wire));
  isProblem(t, r, 422, 'SB_ERR_ENVELOPE_MISMATCH');
  t.match(r.json.detail, /round_id/);
  nothingStored(t);
});

t.test('envelope of another institution: 422', async (t) => {
  // INST1 sends an envelope that names INST2 (signed by INST1): refused.
  const c = await contribution(f, 'INST1', v, { envelopeInstitution: 'INST2', ciphertexts: good.ciphertexts });
  isProblem(
    t,
    await post(contributionsPath(), c.wire, signedHeaders(f, 'INST1', contributionsPath(), c.wire)),
    422,
    'SB_ERR_ENVELOPE_MISMATCH',
  );
  // INST1 relays INST2's genuine envelope: its signature is not INST1's.
  const c2 = await contribution(f, 'INST2', v, { ciphertexts: good.ciphertexts });
  isProblem(
    t,
    await post(contributionsPath(), c2.wire, signedHeaders(f, 'INST1', contributionsPath(), c2.wire)),
    422,
    'SB_ERR_SIGNATURE',
  );
  nothingStored(t);
});

t.test('envelope with a broken signature: 422', async (t) => {
  const c = await contribution(f, 'INST1', v, {
    ciphertexts: good.ciphertexts,
    mutate: (e) => (e.created_at = '2025-10-15T08:00:01.000Z'),
  });
  isProblem(
    t,
    await post(contributionsPath(), c.wire, signedHeaders(f, 'INST1', contributionsPath(), c.wire)),
    422,
    'SB_ERR_SIGNATURE',
  );
});

t.test('wrong ciphertext count: 422', async (t) => {
  const two = [good.ciphertexts[0] as Uint8Array, good.ciphertexts[0] as Uint8Array];
  const c = await contribution(f, 'INST1', v, { ciphertexts: two });
  const r = await post(contributionsPath(), c.wire, signedHeaders(f, 'INST1', contributionsPath(), c.wire));
  isProblem(t, r, 422, 'SB_ERR_ENVELOPE_MISMATCH');
  t.match(r.json.detail, /ciphertext count/);
});

t.test('garbage: wire framing 400, ciphertext coefficients 422', async (t) => {
  const junk = new Uint8Array(5000).fill(7);
  isProblem(
    t,
    await post(contributionsPath(), junk, signedHeaders(f, 'INST1', contributionsPath(), junk)),
    400,
    'SB_ERR_WIRE',
  );
  // A ciphertext of the right size with a valid header but coefficients >= q, correctly signed.
  const bad = Uint8Array.from(good.ciphertexts[0] as Uint8Array);
  bad.fill(0xff, 200, 400);
  const c = await contribution(f, 'INST1', v, { ciphertexts: [bad] });
  const r = await post(contributionsPath(), c.wire, signedHeaders(f, 'INST1', contributionsPath(), c.wire));
  t.equal(r.status, 422);
  t.match(r.json.code, /^SB_ERR_CT_/);
  // Random bytes of the right size.
  const noise = new Uint8Array((good.ciphertexts[0] as Uint8Array).length).map((_, i) => (i * 7919) & 0xff);
  const c2 = await contribution(f, 'INST1', v, { ciphertexts: [noise] });
  const r2 = await post(contributionsPath(), c2.wire, signedHeaders(f, 'INST1', contributionsPath(), c2.wire));
  t.equal(r2.status, 422);
  t.match(r2.json.code, /^SB_ERR_CT_/);
  nothingStored(t);
});

t.test('oversized body: 413 before reading', async (t) => {
  const big = new Uint8Array(2 * 131185 + 256 * 1024 + 13);
  isProblem(
    t,
    await post(contributionsPath(), big, signedHeaders(f, 'INST1', contributionsPath(), big)),
    413,
    'SB_ERR_BODY_TOO_LARGE',
  );
  nothingStored(t);
});

t.test('wrong media type: 415', async (t) => {
  const body = new TextEncoder().encode('{"a":1}');
  const h = { ...signedHeaders(f, 'INST1', contributionsPath(), body), 'content-type': 'application/json' };
  isProblem(t, await post(contributionsPath(), body, h), 415, 'SB_ERR_MEDIA_TYPE');
});

t.test('accepted, then replayed request (same nonce): 409', async (t) => {
  const h = signedHeaders(f, 'INST1', contributionsPath(), good.wire);
  const ok = await post(contributionsPath(), good.wire, h);
  t.equal(ok.status, 201);
  isProblem(t, await post(contributionsPath(), good.wire, h), 409, 'SB_ERR_REQUEST_REPLAY');
  t.equal(allSubmissions(f.db, ROUND).length, 1);
});

t.test('revoked institution: 403', async (t) => {
  const c = await contribution(f, 'INST3', v);
  revokeInstitution(f.db, { id: 'INST3', now: f.now() });
  isProblem(
    t,
    await post(contributionsPath(), c.wire, signedHeaders(f, 'INST3', contributionsPath(), c.wire)),
    403,
    'SB_ERR_INSTITUTION_REVOKED',
  );
});

t.test('after the deadline: 409; closed round: 409', async (t) => {
  const c = await contribution(f, 'INST2', scaled(v, 2));
  const saved = f.now();
  f.setNow(new Date(DEADLINE));
  isProblem(
    t,
    await post(contributionsPath(), c.wire, signedHeaders(f, 'INST2', contributionsPath(), c.wire)),
    409,
    'SB_ERR_DEADLINE_PASSED',
  );
  f.setNow(saved);
  closeRound({ db: f.db, roundId: ROUND, bundleDir: t.testdir({}), force: true, now: f.now() });
  isProblem(
    t,
    await post(contributionsPath(), c.wire, signedHeaders(f, 'INST2', contributionsPath(), c.wire)),
    409,
    'SB_ERR_ROUND_CLOSED',
  );
  // The acknowledged envelope again is still answered with its receipt (a retry after a lost response).
  const again = await post(contributionsPath(), good.wire, signedHeaders(f, 'INST1', contributionsPath(), good.wire));
  t.equal(again.status, 200);
  t.equal(allSubmissions(f.db, ROUND).length, 1);
});
