/** A full round over real HTTP: submit, idempotency, replacement, receipts, close, bundle sum, publish, release pages, /docs. */
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { buildApp } from '../../coordinator/app.js';
import { closeRound } from '../../coordinator/rounds/close-round.js';
import { publishRelease } from '../../coordinator/rounds/publish-release.js';
import { releaseDigest } from '../../shared/protocol/release-digest.js';
import { allSubmissions, currentSubmissions } from '../../coordinator/store/submissions.js';
import { RoundManifestSchema } from '../../schemas/manifest.js';
import { ReleaseSchema, type Release } from '../../schemas/release.js';
import { decryptSum } from '../../shared/crypto/decrypt.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { readBundle } from '../../shared/protocol/bundle.js';
import { addModT, flatten, layoutLength } from '../../shared/protocol/layout.js';
import { isSignedReceipt } from '../../shared/protocol/receipt.js';
import { signRelease, verifyManifest } from '../../shared/protocol/round-documents.js';
import { signRequest } from '../../shared/protocol/request-signing.js';
import {
  contribution,
  contributionsPath,
  edgeVector,
  MAX_PARTICIPANTS,
  ROUND,
  scaled,
  setup,
  signedHeaders,
} from './fixture.js';

t.teardown(() => sealWorker().close());

const f = await setup(t);
const app = await buildApp({
  db: f.db,
  identity: f.coordinator,
  now: f.now,
  config: { publicUrl: 'http://127.0.0.1:8443' },
});
t.teardown(() => app.close());
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
const v = edgeVector(f.codebook);

async function submit(id: string, wire: Uint8Array, auditHead?: string) {
  const r = await request(base + contributionsPath(), {
    method: 'POST',
    body: Buffer.from(wire),
    headers: signedHeaders(f, id, contributionsPath(), wire, { auditHead }),
  });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}

const c1 = await contribution(f, 'INST1', v);
const c2a = await contribution(f, 'INST2', scaled(v, 2));
const c2b = await contribution(f, 'INST2', scaled(v, 5));
const c3 = await contribution(f, 'INST3', scaled(v, 3));

t.test('health, manifest and BFV key are public and verifiable', async (t) => {
  const h = await request(`${base}/v1/health`);
  const health = (await h.body.json()) as { coordinator_public_key: string };
  t.equal(health.coordinator_public_key, Buffer.from(f.coordinator.publicKey).toString('base64'));
  const m = await request(`${base}/v1/rounds/${ROUND}/manifest`);
  t.equal(m.statusCode, 200);
  const manifest = RoundManifestSchema.parse(await m.body.json());
  t.ok(verifyManifest(manifest, f.coordinator.publicKey), 'manifest signature verifies');
  t.same(
    manifest.participants.map((p) => p.institution_id),
    ['INST1', 'INST2', 'INST3'],
  );
  t.equal(manifest.he_public_key.url, `http://127.0.0.1:8443/v1/rounds/${ROUND}/he-public-key`);
  const k = await request(`${base}/v1/rounds/${ROUND}/he-public-key`);
  t.equal(k.headers['content-type'], 'application/octet-stream');
  const key = Buffer.from(await k.body.arrayBuffer());
  t.equal(createHash('sha256').update(key).digest('hex'), manifest.he_public_key.digest);
  t.ok(k.headers['x-content-type-options'], 'helmet headers');
  const missing = await request(`${base}/v1/rounds/nope/manifest`);
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], /problem\+json/);
  await missing.body.dump();
});

t.test('submit: 201 with a signed receipt, audit head echoed', async (t) => {
  const r = await submit('INST1', c1.wire, 'ab'.repeat(32));
  t.equal(r.status, 201);
  t.ok(isSignedReceipt(r.body, f.coordinator.publicKey), 'receipt signature verifies');
  t.notOk(isSignedReceipt({ ...r.body, sequence: 7 }, f.coordinator.publicKey), 'an altered receipt does not');
  t.match(r.body, {
    round_id: ROUND,
    institution_id: 'INST1',
    wire_bytes: c1.wire.byteLength,
    sequence: 0,
    audit_head: 'ab'.repeat(32),
  });
  t.equal(r.body.envelope_digest, currentSubmissions(f.db, ROUND)[0]?.envelopeDigest);
});

t.test('the same envelope again: 200 and the same receipt (idempotent)', async (t) => {
  const first = await submit('INST2', c2a.wire);
  t.equal(first.status, 201);
  const again = await submit('INST2', c2a.wire);
  t.equal(again.status, 200);
  t.same(again.body, first.body);
  t.equal(allSubmissions(f.db, ROUND).filter((s) => s.institutionId === 'INST2').length, 1);
});

