// TLS (issue 16, item 4): `coordinator init` with a private coalition CA or given certificate
// files; nodes pin the CA or the certificate's SHA-256 at enrolment and refuse anything else;
// a full round over real TLS on loopback.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, savePublishedRelease, submitAll, writeAllBenchmarks } from '../../demo/local-round.js';
import { initCoordinator, startServer } from '../../coordinator/index.js';
import { coordinatorDoctor } from '../../coordinator/ops/doctor.js';
import { initNode } from '../../node/client/init.js';
import { identityPath, readNodeConfig } from '../../node/client/config.js';
import { clientForNode } from '../../node/client/coordinator-client.js';
import { submitContribution } from '../../node/round/submit.js';
import { readIdentityFile } from '../../shared/crypto/identity.js';
import { nodeDoctor } from '../../node/ops/doctor.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { runCli } from '../helpers/cli.js';
import { sampleDir } from '../helpers/paths.js';
import { startRound } from '../helpers/round-harness.js';

const THRESHOLDS = { min_institutions: 2, min_population: 25, dominance_share: 0.85, min_institutions_distribution: 5 };
const sector = JSON.parse(readFileSync(join(sampleDir, 'expected/sector.json'), 'utf8')) as {
  cells: Record<string, Record<string, number>>;
};

/** The fingerprint as the openssl command computes it (independent of node:crypto). */
function opensslFingerprint(file: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', file], { encoding: 'utf8' })
    .trim()
    .replace(/^.*=/, '');
}

/** The node's client as its commands open it (config, identity, the pinned dispatcher). */
async function openClient(o: { home: string }) {
  const config = readNodeConfig(o.home);
  const identity = await readIdentityFile(identityPath(o.home, config));
  return { client: clientForNode(config, identity, { home: o.home }) };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return isSbError(e) ? e.code : `uncoded: ${(e as Error).message}`;
  }
}

