/** HTTP shape (app.inject): problem documents, rate limits, helmet, 404s before release. */
import t from 'tap';
import { buildApp } from '../../coordinator/app.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { contribution, contributionsPath, edgeVector, setup, signedHeaders, ROUND } from './fixture.js';

t.teardown(() => sealWorker().close());
const f = await setup(t);

t.test('per-IP and per-institution rate limits answer 429 problems', async (t) => {
  const app = await buildApp({
    db: f.db,
    identity: f.coordinator,
    now: f.now,
    config: { publicUrl: 'http://127.0.0.1:8443', rateLimit: { ipPerMinute: 3, institutionPerMinute: 1 } },
  });
  t.teardown(() => app.close());
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: '/v1/health' })).statusCode);
  t.same(codes, [200, 200, 200, 429]);
  const r = await app.inject({ url: '/v1/health', remoteAddress: '10.0.0.2' });
  t.equal(r.statusCode, 200, 'another address has its own budget');
  const limited = await app.inject({ url: '/v1/health' });
  t.match(limited.headers['content-type'], /problem\+json/);
  t.equal(limited.json().code, 'SB_ERR_RATE_LIMIT');

  const c = await contribution(f, 'INST1', edgeVector(f.codebook));
  const send = (ip: string) =>
    app.inject({
      method: 'POST',
      url: contributionsPath(),
      payload: Buffer.from(c.wire),
      headers: signedHeaders(f, 'INST1', contributionsPath(), c.wire),
      remoteAddress: ip,
    });
  t.equal((await send('10.0.1.1')).statusCode, 201);
  const second = await send('10.0.1.2');
  t.equal(second.statusCode, 429, 'institution limit holds across addresses');
  t.equal(second.json().code, 'SB_ERR_RATE_LIMIT');
});

t.test('problem documents, helmet headers, release 404 before publication', async (t) => {
  const app = await buildApp({
    db: f.db,
    identity: f.coordinator,
    now: f.now,
    config: { publicUrl: 'http://127.0.0.1:8443', rateLimit: false },
  });
  t.teardown(() => app.close());
  const nf = await app.inject({ url: '/v2/nothing' });
  t.equal(nf.statusCode, 404);
  t.match(nf.json(), { type: /^https:\/\//, title: 'Not Found', status: 404, code: 'SB_ERR_NOT_FOUND' });
  for (const suffix of ['release', 'release.csv', 'release.html']) {
    const r = await app.inject({ url: `/v1/rounds/${ROUND}/${suffix}` });
    t.equal(r.statusCode, 404, suffix);
    t.equal(r.json().code, 'SB_ERR_RELEASE_UNKNOWN');
  }
  t.equal((await app.inject({ url: `/v1/rounds/${ROUND}/release?version=0` })).statusCode, 400, 'bad query');
  t.equal((await app.inject({ url: '/v1/rounds/nope/status' })).json().code, 'SB_ERR_ROUND_UNKNOWN');
  t.equal((await app.inject({ url: '/v1/rounds/nope/he-public-key' })).statusCode, 404);
  const h = await app.inject({ url: '/v1/health' });
  t.equal(h.headers['x-frame-options'], 'SAMEORIGIN');
  t.ok(h.headers['strict-transport-security']);
  const list = await app.inject({ url: '/v1/rounds' });
  t.same(list.json(), {
    rounds: [{ round_id: ROUND, studiejaar: '2024-2025', state: 'open', deadline: '2025-11-01T00:00:00.000Z' }],
  });
  const get = await app.inject({ method: 'DELETE', url: `/v1/rounds/${ROUND}/manifest` });
  t.equal(get.statusCode, 404);
});