t.test('a new envelope before the deadline replaces the old; both recorded', async (t) => {
  const r = await submit('INST2', c2b.wire);
  t.equal(r.status, 201);
  const mine = allSubmissions(f.db, ROUND).filter((s) => s.institutionId === 'INST2');
  t.equal(mine.length, 2, 'both kept');
  t.equal(mine[0]?.supersededBy, mine[1]?.sequence, 'old marked superseded by the new');
  t.equal(mine[1]?.supersededBy, null);
  const old = await submit('INST2', c2a.wire);
  t.equal(old.status, 409, 'the replaced envelope cannot come back');
  t.equal(old.body.code, 'SB_ERR_SUPERSEDED');
});

t.test('status: counts only', async (t) => {
  const r = await request(`${base}/v1/rounds/${ROUND}/status`);
  const s = (await r.body.json()) as Record<string, unknown>;
  t.same(s, {
    round_id: ROUND,
    studiejaar: '2024-2025',
    state: 'open',
    deadline: '2025-11-01T00:00:00.000Z',
    participants: 3,
    submitted: 2,
    submissions: 3,
    closed_at: null,
    release_versions: 0,
    excluded: 0,
  });
});

t.test('close refuses before the deadline until all submitted; the bundle sum decrypts to the plain sum', async (t) => {
  const dir = t.testdir({});
  t.throws(() => closeRound({ db: f.db, roundId: ROUND, bundleDir: dir, now: f.now() }), {
    code: 'SB_ERR_ROUND_NOT_DUE',
  });
  t.equal((await submit('INST3', c3.wire)).status, 201);
  const res = closeRound({ db: f.db, roundId: ROUND, bundleDir: dir, now: f.now() });
  t.equal(res.contributions, 3);
  t.ok(res.closedNow);
  const bundle = readBundle(dir);
  t.same(
    bundle.contributions.map((c) => c.institutionId),
    ['INST1', 'INST2', 'INST3'],
  );
  t.same(
    Buffer.from(bundle.contributions[1]?.wire as Uint8Array),
    Buffer.from(c2b.wire),
    'the current (replacing) contribution, as received',
  );
  t.ok(verifyManifest(bundle.manifest, f.coordinator.publicKey));
  const slots = await decryptSum(f.bfv.secretKey, bundle.sum);
  const want = [1, 5, 3]
    .map((k) => flatten(f.codebook, scaled(v, k), { maxParticipants: MAX_PARTICIPANTS }))
    .reduce((a, b) => addModT(a, b));
  t.same(
    Array.from(slots.subarray(0, layoutLength(f.codebook))),
    Array.from(want),
    'decrypted sum = sum of the plaintexts',
  );
  t.same(
    res.sumSha256,
    bundle.sum.map((c) => createHash('sha256').update(c).digest('hex')),
  );
  // Closing again rewrites the same bundle.
  const again = closeRound({ db: f.db, roundId: ROUND, bundleDir: t.testdir({}), now: f.now() });
  t.notOk(again.closedNow);
  t.same(again.sumSha256, res.sumSha256, 'the sum is deterministic');
  const late = await submit(
    'INST1',
    (await contribution(f, 'INST1', scaled(v, 4), { ciphertexts: c3.ciphertexts })).wire,
  );
  t.equal(late.status, 409);
});

function release(over: Partial<Release> = {}): Omit<Release, 'key_holder_signature'> {
  return {
    type: 'sectorbench.release',
    version: 1,
    round_id: ROUND,
    release_version: 1,
    previous_release_digest: null,
    studiejaar: '2024-2025',
    metric_spec: 'v1',
    codebook_digest: f.manifest.codebook.digest,
    institutions: 3,
    thresholds: f.manifest.thresholds,
    published_at: '2025-11-03T10:00:00.000Z',
    cells: {
      '90001|2|BOL': {
        institutions: { a: 3, b: 3 },
        slots: {
          a_enrolments: 30,
          a_min_present: 900,
          a_min_registered: 1000,
          a_min_abs_unauth: 40,
          b_starters: 12,
          b_retained: 9,
          b_left_diploma: 1,
        },
        suppressed: {},
      },
      '90002|3|BBL': {
        institutions: { a: 2, b: 2 },
        slots: { a_enrolments: null, a_min_present: null, a_min_registered: null, b_starters: null },
        suppressed: {
          a_enrolments: { rule: 'min_institutions' },
          a_min_present: { rule: 'min_institutions' },
          a_min_registered: { rule: 'min_institutions' },
          b_starters: { rule: 'secondary' },
        },
      },
    },
    rollups: {
      total: {
        institutions: { a: 3, b: 3 },
        slots: {
          a_enrolments: 90,
          a_min_present: 2700,
          a_min_registered: 3000,
          b_starters: 30,
          b_retained: 24,
          b_left_diploma: 2,
        },
        suppressed: {},
      },
    },
    ...over,
  } as Omit<Release, 'key_holder_signature'>;
}

