/**
 * bench/reliability/kill9: kill -9 trials against the coordinator (issue 13). Each trial opens a
 * round on one coordinator home and runs it through submission, close and publication, killing
 * (SIGKILL) one process at a random moment of one phase:
 *
 * - `submit`: the server (`sectorbench coordinator serve`, its own process) while K nodes submit
 *   at once (some send their envelope twice, as a node retrying a lost answer does);
 * - `close`: `sectorbench coordinator round close` (its own process), then closed again;
 * - `publish`: `sectorbench coordinator round publish`, then published again.
 *
 * After each kill the database is opened and checked: every acknowledged submission is there with
 * the receipt the node got (none lost), each envelope stored once and at most one current
 * submission per institution (none duplicated); the restarted server answers every acknowledged
 * envelope with the same receipt; the bundle holds exactly the acknowledged contributions and its
 * sum is the sum of exactly those; the round has one release. Prints a table (also as JSON).
 *
 *   node --import tsx bench/reliability/kill9.ts [--trials 25] [--institutions 8] [--seed 1] [--keep DIR]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { closeRound } from '../../coordinator/rounds/close-round.js';
import { openRound } from '../../coordinator/rounds/open-round.js';
import { publishRelease } from '../../coordinator/rounds/publish-release.js';
import { initCoordinator, openCoordinatorHome } from '../../coordinator/home.js';
import { openCoordinatorDb, type CoordinatorDb } from '../../coordinator/store/db.js';
import { addInstitution } from '../../coordinator/store/institutions.js';
import { pinKeyHolder } from '../../coordinator/store/pins.js';
import { listReleases } from '../../coordinator/store/releases.js';
import { getRound } from '../../coordinator/store/rounds.js';
import { allSubmissions, findSubmissionByDigest, submissionReceipt } from '../../coordinator/store/submissions.js';
import { bfvPublicKeyDigest, generateBfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { generateIdentity, type Identity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { sumContributions } from '../../shared/crypto/sum.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { codebookDigest } from '../../shared/metrics/codebook.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { readBundle } from '../../shared/protocol/bundle.js';
import { buildEnvelope, envelopeDigest, signEnvelope } from '../../shared/protocol/envelope.js';
import { flatten } from '../../shared/protocol/layout.js';
import { signEndorsement, signRelease } from '../../shared/protocol/round-documents.js';
import { signRequest } from '../../shared/protocol/request-signing.js';
import { encodeContribution, parseContribution } from '../../shared/protocol/wire.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const edgeDir = resolve(repo, '../shared/sample/edge');

/** Phases a trial can kill in. */
export type KillPhase = 'submit' | 'close' | 'publish';

