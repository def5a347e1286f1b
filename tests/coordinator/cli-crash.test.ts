/**
 * The CLI end to end, and crash safety: a coordinator server in a child process is killed
 * (SIGKILL) right after acknowledging a contribution; the contribution and its receipt are in
 * the database afterwards, and a restarted server answers the retry with the same receipt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { openCoordinatorHome } from '../../coordinator/home.js';
import { currentSubmissions, submissionReceipt } from '../../coordinator/store/submissions.js';
import { writeBfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import {
  generateIdentity,
  identityFromSeed,
  readPublicIdentityFile,
  writeIdentityFiles,
  type Identity,
} from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { isSignedReceipt } from '../../shared/protocol/receipt.js';
import { signRelease } from '../../shared/protocol/round-documents.js';
import { signRequest } from '../../shared/protocol/request-signing.js';
import { runCli } from '../helpers/cli.js';
import { repoRoot, sampleDir } from '../helpers/paths.js';
import {
  bfvKeys,
  contribution,
  edgeCodebook,
  edgeVector,
  endorse,
  INSTITUTION_SEEDS,
  movableClock,
  participantsFor,
  scaled,
  type Fixture,
} from './fixture.js';

t.teardown(() => sealWorker().close());

const dir = t.testdir({});
const home = join(dir, 'coord');
const ROUND = 'live-r1';
const keys = await bfvKeys();
const codebook = await edgeCodebook();
const kh = generateIdentity();
// Fixed identities, so the key holder's endorsement (participantsFor) names their keys.
const insts: Record<string, Identity> = {
  INST1: identityFromSeed(new Uint8Array(32).fill(INSTITUTION_SEEDS.INST1 as number)),
  INST2: identityFromSeed(new Uint8Array(32).fill(INSTITUTION_SEEDS.INST2 as number)),
};
await writeIdentityFiles(kh, join(dir, 'kh.key'));
for (const [id, idn] of Object.entries(insts)) await writeIdentityFiles(idn, join(dir, `${id}.key`));
await writeBfvKeyPair(keys, { publicKey: join(dir, 'bfv.pub'), secretKey: join(dir, 'bfv.sec') });
writeFileSync(
  join(dir, 'endorsement.json'),
  JSON.stringify(endorse(kh, keys.publicKey, ROUND, { participants: participantsFor(['INST1', 'INST2']) })),
);

function ok(tt: Test, r: ReturnType<typeof runCli>, what: string) {
  tt.equal(r.code, 0, `${what}: exit 0${r.code ? `\n${r.stderr}` : ''}`);
  return r.stdout;
}

t.test('CLI: init, pin, register, open, list, status', async (t) => {
  t.match(
    ok(t, runCli(['coordinator', 'init', '--home', home, '--public-url', 'https://coordinator.example']), 'init'),
    /Fingerprint: (\d{5} ){5}\d{5}/,
  );
  t.equal(runCli(['coordinator', 'init', '--home', home]).code, 1, 'init refuses an existing home');
  const khPub = await readPublicIdentityFile(join(dir, 'kh.key.pub'));
  const { fingerprint } = await import('../../shared/crypto/identity.js');
  t.match(
    ok(t, runCli(['coordinator', 'pin-keyholder', '--home', home, '--key', join(dir, 'kh.key.pub')]), 'pin'),
    fingerprint(khPub),
  );
  for (const id of Object.keys(insts))
    ok(
      t,
      runCli(['coordinator', 'institution', 'add', '--home', home, '--id', id, '--key', join(dir, `${id}.key.pub`)]),
      `add ${id}`,
    );
  const dup = runCli([
    'coordinator',
    'institution',
    'add',
    '--home',
    home,
    '--id',
    'INST1',
    '--key',
    join(dir, 'INST1.key.pub'),
  ]);
  t.equal(dup.code, 1);
  t.match(dup.stderr, /SB_ERR_INSTITUTION_EXISTS/);
  t.match(ok(t, runCli(['coordinator', 'institution', 'list', '--home', home]), 'list'), /INST1[\s\S]*INST2/);
  const deadline = new Date(Date.now() + 86_400_000).toISOString();
  const open = runCli([
    'coordinator',
    'round',
    'open',
    '--home',
    home,
    '--round',
    ROUND,
    '--studiejaar',
    '2024',
    '--codebook',
    join(sampleDir, 'edge', 'codebook.csv'),
    '--endorsement',
    join(dir, 'endorsement.json'),
    '--he-public-key',
    join(dir, 'bfv.pub'),
    '--deadline',
    deadline,
  ]);
  t.match(ok(t, open, 'round open'), /Opened round live-r1 \(2024-2025\) with 2 participants/);
  t.match(
    ok(t, runCli(['coordinator', 'round', 'status', '--home', home, '--round', ROUND]), 'status'),
    /open; 0 of 2 participants submitted/,
  );
  t.match(ok(t, runCli(['coordinator', 'round', 'open', '--help']), 'help'), /--he-public-key/);
});

async function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'cli/run.ts'), 'coordinator', 'serve', '--home', home, '--port', '0'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+) \(/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
    setTimeout(() => reject(new Error('server did not start in time')), 60_000).unref();
  });
  return { child, url };
}

const fx = { bfv: keys, codebook, institutions: insts, ...movableClock(new Date()) } as unknown as Fixture;
async function post(url: string, id: string, wire: Uint8Array) {
  const path = `/v1/rounds/${ROUND}/contributions`;
  const headers = {
    'content-type': 'application/octet-stream',
    ...signRequest({
      method: 'POST',
      path,
      body: wire,
      institutionId: id,
      secretKey: (insts[id] as Identity).secretKey,
    }),
  };
  const r = await request(url + path, { method: 'POST', body: Buffer.from(wire), headers });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}

t.test('an acknowledged contribution survives SIGKILL; the retry gets the same receipt', async (t) => {
  fx.setNow(new Date());
  const c = await contribution(fx, 'INST1', edgeVector(codebook), { roundId: ROUND });
  const s1 = await serve();
  const r = await post(s1.url, 'INST1', c.wire);
  t.equal(r.status, 201);
  s1.child.kill('SIGKILL');
  await new Promise((res) => s1.child.once('exit', res));

  const h = await openCoordinatorHome(home);
  const cur = currentSubmissions(h.db, ROUND);
  t.equal(cur.length, 1, 'the acknowledged submission is there');
  t.equal(cur[0]?.envelopeDigest, r.body.envelope_digest);
  const stored = submissionReceipt(h.db, cur[0]?.id as number);
  t.same(stored, r.body, 'with the receipt that was returned');
  t.ok(isSignedReceipt(stored, h.identity.publicKey));
  h.db.close();

  const s2 = await serve();
  const again = await post(s2.url, 'INST1', c.wire);
  t.equal(again.status, 200);
  t.same(again.body, r.body, 'same receipt after restart');
  fx.setNow(new Date());
  const c2 = await contribution(fx, 'INST2', scaled(edgeVector(codebook), 2), { roundId: ROUND });
  t.equal((await post(s2.url, 'INST2', c2.wire)).status, 201);
  s2.child.kill('SIGTERM');
  const code = await new Promise((res) => s2.child.once('exit', (c) => res(c)));
  t.equal(code, 0, 'graceful shutdown on SIGTERM');
});

t.test('CLI: close, publish, revoke', async (t) => {
  const bundle = join(dir, 'bundle');
  t.match(
    ok(t, runCli(['coordinator', 'round', 'close', '--home', home, '--round', ROUND, '--bundle', bundle]), 'close'),
    /2 of 2 participants contributed/,
  );
  const h = await openCoordinatorHome(home);
  const m = (await import('../../coordinator/store/rounds.js')).getRound(h.db, ROUND).manifest;
  h.db.close();
  const release = signRelease(
    {
      type: 'sectorbench.release',
      version: 1,
      round_id: ROUND,
      release_version: 1,
      previous_release_digest: null,
      studiejaar: '2024-2025',
      metric_spec: 'v1',
      codebook_digest: m.codebook.digest,
      institutions: 2,
      thresholds: m.thresholds,
      published_at: new Date().toISOString(),
      cells: {},
      rollups: {},
    },
    kh.secretKey,
  );
  writeFileSync(join(dir, 'release.json'), JSON.stringify(release));
  t.match(
    ok(
      t,
      runCli([
        'coordinator',
        'round',
        'publish',
        '--home',
        home,
        '--round',
        ROUND,
        '--release',
        join(dir, 'release.json'),
      ]),
      'publish',
    ),
    /Published release version 1/,
  );
  t.match(ok(t, runCli(['coordinator', 'round', 'status', '--home', home]), 'status'), /released; 2 of 2/);
  ok(t, runCli(['coordinator', 'institution', 'revoke', '--home', home, '--id', 'INST2']), 'revoke');
  t.match(ok(t, runCli(['coordinator', 'institution', 'list', '--home', home]), 'list'), /INST2 .* REVOKED/);
});