/** Publishing refuses a forged or tampered signature, another codebook, and a version 2 before 1. */
function assertPublishRefusesBadReleases(t: Test): void {
  const forged = signRelease(release(), generateIdentity().secretKey);
  t.throws(() => publishRelease({ db: f.db, roundId: ROUND, release: forged, now: f.now() }), {
    code: 'SB_ERR_RELEASE_SIGNATURE',
  });
  const tampered = { ...signRelease(release(), f.keyHolder.secretKey), institutions: 4 };
  t.throws(() => publishRelease({ db: f.db, roundId: ROUND, release: tampered, now: f.now() }), {
    code: 'SB_ERR_RELEASE_SIGNATURE',
  });
  const wrongCodebook = signRelease(release({ codebook_digest: 'f'.repeat(64) }), f.keyHolder.secretKey);
  t.throws(() => publishRelease({ db: f.db, roundId: ROUND, release: wrongCodebook, now: f.now() }), {
    code: 'SB_ERR_RELEASE_MISMATCH',
  });
  const v2first = signRelease(release({ release_version: 2 }), f.keyHolder.secretKey);
  t.throws(() => publishRelease({ db: f.db, roundId: ROUND, release: v2first, now: f.now() }), {
    code: 'SB_ERR_RELEASE_VERSION',
  });
}

/** The signed release as JSON and as CSV (header, a published and a suppressed figure). */
async function assertServesJsonAndCsv(t: Test, good: Release): Promise<void> {
  const j = await request(`${base}/v1/rounds/${ROUND}/release`);
  t.equal(j.statusCode, 200);
  const got = ReleaseSchema.parse(await j.body.json());
  t.same(got, good);
  const csv = await request(`${base}/v1/rounds/${ROUND}/release.csv`);
  t.match(csv.headers['content-type'], /^text\/csv/);
  const csvText = await csv.body.text();
  t.match(csvText, /^row_type,key,slot,value,suppressed_rule,institutions_a,institutions_b\r\n/);
  t.match(csvText, /cell,90001\|2\|BOL,a_min_present,900,,3,3\r\n/);
  t.match(csvText, /cell,90002\|3\|BBL,a_enrolments,,min_institutions,2,2\r\n/);
}

/**
 * The publication site: release.html leads to it; its index and sectorkamer pages are Dutch, have
 * no scripts or rule codes and show figures computed by hand; the Excel CSV, the signed JSON and
 * the key holder's fingerprint are there.
 */