t.test('coordinator init --tls-ca: a coalition CA and a server certificate for the public host', async (t) => {
  const dir = t.testdir();
  const home = join(dir, 'coordinator');
  const r = runCli(['coordinator', 'init', '--home', home, '--port', '0', '--tls-ca', 'Coalitie mbo (test)']);
  t.equal(r.code, 0, r.stderr);
  const ca = new X509Certificate(readFileSync(join(home, 'tls/ca.pem')));
  const cert = new X509Certificate(readFileSync(join(home, 'tls/server.pem')));
  t.ok(ca.ca, 'the CA certificate is a CA');
  t.notOk(cert.ca, 'the server certificate is not');
  t.ok(cert.verify(ca.publicKey), 'the server certificate is signed by the coalition CA');
  t.equal(cert.subjectAltName, 'IP Address:127.0.0.1', 'valid for the public URL host');
  t.equal(statSync(join(home, 'tls/ca-key.pem')).mode & 0o777, 0o600);
  t.equal(statSync(join(home, 'tls/server-key.pem')).mode & 0o777, 0o600);
  t.match(r.stdout, new RegExp(`SHA-256 fingerprint, to read out: ${opensslFingerprint(join(home, 'tls/ca.pem'))}`));
  const cfg = JSON.parse(readFileSync(join(home, 'coordinator.json'), 'utf8'));
  t.same(cfg.tls, { cert_file: 'tls/server.pem', key_file: 'tls/server-key.pem', ca_file: 'tls/ca.pem' });
  t.match(cfg.public_url, /^https:\/\//);
  const doc = await coordinatorDoctor({ home });
  t.equal(doc.checks.find((c) => c.name === 'tls')?.status, 'OK', 'doctor: certificate valid, key 0600 and matching');

  // Given files: the fingerprint printed is the one openssl computes.
  const other = join(dir, 'given');
  const g = runCli([
    'coordinator',
    'init',
    '--home',
    other,
    '--port',
    '0',
    '--tls-cert',
    join(home, 'tls/server.pem'),
    '--tls-key',
    join(home, 'tls/server-key.pem'),
  ]);
  t.equal(g.code, 0, g.stderr);
  t.match(g.stdout, new RegExp(`--coordinator-cert-sha256': ${opensslFingerprint(join(home, 'tls/server.pem'))}`));
  t.equal(statSync(join(other, 'tls/server-key.pem')).mode & 0o777, 0o600, 'the given key is copied 0600');

  const half = runCli(['coordinator', 'init', '--home', join(dir, 'half'), '--tls-cert', join(home, 'tls/server.pem')]);
  t.equal(half.code, 1);
  t.match(half.stderr, /^error SB_ERR_USAGE: --tls-cert and --tls-key go together/);
  const wrongKey = runCli([
    'coordinator',
    'init',
    '--home',
    join(dir, 'wrong'),
    '--tls-cert',
    join(home, 'tls/server.pem'),
    '--tls-key',
    join(home, 'tls/ca-key.pem'),
  ]);
  t.equal(wrongKey.code, 1);
  t.match(wrongKey.stderr, /^error SB_ERR_TLS_CERT: .*is not the private key of --tls-cert/);
});

t.test('a node refuses a coordinator certificate it did not pin', async (t) => {
  const dir = t.testdir();
  const a = await initCoordinator({ home: join(dir, 'a'), host: '127.0.0.1', port: 0, tls: { ca: {} } });
  const b = await initCoordinator({ home: join(dir, 'b'), host: '127.0.0.1', port: 0, tls: { ca: {} } });
  const sa = await startServer({ home: a.home, host: '127.0.0.1', port: 0, logger: false });
  t.teardown(() => sa.close());
  const sb = await startServer({ home: b.home, host: '127.0.0.1', port: 0, logger: false });
  t.teardown(() => sb.close());
  t.match(sa.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const pub = `${a.identityPath}.pub`;

  // Plain HTTP and a missing pin are refused at enrolment.
  const nopin = runCli([
    'node',
    'init',
    '--home',
    join(dir, 'nopin'),
    '--institution',
    'inst-1',
    '--coordinator',
    sa.url,
    '--coordinator-key',
    pub,
    '--key-holder-key',
    pub,
  ]);
  t.equal(nopin.code, 1);
  t.match(nopin.stderr, /SB_ERR_USAGE: .*is https: pin its TLS certificate at enrolment/);

  // Pinned to A's CA: A answers; B (another CA, same address) is refused, nothing retried.
  const caNode = join(dir, 'ca-node');
  await initNode({
    home: caNode,
    institutionId: 'inst-1',
    coordinatorUrl: sa.url,
    coordinatorKeyFile: pub,
    keyHolderKeyFile: pub,
    coordinatorCaFile: join(a.home, 'tls/ca.pem'),
  });
  const ok = await nodeDoctor({ home: caNode });
  t.equal(ok.checks.find((c) => c.name === 'clock')?.status, 'OK', 'the pinned coordinator answers over TLS');
  const cfgFile = join(caNode, 'node.json');
  const cfg = readFileSync(cfgFile, 'utf8');
  writeFileSync(cfgFile, cfg.replace(sa.url, sb.url));
  const { client: toB } = await openClient({ home: caNode });
  t.equal(await codeOf(toB.send('GET', '/v1/health')), 'SB_ERR_TLS_PIN', 'another CA: refused');
  const sub = await codeOf(submitContribution({ home: caNode, roundId: 'r1' }));
  t.equal(sub, 'SB_ERR_TLS_PIN', 'submit refuses before sending anything');
  const doc = await nodeDoctor({ home: caNode });
  t.equal(doc.checks.find((c) => c.name === 'clock')?.status, 'FAIL', 'doctor: FAIL on the unpinned certificate');
  t.match(doc.checks.find((c) => c.name === 'clock')?.detail ?? '', /not the one pinned at enrolment/);
  writeFileSync(cfgFile, cfg);
  // The CA file swapped for another CA: refused too (its fingerprint is checked on every use).
  writeFileSync(join(caNode, 'coordinator-ca.pem'), readFileSync(join(b.home, 'tls/ca.pem')));
  t.equal(await codeOf(openClient({ home: caNode })), 'SB_ERR_TLS_PIN', 'a swapped CA file is refused');

  // Pinned to A's certificate fingerprint: A answers, B is refused.
  const fpNode = join(dir, 'fp-node');
  await initNode({
    home: fpNode,
    institutionId: 'inst-2',
    coordinatorUrl: sa.url,
    coordinatorKeyFile: pub,
    keyHolderKeyFile: pub,
    coordinatorCertSha256: opensslFingerprint(join(a.home, 'tls/server.pem')).replace(/:/g, '').toLowerCase(),
  });
  const fpOk = await nodeDoctor({ home: fpNode });
  t.equal(fpOk.checks.find((c) => c.name === 'clock')?.status, 'OK', 'the pinned certificate answers');
  const fpCfg = join(fpNode, 'node.json');
  writeFileSync(fpCfg, readFileSync(fpCfg, 'utf8').replace(sa.url, sb.url));
  const { client: fpB } = await openClient({ home: fpNode });
  t.equal(await codeOf(fpB.send('GET', '/v1/health')), 'SB_ERR_TLS_PIN', 'another certificate: refused');
});

t.test('a full round over real TLS on loopback', async (t) => {
  const dir = t.testdir();
  const round = await startRound(dir, { thresholds: THRESHOLDS, tls: true });
  t.teardown(() => round.stop());
  t.match(round.coordinator.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the coordinator serves https');
  const plain = await codeOf(request(`${round.coordinator.url.replace('https:', 'http:')}/v1/health`));
  t.not(plain, 'no error', 'plain HTTP to the TLS port gets no answer');
  const submitted = await submitAll(round, approveAsPrivacyOfficer);
  t.equal(submitted.size, 3, 'three contributions receipted over TLS');
  const { release } = await closeAndRelease(round);
  t.equal(release.institutions, 3);
  let compared = 0;
  for (const [key, row] of Object.entries(release.cells)) {
    const v = row.slots.a_enrolments;
    if (v === null || v === undefined) continue;
    t.equal(v, sector.cells[key]?.a_enrolments ?? 0, `${key}: a_enrolments as sample/expected/sector.json`);
    compared++;
  }
  t.ok(compared > 0, `${compared} published cells compared with sector.json`);
  const site = await savePublishedRelease(round);
  t.same(JSON.parse(readFileSync(site.json, 'utf8')), release, 'the published release, fetched over TLS');
  const pages = await writeAllBenchmarks(round);
  t.equal(pages.size, 3, 'every node fetched and verified the release over TLS');
});
