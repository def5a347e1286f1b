/**
 * Issue 13, the coordinator under abuse and load, over real HTTP on loopback (port 0):
 * transparent ciphertexts refused; a flood of 1,000 forged requests throttled while valid
 * submissions from the same address still succeed; the node client waiting as long as
 * `Retry-After` says, within the deadline. 500 nodes behind one address: many-nodes.test.ts.
 */
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { buildApp } from '../../coordinator/app.js';
import type { CoordinatorAppConfig } from '../../coordinator/context.js';
import { allSubmissions, currentSubmissions } from '../../coordinator/store/submissions.js';
import { CoordinatorClient } from '../../node/client/coordinator-client.js';
import { CIPHERTEXT_BYTES, CIPHERTEXT_DATA_OFFSET, SLOTS_PER_CIPHERTEXT } from '../../shared/crypto/he-params.js';
import { generateIdentity, type Identity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { ciphertextFromWords } from '../../shared/crypto/ciphertext-validate.js';
import { isSignedReceipt } from '../../shared/protocol/receipt.js';
import {
  contribution,
  contributionsPath,
  edgeVector,
  scaled,
  setup,
  signedHeaders,
  ROUND,
  T0,
  type Fixture,
} from './fixture.js';

t.teardown(() => sealWorker().close());

async function listen(
  f: Fixture,
  rateLimit?: CoordinatorAppConfig['rateLimit'],
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = await buildApp({
    db: f.db,
    identity: f.coordinator,
    now: f.now,
    config: { publicUrl: 'http://127.0.0.1:8443', ...(rateLimit === undefined ? {} : { rateLimit }) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

async function post(url: string, path: string, body: Uint8Array, headers: Record<string, string>, agent?: Agent) {
  const r = await request(url + path, { method: 'POST', body: Buffer.from(body), headers, dispatcher: agent });
  const text = await r.body.text();
  return {
    status: r.statusCode,
    retryAfter: r.headers['retry-after'],
    type: String(r.headers['content-type'] ?? ''),
    json: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

t.test('transparent ciphertexts are refused with a coded problem', async (t) => {
  const f = await setup(t);
  const s = await listen(f, false);
  t.teardown(s.close);
  const v = edgeVector(f.codebook);
  const real = await contribution(f, 'INST1', v);
  const ct = real.ciphertexts[0] as Uint8Array;
  t.equal(ct.byteLength, CIPHERTEXT_BYTES);

  // 1. Every coefficient zero (valid header): the trivial encryption of 0.
  const zero = ciphertextFromWords(new Uint32Array(2 * 2 * 2 * SLOTS_PER_CIPHERTEXT));
  // 2. A real c0 with c1 = 0: "decrypts" to Δ·m + e without any key.
  const c1zero = ct.slice();
  c1zero.fill(0, CIPHERTEXT_DATA_OFFSET + 2 * SLOTS_PER_CIPHERTEXT * 8);
  // 3. c1 zero modulo q_1 only: that residue alone gives the plaintext away modulo q_1.
  const c1zeroMod1 = ct.slice();
  c1zeroMod1.fill(0, CIPHERTEXT_DATA_OFFSET + 3 * SLOTS_PER_CIPHERTEXT * 8);
  for (const [name, bad, modulus] of [
    ['all-zero ciphertext', zero, 0],
    ['c1 = 0', c1zero, 0],
    ['c1 = 0 modulo q_1', c1zeroMod1, 1],
  ] as const) {
    const c = await contribution(f, 'INST1', v, { ciphertexts: [bad] });
    const r = await post(s.url, contributionsPath(), c.wire, signedHeaders(f, 'INST1', contributionsPath(), c.wire));
    t.equal(r.status, 422, `${name}: 422`);
    t.match(r.type, /^application\/problem\+json/);
    t.match(r.json, {
      code: 'SB_ERR_CT_TRANSPARENT',
      status: 422,
      detail: /transparent/,
      details: { poly: 1, modulus },
    });
  }
  t.equal(allSubmissions(f.db, ROUND).length, 0, 'nothing stored');
  const ok = await post(
    s.url,
    contributionsPath(),
    real.wire,
    signedHeaders(f, 'INST1', contributionsPath(), real.wire),
  );
  t.equal(ok.status, 201, 'the real ciphertext of the same vector is accepted');
});

type Listening = Awaited<ReturnType<typeof listen>>;
/** The forged requests' body: 64 bytes, never parsed as a contribution. */
const small = new Uint8Array(64).fill(1);

/** 1,000 forged request headers: four kinds (another key, unknown institution, unsigned, stale), each signed once. */
function forgedRequests(f: Fixture): Record<string, string>[] {
  const forger = generateIdentity();
  const kinds = [
    // Signed with a key that is not INST1's.
    () => signedHeaders(f, 'INST1', contributionsPath(), small, { secretKey: forger.secretKey }),
    // An institution the coordinator does not know.
    () => signedHeaders(f, 'INST1', contributionsPath(), small, { secretKey: forger.secretKey }),
    // No signature at all.
    () => ({ 'content-type': 'application/octet-stream' }),
    // Stale.
    () => signedHeaders(f, 'INST2', contributionsPath(), small, { signedAt: new Date(T0.getTime() - 3_600_000) }),
  ];
  // Each kind signed once and sent 250 times: a forger need not sign anew, and the test stays light.
  const made = kinds.map((k, i) => {
    const h: Record<string, string> = k();
    if (i === 1) h['sb-institution'] = 'NOBODY';
    return h;
  });
  const forged = Array.from({ length: 1000 }, (_, i) => made[i % made.length] as Record<string, string>);

  return forged;
}

/** Send the forged requests from 16 workers; the three valid submissions go out in the middle of the flood. */
async function flood(
  f: Fixture,
  s: Listening,
  agent: Agent,
  forged: Record<string, string>[],
  valid: { wire: Uint8Array }[],
  ids: string[],
) {
  const statuses = new Map<number, number>();
  const codes = new Map<string, number>();
  let retryAfterOk = 0;
  const validResults: { status: number; json: Record<string, unknown> }[] = [];
  let next = 0;
  const forgedWorker = async () => {
    for (let i = next++; i < forged.length; i = next++) {
      const r = await post(s.url, contributionsPath(), small, forged[i] as Record<string, string>, agent);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      codes.set(String(r.json.code), (codes.get(String(r.json.code)) ?? 0) + 1);
      if (r.status === 429 && Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= 60) retryAfterOk++;
      // The valid submissions go out in the middle of the flood.
      if (i === 300 || i === 600 || i === 900) {
        const k = (i / 300 - 1) as 0 | 1 | 2;
        const c = valid[k] as { wire: Uint8Array };
        const id = ids[k] as string;
        validResults.push(
          await post(s.url, contributionsPath(), c.wire, signedHeaders(f, id, contributionsPath(), c.wire), agent),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, forgedWorker));
  return { statuses, codes, retryAfterOk, validResults };
}

/** Every forged request answered, 30 with 401 then 429 with Retry-After; the valid ones acknowledged. */
function checkFloodAnswers(t: Test, f: Fixture, r: Awaited<ReturnType<typeof flood>>): void {
  const { statuses, codes, retryAfterOk, validResults } = r;
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  t.equal(total, 1000, 'every forged request was answered');
  t.notOk(
    [...statuses.keys()].some((st) => st >= 500),
    `no 5xx: ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  t.equal(statuses.get(401), 30, 'the first 30 failures are answered 401');
  t.equal(statuses.get(429), 970, 'every later one is throttled (429)');
  t.equal(codes.get('SB_ERR_RATE_LIMIT'), 970);
  t.equal(retryAfterOk, 970, 'each 429 says when to retry (Retry-After, 1-60 s)');
  t.same(
    validResults.map((r) => r.status),
    [201, 201, 201],
    'the valid submissions sent during the flood are acknowledged',
  );
  for (const r of validResults)
    t.ok(isSignedReceipt(r.json as never, f.coordinator.publicKey), 'with a signed receipt');
  t.equal(currentSubmissions(f.db, ROUND).length, 3);
}

/** While throttled: unsigned requests from the address are refused before any lookup, a signed GET still passes. */
async function checkWhileThrottled(t: Test, f: Fixture, s: Listening, agent: Agent): Promise<void> {
  // While throttled: unsigned requests from the address are refused before any lookup, a signed GET still passes.
  const pub = await request(`${s.url}/v1/rounds/${ROUND}/status`, { dispatcher: agent });
  t.equal(pub.statusCode, 429, 'unsigned request from the throttled address: 429');
  t.ok(Number(pub.headers['retry-after']) >= 1);
  await pub.body.dump();
  const path = `/v1/rounds/${ROUND}/status`;
  const h = signedHeaders(f, 'INST1', path, new Uint8Array(0), { method: 'GET' });
  delete h['content-type'];
  const signedGet = await request(`${s.url}${path}`, { headers: h, dispatcher: agent });
  t.equal(signedGet.statusCode, 200, 'signed request from the same address: 200');
  t.match(await signedGet.body.json(), { submitted: 3, you: { institution_id: 'INST1', excluded: false } });

  // A minute later the address has its budget back.
  f.setNow(new Date(f.now().getTime() + 61_000));
  const later = await request(`${s.url}/v1/rounds/${ROUND}/status`, { dispatcher: agent });
  t.equal(later.statusCode, 200, 'after the window: unsigned requests served again');
  await later.body.dump();
}

t.test('1,000 forged requests are throttled while valid submissions from the same address succeed', async (t) => {
  const f = await setup(t);
  // The defaults: 30 failed authentications per address and minute, 60 signed requests per institution.
  const s = await listen(f);
  t.teardown(s.close);
  const agent = new Agent({ connections: 32 });
  t.teardown(() => agent.close());
  const v = edgeVector(f.codebook);
  const valid = [
    await contribution(f, 'INST1', v),
    await contribution(f, 'INST2', scaled(v, 2)),
    await contribution(f, 'INST3', scaled(v, 3)),
  ];
  const ids = ['INST1', 'INST2', 'INST3'];
  checkFloodAnswers(t, f, await flood(f, s, agent, forgedRequests(f), valid, ids));
  await checkWhileThrottled(t, f, s, agent);
});

t.test('the node client waits as long as Retry-After says, within the deadline', async (t) => {
  const f = await setup(t);
  const s = await listen(f, { ipPerMinute: 600, institutionPerMinute: 1, failedAuthPerMinute: 30 });
  t.teardown(s.close);
  const slept: number[] = [];
  const client = () =>
    new CoordinatorClient({
      baseUrl: s.url,
      institutionId: 'INST1',
      secretKey: (f.institutions.INST1 as Identity).secretKey,
      now: f.now,
      // Time moves only when the client sleeps: the server's clock is the same.
      sleep: async (ms) => {
        slept.push(ms);
        f.setNow(new Date(f.now().getTime() + ms));
      },
    });
  const c = client();
  const path = `/v1/rounds/${ROUND}/status`;
  t.equal((await c.send('GET', path)).status, 200, 'first request in the minute');
  const start = f.now().getTime();
  const second = await c.send('GET', path);
  t.equal(second.status, 200, 'the second succeeds after waiting');
  t.equal(slept.length, 1, 'one wait');
  t.ok(
    (slept[0] as number) >= 60_000 && (slept[0] as number) <= 72_000,
    `waited Retry-After (60 s) + jitter: ${slept[0]}`,
  );
  t.ok(f.now().getTime() - start > 7_500, 'longer than the old 7.5 s of backoff');

  // A deadline before the coordinator's Retry-After: give up at once, with a coded error that says so.
  slept.length = 0;
  const deadline = new Date(f.now().getTime() + 10_000);
  await t.rejects(
    c.send('GET', path, undefined, undefined, { deadline }),
    { code: 'SB_ERR_RATE_LIMIT', message: /past the round's deadline/ },
    'refused: the retry would be after the deadline',
  );
  t.same(slept, [], 'did not wait past the deadline');
});