/** Outcome of {@link runKill9Trials}. */
export interface Kill9Summary {
  trials: number;
  institutions: number;
  kills: Record<KillPhase, number>;
  /** Submissions acknowledged to a node before a kill or after it. */
  acknowledged: number;
  /** Acknowledged submissions missing, or stored with another receipt, after a kill. */
  lost: number;
  /** Envelopes stored twice, institutions with two current submissions, receipts answered differently. */
  duplicated: number;
  /** Committed before the kill but the node never got the answer: its resend got the stored receipt (200). */
  committedUnacknowledged: number;
  /** Bundles whose contributions or sum differ from the acknowledged set. */
  badBundles: number;
  /** Rounds with other than exactly one published release after a publish kill. */
  badReleases: number;
  /** Kills that landed after the killed process had finished its work (submit: every node already answered). */
  killedBeforeDone: number;
  seconds: number;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cliArgs = (args: string[]) => ['--import', 'tsx', join(repo, 'cli/run.ts'), ...args];

function startServer(home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, cliArgs(['coordinator', 'serve', '--home', home, '--port', '0']), {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolveStart, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+) \(/.exec(out);
      if (m) resolveStart({ child, url: m[1] as string });
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) =>
      reject(new Error(`coordinator exited (${code}) before listening: ${err.slice(-500)}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Run the CLI in a child; with `killAfterMs`, SIGKILL it then (if still running). Resolves with its exit code. */
async function runCliChild(
  args: string[],
  killAfterMs?: number,
): Promise<{ code: number | null; killed: boolean; out: string }> {
  const child = spawn(process.execPath, cliArgs(args), { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let killed = false;
  const timer =
    killAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          if (child.exitCode === null) {
            killed = child.kill('SIGKILL');
          }
        }, killAfterMs);
  const code = await exited(child);
  if (timer) clearTimeout(timer);
  return { code, killed: killed && code === null, out };
}

interface Node {
  id: string;
  identity: Identity;
}

async function post(url: string, roundId: string, node: Node, wire: Uint8Array) {
  const path = `/v1/rounds/${roundId}/contributions`;
  const headers = {
    'content-type': 'application/octet-stream',
    ...signRequest({ method: 'POST', path, body: wire, institutionId: node.id, secretKey: node.identity.secretKey }),
  };
  const r = await request(url + path, { method: 'POST', body: Buffer.from(wire), headers });
  const text = await r.body.text();
  return { status: r.statusCode, json: JSON.parse(text) as Record<string, unknown> };
}

/** What every trial shares: the coordinator home, the key holder, the nodes and their ciphertexts. */
interface Kill9Setup {
  work: string;
  home: string;
  adminIdentity: Identity;
  kh: Identity;
  nodes: Node[];
  codebook: Awaited<ReturnType<typeof readCodebookFile>>;
  bfv: Awaited<ReturnType<typeof generateBfvKeyPair>>;
  /** Real ciphertexts, encrypted once per institution and reused each round (the envelopes differ). */
  ciphertexts: Uint8Array[][];
}

/** One trial's state: its round, phase, the nodes' contributions and the receipts they got. */
interface Trial {
  /** 1-based, for the log. */
  n: number;
  roundId: string;
  phase: KillPhase;
  wires: { wire: Uint8Array; digest: string }[];
  acks: Map<string, Record<string, unknown>>;
}

/** Seeded kill moments, the progress log and the running summary. */
interface Kill9Run {
  setup: Kill9Setup;
  random: () => number;
  log: (line: string) => void;
  s: Kill9Summary;
}

const dbPath = (home: string): string => join(home, 'coordinator.sqlite');

/** A fresh coordinator home with a pinned key holder and K enrolled institutions; one BFV key pair. */
async function setUpCoordinator(work: string, K: number): Promise<Kill9Setup> {
  const home = join(work, 'coordinator');
  rmSync(home, { recursive: true, force: true });
  await initCoordinator({ home, host: '127.0.0.1', port: 0 });
  const admin = await openCoordinatorHome(home);
  admin.db.close();
  const db0 = openCoordinatorDb(dbPath(home));
  const kh = generateIdentity();
  pinKeyHolder(db0, { publicKey: kh.publicKey, now: new Date() });
  const nodes: Node[] = Array.from({ length: K }, (_, i) => ({ id: `K9-${i + 1}`, identity: generateIdentity() }));
  for (const n of nodes) addInstitution(db0, { id: n.id, publicKey: n.identity.publicKey, now: new Date() });
  db0.close();

  const codebook = await readCodebookFile(join(edgeDir, 'codebook.csv'));
  const vector = vectorFromJson(
    codebook,
    JSON.parse(readFileSync(join(edgeDir, 'expected.json'), 'utf8')) as VectorJson,
  );
  const bfv = await generateBfvKeyPair();
  const ciphertexts = await Promise.all(
    nodes.map(() => encryptSlots(bfv.publicKey, flatten(codebook, vector, { maxParticipants: 100 }))),
  );
  return { work, home, adminIdentity: admin.identity, kh, nodes, codebook, bfv, ciphertexts };
}

/** Open round `roundId` with a key-holder endorsement enrolling every node. */
async function openTrialRound(setup: Kill9Setup, roundId: string): Promise<void> {
  const { nodes, bfv, kh } = setup;
  const dbo = openCoordinatorDb(dbPath(setup.home));
  try {
    await openRound({
      db: dbo,
      identity: setup.adminIdentity,
      roundId,
      studiejaar: 2024,
      codebook: setup.codebook,
      endorsement: signEndorsement(
        {
          type: 'sectorbench.key-holder-endorsement',
          version: 1,
          round_id: roundId,
          he_params: 'bfv-n4096-t40-tc128-v1',
          he_public_key_digest: bfvPublicKeyDigest(bfv.publicKey),
          max_participants: 100,
          thresholds: {
            min_institutions: 3,
            min_population: 10,
            dominance_share: 0.85,
            min_institutions_distribution: 5,
          },
          // The key holder's own enrolment of the institutions (issue 11), fictitious BRIN codes.
          participants: nodes.map((n, i) => ({
            institution_id: n.id,
            name: n.id,
            brin: `99${String(i + 1).padStart(2, '0')}`,
            ed25519_public_key: Buffer.from(n.identity.publicKey).toString('base64'),
          })),
          endorsed_at: new Date().toISOString(),
        },
        kh,
      ),
      hePublicKey: bfv.publicKey,
      participants: nodes.map((n) => n.id),
      deadline: new Date(Date.now() + 86_400_000),
      publicUrl: 'http://127.0.0.1:8443',
      now: new Date(),
    });
  } finally {
    dbo.close();
  }
}

/** Each node's signed envelope for `roundId`, as a contribution wire with its envelope digest. */
function trialWires(setup: Kill9Setup, roundId: string): { wire: Uint8Array; digest: string }[] {
  const { codebook, bfv, ciphertexts } = setup;
  return setup.nodes.map((n, i) => {
    const envelope = signEnvelope(
      buildEnvelope({
        roundId,
        institutionId: n.id,
        codebookDigest: codebookDigest(codebook),
        hePublicKeyDigest: bfvPublicKeyDigest(bfv.publicKey),
        ciphertexts: ciphertexts[i] as Uint8Array[],
        createdAt: new Date(),
      }),
      n.identity.secretKey,
    );
    return {
      wire: encodeContribution({ envelope, ciphertexts: ciphertexts[i] as Uint8Array[] }),
      digest: envelopeDigest(envelope),
    };
  });
}

/** Every node submits at once (every third twice, as a node retrying a lost answer does); receipts go to `t.acks`. */
async function sendAll(run: Kill9Run, t: Trial, url: string): Promise<void> {
  await Promise.all(
    run.setup.nodes.map(async (n, i) => {
      for (let k = 0; k < (i % 3 === 0 ? 2 : 1); k++) {
        try {
          const r = await post(url, t.roundId, n, (t.wires[i] as { wire: Uint8Array }).wire);
          if (r.status === 200 || r.status === 201) {
            const before = t.acks.get(n.id);
            if (before && JSON.stringify(before) !== JSON.stringify(r.json)) run.s.duplicated++;
            t.acks.set(n.id, r.json);
          }
        } catch {
          // Connection reset by the kill: not acknowledged.
        }
      }
    }),
  );
}

/**
 * Submit-phase kill: SIGKILL the server at a seeded moment while the nodes submit, check the
 * database as the kill left it, restart the server and resend. Returns the restarted server.
 */
async function killDuringSubmit(
  run: Kill9Run,
  t: Trial,
  server: { child: ChildProcess; url: string },
): Promise<{ child: ChildProcess; url: string }> {
  const { setup, s } = run;
  const K = setup.nodes.length;
  s.kills.submit++;
  const delay = run.random() * 1500;
  const sending = sendAll(run, t, server.url);
  await new Promise((r) => setTimeout(r, delay));
  server.child.kill('SIGKILL');
  await exited(server.child);
  await sending;
  const ackedAtKill = t.acks.size;
  if (ackedAtKill === K) s.killedBeforeDone++;
  // Check the database as the kill left it.
  const db = openCoordinatorDb(dbPath(setup.home));
  try {
    checkStored(db, t.roundId, setup.nodes, t.wires, t.acks, s);
    // Committed, but the answer never reached the node: its resend must get the stored receipt.
    for (const n of setup.nodes)
      if (!t.acks.has(n.id) && allSubmissions(db, t.roundId).some((r) => r.institutionId === n.id))
        s.committedUnacknowledged++;
  } finally {
    db.close();
  }
  run.log(`trial ${t.n} (submit): killed after ${delay.toFixed(0)} ms, ${ackedAtKill} of ${K} acknowledged`);
  const restarted = await startServer(setup.home);
  const before = new Map(t.acks);
  await sendAll(run, t, restarted.url);
  for (const [id, receipt] of before) {
    if (JSON.stringify(t.acks.get(id)) !== JSON.stringify(receipt)) s.duplicated++;
  }
  return restarted;
}

/** 1. Submission (the server is killed in submit trials); every node acknowledged at the end. */
async function submitPhase(run: Kill9Run, t: Trial): Promise<void> {
  const { setup, s } = run;
  const K = setup.nodes.length;
  let server = await startServer(setup.home);
  if (t.phase === 'submit') server = await killDuringSubmit(run, t, server);
  else await sendAll(run, t, server.url);
  server.child.kill('SIGTERM');
  await exited(server.child);
  if (t.acks.size !== K) throw new Error(`trial ${t.n}: ${t.acks.size} of ${K} acknowledged after the restart`);
  s.acknowledged += K;
  const db = openCoordinatorDb(dbPath(setup.home));
  try {
    checkStored(db, t.roundId, setup.nodes, t.wires, t.acks, s);
  } finally {
    db.close();
  }
}

/** Run a CLI command killed at a seeded moment 1 to 6 s in, then again to completion; logs the outcome. */
async function killCliThenRerun(run: Kill9Run, t: Trial, args: string[], again: string): Promise<void> {
  const delay = 1000 + run.random() * 5000;
  const r = await runCliChild(args, delay);
  if (!r.killed) run.s.killedBeforeDone++;
  const rerun = await runCliChild(args);
  if (rerun.code !== 0) throw new Error(`${args[2]} after the kill failed: ${rerun.out}`);
  run.log(
    `trial ${t.n} (${t.phase}): ${r.killed ? `killed after ${delay.toFixed(0)} ms` : 'finished before the kill'}; ${again}`,
  );
}

/** 2. Close (`round close` killed in close trials); returns the bundle directory. */
async function closePhase(run: Kill9Run, t: Trial): Promise<string> {
  const { home, work } = run.setup;
  const bundle = join(work, `bundle-${t.roundId}`);
  if (t.phase === 'close') {
    run.s.kills.close++;
    const args = ['coordinator', 'round', 'close', '--home', home, '--round', t.roundId, '--bundle', bundle];
    await killCliThenRerun(run, t, args, 'closed again');
  } else {
    const db = openCoordinatorDb(dbPath(home));
    try {
      closeRound({ db, roundId: t.roundId, bundleDir: bundle, now: new Date() });
    } finally {
      db.close();
    }
  }
  return bundle;
}

/** The bundle holds exactly the acknowledged contributions and their sum; the round closed once. */
function checkBundle(run: Kill9Run, t: Trial, bundle: string): void {
  const b = readBundle(bundle);
  const want = [...t.wires.map((w) => w.digest)].sort();
  const got = b.contributions.map((c) => c.envelopeDigest).sort();
  const sum = sumContributions(
    t.wires.map((w) => parseContribution(w.wire, { validate: false }).ciphertexts),
    b.sum.length,
  );
  const sameSum = sum.every((c, k) => Buffer.compare(c, b.sum[k] as Uint8Array) === 0);
  if (JSON.stringify(want) !== JSON.stringify(got) || !sameSum) run.s.badBundles++;
  const db = openCoordinatorDb(dbPath(run.setup.home), { readonly: true });
  try {
    const closes = db
      .prepare("SELECT COUNT(*) AS n FROM events WHERE round_id = ? AND kind = 'round.closed'")
      .get(t.roundId) as { n: number };
    if (closes.n !== 1 || getRound(db, t.roundId).state !== 'closed') run.s.badBundles++;
  } finally {
    db.close();
  }
}

/** A release signed by the key holder (only the coordinator's side is under test here). */
function signedRelease(setup: Kill9Setup, roundId: string) {
  const dbm = openCoordinatorDb(dbPath(setup.home), { readonly: true });
  const m = getRound(dbm, roundId).manifest;
  dbm.close();
  return signRelease(
    {
      type: 'sectorbench.release',
      version: 1,
      round_id: roundId,
      release_version: 1,
      previous_release_digest: null,
      studiejaar: '2024-2025',
      metric_spec: 'v1',
      codebook_digest: m.codebook.digest,
      institutions: setup.nodes.length,
      thresholds: m.thresholds,
      published_at: new Date().toISOString(),
      cells: {},
      rollups: {},
    },
    setup.kh.secretKey,
  );
}

/** 3. Publish (`round publish` killed in publish trials); then exactly one release, round released. */
async function publishPhase(run: Kill9Run, t: Trial): Promise<void> {
  const { home, work } = run.setup;
  const release = signedRelease(run.setup, t.roundId);
  const releaseFile = join(work, `release-${t.roundId}.json`);
  writeFileSync(releaseFile, JSON.stringify(release));
  const pubArgs = ['coordinator', 'round', 'publish', '--home', home, '--round', t.roundId, '--release', releaseFile];
  if (t.phase === 'publish') {
    run.s.kills.publish++;
    await killCliThenRerun(run, t, pubArgs, 'published again');
  } else {
    const dbp = openCoordinatorDb(dbPath(home));
    try {
      publishRelease({ db: dbp, roundId: t.roundId, release, now: new Date() });
    } finally {
      dbp.close();
    }
  }
  const dbr = openCoordinatorDb(dbPath(home), { readonly: true });
  try {
    const rs = listReleases(dbr, t.roundId);
    if (rs.length !== 1 || rs[0]?.version !== 1 || getRound(dbr, t.roundId).state !== 'released') run.s.badReleases++;
  } finally {
    dbr.close();
  }
}

/**
 * Run `trials` kill -9 trials (phases in turn submit, close, publish; kill moments seeded).
 * @param o.log progress lines
 */
export async function runKill9Trials(o: {
  trials: number;
  institutions?: number;
  seed?: number;
  work?: string;
  log?: (line: string) => void;
}): Promise<Kill9Summary> {
  const t0 = performance.now();
  const K = o.institutions ?? 8;
  const work = o.work ?? mkdtempSync(join(tmpdir(), 'sb-kill9-'));
  const setup = await setUpCoordinator(work, K);
  const s: Kill9Summary = {
    trials: o.trials,
    institutions: K,
    kills: { submit: 0, close: 0, publish: 0 },
    acknowledged: 0,
    lost: 0,
    duplicated: 0,
    committedUnacknowledged: 0,
    badBundles: 0,
    badReleases: 0,
    killedBeforeDone: 0,
    seconds: 0,
  };
  const run: Kill9Run = { setup, random: rng(o.seed ?? 1), log: o.log ?? (() => {}), s };
  const phases: KillPhase[] = ['submit', 'close', 'publish'];
  try {
    for (let trial = 0; trial < o.trials; trial++) {
      const roundId = `k9-${trial + 1}`;
      await openTrialRound(setup, roundId);
      const t: Trial = {
        n: trial + 1,
        roundId,
        phase: phases[trial % phases.length] as KillPhase,
        wires: trialWires(setup, roundId),
        acks: new Map(),
      };
      await submitPhase(run, t);
      checkBundle(run, t, await closePhase(run, t));
      await publishPhase(run, t);
    }
  } finally {
    if (!o.work) rmSync(work, { recursive: true, force: true });
  }
  s.seconds = Math.round((performance.now() - t0) / 1000);
  return s;
}

/** Every acknowledged submission stored with the receipt the node got; no envelope twice; one current per institution. */
function checkStored(
  db: CoordinatorDb,
  roundId: string,
  nodes: Node[],
  wires: { wire: Uint8Array; digest: string }[],
  acks: Map<string, Record<string, unknown>>,
  s: Kill9Summary,
): void {
  const all = allSubmissions(db, roundId);
  nodes.forEach((n, i) => {
    const rows = all.filter((r) => r.institutionId === n.id);
    if (rows.filter((r) => r.supersededBy === null).length > 1) s.duplicated++;
    if (rows.filter((r) => r.envelopeDigest === (wires[i] as { digest: string }).digest).length > 1) s.duplicated++;
    const ack = acks.get(n.id);
    if (!ack) return;
    const row = findSubmissionByDigest(db, roundId, n.id, String(ack.envelope_digest));
    if (!row || JSON.stringify(submissionReceipt(db, row.id)) !== JSON.stringify(ack)) s.lost++;
  });
  if (new Set(all.map((r) => r.sequence)).size !== all.length) s.duplicated++;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => {
    const i = args.indexOf(`--${name}`);
    const value = i >= 0 ? args[i + 1] : undefined;
    return value ? value : def;
  };
  const keep = args.includes('--keep') ? resolve(opt('keep', '')) : undefined;
  try {
    const s = await runKill9Trials({
      trials: Number(opt('trials', '25')),
      institutions: Number(opt('institutions', '8')),
      seed: Number(opt('seed', '1')),
      ...(keep ? { work: keep } : {}),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    const rows: [string, string][] = [
      [
        'trials (kills: submit / close / publish)',
        `${s.trials} (${s.kills.submit} / ${s.kills.close} / ${s.kills.publish})`,
      ],
      ['institutions per round', String(s.institutions)],
      ['acknowledged submissions', String(s.acknowledged)],
      ['acknowledged submissions lost', String(s.lost)],
      ['duplicated (envelope twice, two current, receipt changed)', String(s.duplicated)],
      ['bundles not exactly the acknowledged set and its sum', String(s.badBundles)],
      ['rounds without exactly one release', String(s.badReleases)],
      ['committed but unacknowledged at the kill (resend got the stored receipt)', String(s.committedUnacknowledged)],
      ['kills that landed after the phase had finished', String(s.killedBeforeDone)],
      ['wall time', `${s.seconds} s`],
    ];
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(60)} ${v}\n`);
    process.stdout.write(`${JSON.stringify(s)}\n`);
    process.exitCode = s.lost || s.duplicated || s.badBundles || s.badReleases ? 1 : 0;
  } finally {
    await sealWorker().close();
  }
}