async function assertServesThePublicationSite(t: Test, good: Release): Promise<void> {
  const html = await request(`${base}/v1/rounds/${ROUND}/release.html`);
  t.equal(html.statusCode, 302, 'release.html leads to the publication site');
  t.equal(html.headers.location, 'site/index.html');
  await html.body.dump();
  const index = await request(`${base}/v1/rounds/${ROUND}/site/index.html`);
  t.match(index.headers['content-type'], /^text\/html/);
  t.match(String(index.headers['content-security-policy']), /default-src 'self'/);
  const page = await index.body.text();
  t.match(page, /<html lang="nl">/);
  t.match(page, /href="sectorkamer-AAA\.html">Test, sectorkamer A<\/a>/, 'sectorkamer by name, relative link');
  t.match(page, /href="release-excel\.csv"/);
  const skRes = await request(`${base}/v1/rounds/${ROUND}/site/sectorkamer-AAA.html`);
  t.equal(skRes.statusCode, 200);
  const sk = await skRes.body.text();
  t.match(sk, /Edge A \(synthetisch\), niveau 2, BOL/);
  t.match(sk, /<td class="num">4,0%<\/td>/, 'ongeoorloofd verzuim 40/1000 of 90001|2|BOL');
  t.match(sk, /<td class="num">16,7%<\/td><td class="num">83,3%<\/td>/, 'uitval 2/12, startersresultaat (9+1)/12');
  t.match(sk, /niet gepubliceerd: minder dan 3 instellingen bieden dit aan/);
  t.notMatch(sk, /min_institutions|onderdrukt/, 'no rule codes');
  t.notMatch(page + sk, /<script/i, 'no scripts');
  const xl = await request(`${base}/v1/rounds/${ROUND}/site/release-excel.csv`);
  t.match(xl.headers['content-type'], /^text\/csv/);
  const xlBytes = Buffer.from(await xl.body.arrayBuffer());
  t.same([...xlBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'Excel CSV starts with the UTF-8 BOM');
  t.ok(xlBytes.toString('utf8').startsWith('\ufeffsoort;sleutel;naam;'), 'Excel CSV: ; separator, Dutch header');
  const missing = await request(`${base}/v1/rounds/${ROUND}/site/nothing.html`);
  t.equal(missing.statusCode, 404);
  await missing.body.dump();
  const json = await request(`${base}/v1/rounds/${ROUND}/site/release.json`);
  t.same(ReleaseSchema.parse(await json.body.json()), good, 'the site carries the signed JSON');
  const { fingerprint } = await import('../../shared/crypto/identity.js');
  t.ok(page.includes(fingerprint(f.keyHolder.publicKey)), "the key holder's fingerprint");
}

/** A second version chains to the first; the newest is served by default, version 1 on request. */
async function assertSecondVersionChains(t: Test, good: Release): Promise<void> {
  const v2 = signRelease(
    release({ release_version: 2, previous_release_digest: releaseDigest(good), institutions: 3 }),
    f.keyHolder.secretKey,
  );
  t.equal(publishRelease({ db: f.db, roundId: ROUND, release: v2, now: f.now() }).version, 2);
  const latest = ReleaseSchema.parse(await (await request(`${base}/v1/rounds/${ROUND}/release`)).body.json());
  t.equal(latest.release_version, 2);
  const v1 = ReleaseSchema.parse(await (await request(`${base}/v1/rounds/${ROUND}/release?version=1`)).body.json());
  t.equal(v1.release_version, 1);
  const status: unknown = await (await request(`${base}/v1/rounds/${ROUND}/status`)).body.json();
  t.match(status, { state: 'released', release_versions: 2 });
}

t.test('publish: refuses a bad signature, a foreign round; serves JSON, CSV, HTML', async (t) => {
  const before = await request(`${base}/v1/rounds/${ROUND}/release`);
  t.equal(before.statusCode, 404, '404 until released');
  t.equal(((await before.body.json()) as { code: string }).code, 'SB_ERR_RELEASE_UNKNOWN');
  assertPublishRefusesBadReleases(t);

  const good = signRelease(release(), f.keyHolder.secretKey);
  const stored = publishRelease({ db: f.db, roundId: ROUND, release: good, now: f.now() });
  t.equal(stored.version, 1);
  t.equal(
    publishRelease({ db: f.db, roundId: ROUND, release: good, now: f.now() }).digest,
    stored.digest,
    'publishing again is a no-op',
  );

  await assertServesJsonAndCsv(t, good);
  await assertServesThePublicationSite(t, good);
  await assertSecondVersionChains(t, good);
});

t.test('/docs serves OpenAPI and Swagger UI', async (t) => {
  const j = await request(`${base}/docs/json`);
  t.equal(j.statusCode, 200);
  const doc = (await j.body.json()) as { openapi: string; paths: Record<string, unknown> };
  t.match(doc.openapi, /^3\./);
  for (const p of [
    '/v1/health',
    '/v1/rounds/{roundId}/manifest',
    '/v1/rounds/{roundId}/contributions',
    '/v1/rounds/{roundId}/release.html',
    '/v1/rounds/{roundId}/site/{file}',
  ])
    t.ok(doc.paths[p], p);
  const ui = await fetch(`${base}/docs`);
  t.equal(ui.status, 200, 'Swagger UI served');
  t.match(await ui.text(), /swagger/i);
});

t.test('signed GET with a query: the path includes the query', async (t) => {
  const path = `/v1/rounds/${ROUND}/status?x=1`;
  const h = signRequest({
    method: 'GET',
    path,
    institutionId: 'INST1',
    secretKey: (f.institutions.INST1 as { secretKey: Uint8Array }).secretKey,
    now: f.now,
  });
  const r = await request(base + path, { headers: h });
  t.equal(r.statusCode, 200, 'public routes ignore signatures');
  await r.body.dump();
});
