/**
 * Issue 13: one participant's bad contribution (encrypted under another BFV key) makes the key
 * holder refuse the round and name it; the coordinator operator excludes it (CLI), the
 * institution is told why on its next request and status, the round is closed again without
 * it, and the key holder releases the sum of the others: every published figure equals the
 * reference sum of ../shared/sample/expected/inst-1.json and inst-2.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { submitAll } from '../../demo/local-round.js';
import { excludeContribution } from '../../coordinator/rounds/exclude.js';
import { closeRound } from '../../coordinator/rounds/close-round.js';
import { listExclusions } from '../../coordinator/store/exclusions.js';
import { getRound } from '../../coordinator/store/rounds.js';
import { releaseRoundDetailed } from '../../keyholder/release.js';
import { identityPath, readNodeConfig } from '../../node/client/config.js';
import { CoordinatorClient } from '../../node/client/coordinator-client.js';
import { bfvPublicKeyDigest, generateBfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { readIdentityFile } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { codebookDigest } from '../../shared/metrics/codebook.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { readBundle } from '../../shared/protocol/bundle.js';
import { buildEnvelope, signEnvelope } from '../../shared/protocol/envelope.js';
import { flatten } from '../../shared/protocol/layout.js';
import { encodeContribution } from '../../shared/protocol/wire.js';
import { runCli } from '../helpers/cli.js';
import { sampleDir } from '../helpers/paths.js';
import { startRound } from '../helpers/round-harness.js';

t.teardown(() => sealWorker().close());

type Rows = Record<string, Record<string, number>>;
const expected = (id: string) =>
  JSON.parse(readFileSync(join(sampleDir, 'expected', `${id}.json`), 'utf8')) as VectorJson;
const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));

type Round = Awaited<ReturnType<typeof startRound>>;
type RoundNode = Round['nodes'][number];
const reason = 'SB_ERR_CULPRITS: no noise budget under the round key (encrypted under another key)';

/** inst-3 sends a correctly signed contribution encrypted under another BFV key; the coordinator acknowledges it. */
async function sendForeignContribution(t: Test, round: Round, n3: RoundNode) {
  // inst-3 sends a correctly signed contribution encrypted under another BFV key.
  const config = readNodeConfig(n3.home);
  const idn = await readIdentityFile(identityPath(n3.home, config));
  const manifest = getRound(round.coordinator.db, round.roundId).manifest;
  const foreign = await generateBfvKeyPair();
  const ciphertexts = await encryptSlots(
    foreign.publicKey,
    flatten(codebook, vectorFromJson(codebook, expected('inst-3')), { maxParticipants: manifest.max_participants }),
  );
  const envelope = signEnvelope(
    buildEnvelope({
      roundId: round.roundId,
      institutionId: n3.id,
      codebookDigest: codebookDigest(codebook),
      hePublicKeyDigest: manifest.he_public_key.digest,
      ciphertexts,
      createdAt: round.now(),
    }),
    idn.secretKey,
  );
  t.not(bfvPublicKeyDigest(foreign.publicKey), manifest.he_public_key.digest);
  const client = new CoordinatorClient({
    baseUrl: round.coordinator.url,
    ...(round.coordinator.dispatcher ? { dispatcher: round.coordinator.dispatcher } : {}),
    institutionId: n3.id,
    secretKey: idn.secretKey,
  });
  const path = `/v1/rounds/${round.roundId}/contributions`;
  const wire = encodeContribution({ envelope, ciphertexts });
  t.equal((await client.send('POST', path, wire)).status, 201, 'the coordinator cannot tell: acknowledged');

  return { client, path, wire };
}

/** Close; the key holder refuses the sum and names inst-3 only. Returns the culprits. */
async function keyHolderNamesCulprit(t: Test, round: Round, bundle1: string): Promise<string[]> {
  // Close; the key holder refuses the sum and names inst-3.
  t.equal(
    closeRound({ db: round.coordinator.db, roundId: round.roundId, bundleDir: bundle1, now: round.now() })
      .contributions,
    3,
  );
  const refusal = await releaseRoundDetailed({
    home: round.keyHolder.home,
    bundleDir: bundle1,
    shares: await round.keyHolder.custodians.present(),
    now: round.now,
  }).then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string; details: { culprits: { institutionId: string }[] } },
  );
  t.equal(refusal?.code, 'SB_ERR_CULPRITS');
  const culprits = [...new Set(refusal?.details.culprits.map((c) => c.institutionId))];
  t.same(culprits, ['inst-3'], 'the key holder names inst-3 only');

  return culprits;
}

/** The operator excludes it with the CLI (another process, same database); once only; status and log show it. */
function excludeWithCli(t: Test, round: Round, culprits: string[]): void {
  // The operator excludes it with the CLI (another process, same database).
  const ex = runCli([
    'coordinator',
    'round',
    'exclude',
    '--home',
    round.coordinator.home,
    '--round',
    round.roundId,
    '--institution',
    culprits[0] as string,
    '--reason',
    reason,
  ]);
  t.equal(ex.code, 0, `exclude: exit 0 ${ex.stderr}`);
  t.match(ex.stdout, /Excluded inst-3 from round .*sequence 2/);
  t.match(ex.stdout, /round close --home/, 'tells the operator to close again');
  t.match(listExclusions(round.coordinator.db, round.roundId), [
    { institutionId: 'inst-3', reason, sequence: 2, envelopeDigest: String, roundState: 'closed' },
  ]);
  const again = runCli([
    'coordinator',
    'round',
    'exclude',
    '--home',
    round.coordinator.home,
    '--round',
    round.roundId,
    '--institution',
    'inst-3',
    '--reason',
    'twice',
  ]);
  t.not(again.code, 0);
  t.match(again.stderr, /SB_ERR_ALREADY_EXCLUDED/);
  t.notMatch(again.stderr, /\n\s+at /, 'no stack trace');
  const status = runCli(['coordinator', 'round', 'status', '--home', round.coordinator.home, '--round', round.roundId]);
  t.match(status.stdout, /1 excluded/);
  t.match(status.stdout, /excluded inst-3 on .*SB_ERR_CULPRITS/);
  const events = round.coordinator.db
    .prepare("SELECT institution_id, detail FROM events WHERE kind = 'contribution.excluded'")
    .all() as { institution_id: string; detail: string }[];
  t.equal(events.length, 1, 'logged once');
  t.match(JSON.parse((events[0] as { detail: string }).detail), { reason, sequence: 2 });
}

/** inst-3 is told why: on its next request (its acknowledged envelope again) and in a signed status. */
async function institutionIsTold(
  t: Test,
  round: Round,
  { client, path, wire }: Awaited<ReturnType<typeof sendForeignContribution>>,
): Promise<void> {
  // inst-3 is told why: on its next request (its acknowledged envelope again) and in a signed status.
  await t.rejects(client.send('POST', path, wire), {
    code: 'SB_ERR_EXCLUDED',
    message: /excluded the contribution of inst-3 .*SB_ERR_CULPRITS: no noise budget/,
  });
  const st = (await client.getJson(`/v1/rounds/${round.roundId}/status`)) as Record<string, unknown>;
  t.match(st, { excluded: 1, you: { institution_id: 'inst-3', excluded: true, reason } });
  const pub = await request(`${round.coordinator.url}/v1/rounds/${round.roundId}/status`, {
    ...(round.coordinator.dispatcher ? { dispatcher: round.coordinator.dispatcher } : {}),
  });
  const pubJson = (await pub.body.json()) as Record<string, unknown>;
  t.equal(pubJson.excluded, 1, 'the public status counts exclusions');
  t.notOk('you' in pubJson, 'and says nothing about anyone in particular');
}

/** Close again: the same closed round, summed without inst-3; its file is gone from the folder. */
function closeAgainWithout(t: Test, round: Round, bundle1: string): void {
  // Close again: the same closed round, summed without inst-3; its file is gone from the folder.
  const re = closeRound({ db: round.coordinator.db, roundId: round.roundId, bundleDir: bundle1, now: round.now() });
  t.match(re, { closedNow: false, resummed: true, contributions: 2, excluded: ['inst-3'] });
  t.notOk(existsSync(join(bundle1, 'contributions', 'inst-3.sbc')), 'excluded contribution removed from the bundle');
  t.same(
    readBundle(bundle1).contributions.map((c) => c.institutionId),
    ['inst-1', 'inst-2'],
  );
}

/** The key holder releases the sum of the others: every published figure is the reference sum of inst-1 and inst-2. */
async function releaseOfTheOthers(t: Test, round: Round, bundle1: string) {
  // The key holder releases the sum of the others.
  const { release } = await releaseRoundDetailed({
    home: round.keyHolder.home,
    bundleDir: bundle1,
    shares: await round.keyHolder.custodians.present(),
    now: round.now,
  });
  t.equal(release.institutions, 2);
  const e1 = expected('inst-1');
  const e2 = expected('inst-2');
  const ref = (rows1: Rows, rows2: Rows, key: string, slot: string) =>
    (rows1[key]?.[slot] ?? 0) + (rows2[key]?.[slot] ?? 0);
  let published = 0;
  let differing = 0;
  for (const key of codebook.cellKeys) {
    const row = release.cells[key];
    if (!row) continue;
    for (const slot of [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS]) {
      const v = row.slots[slot];
      if (v === null || v === undefined) continue;
      published++;
      if (v !== ref(e1.cells, e2.cells, key, slot)) differing++;
    }
    t.same(
      row.institutions,
      { a: ref(e1.cells, e2.cells, key, 'c_contrib_a'), b: ref(e1.cells, e2.cells, key, 'c_contrib_b') },
      `${key}: institution counts of inst-1 + inst-2`,
    );
  }
  // Not vacuous: enough figures survive disclosure control for the comparison to mean something
  // (82 with the contributor check enforced, DECISIONS 87; 100+ before it).
  t.ok(published > 50, `figures were published (${published})`);
  t.equal(differing, 0, 'every published figure equals the reference sum of inst-1 and inst-2');

  return release;
}

/** A released round takes no more exclusions. */
async function noExclusionAfterRelease(
  t: Test,
  round: Round,
  release: Awaited<ReturnType<typeof releaseOfTheOthers>>,
): Promise<void> {
  // A released round takes no more exclusions.
  const { publishRelease } = await import('../../coordinator/rounds/publish-release.js');
  publishRelease({ db: round.coordinator.db, roundId: round.roundId, release, now: round.now() });
  t.throws(
    () =>
      excludeContribution({
        db: round.coordinator.db,
        roundId: round.roundId,
        institutionId: 'inst-1',
        reason: 'late',
        now: round.now(),
      }),
    { code: 'SB_ERR_ROUND_RELEASED' },
  );
}

t.test('a bad contribution is excluded and the round released without it', async (t) => {
  const dir = t.testdir();
  const round = await startRound(dir, {
    thresholds: { min_institutions: 2, min_population: 10, dominance_share: 0.85, min_institutions_distribution: 5 },
  });
  t.teardown(() => round.stop());
  const [n1, n2, n3] = round.nodes as [(typeof round.nodes)[0], (typeof round.nodes)[0], (typeof round.nodes)[0]];
  // inst-1 and inst-2 submit as nodes do.
  const submitted = await submitAll({ ...round, nodes: [n1, n2] }, approveAsPrivacyOfficer);
  t.equal(submitted.size, 2);

  const sent = await sendForeignContribution(t, round, n3);
  const bundle1 = join(dir, 'bundle-1');
  const culprits = await keyHolderNamesCulprit(t, round, bundle1);
  excludeWithCli(t, round, culprits);
  await institutionIsTold(t, round, sent);
  closeAgainWithout(t, round, bundle1);
  await noExclusionAfterRelease(t, round, await releaseOfTheOthers(t, round, bundle1));
});

t.test('excluded while open: further submissions refused with the reason, close does not wait for it', async (t) => {
  const dir = t.testdir();
  const round = await startRound(dir, {
    thresholds: { min_institutions: 2, min_population: 10, dominance_share: 0.85, min_institutions_distribution: 5 },
  });
  t.teardown(() => round.stop());
  const [n1, n2, n3] = round.nodes as [(typeof round.nodes)[0], (typeof round.nodes)[0], (typeof round.nodes)[0]];
  await submitAll({ ...round, nodes: [n1, n2] }, approveAsPrivacyOfficer);
  t.throws(
    () =>
      excludeContribution({
        db: round.coordinator.db,
        roundId: round.roundId,
        institutionId: 'X',
        reason: 'r',
        now: round.now(),
      }),
    { code: 'SB_ERR_NOT_PARTICIPANT' },
  );
  t.throws(
    () =>
      excludeContribution({
        db: round.coordinator.db,
        roundId: round.roundId,
        institutionId: n3.id,
        reason: ' \n ',
        now: round.now(),
      }),
    { code: 'SB_ERR_USAGE' },
  );
  const r = excludeContribution({
    db: round.coordinator.db,
    roundId: round.roundId,
    institutionId: n3.id,
    reason: 'its data team asked to withdraw',
    now: round.now(),
  });
  t.match(r, { sequence: null, needsReclose: false, roundState: 'open' });
  const config = readNodeConfig(n3.home);
  const client = new CoordinatorClient({
    baseUrl: round.coordinator.url,
    ...(round.coordinator.dispatcher ? { dispatcher: round.coordinator.dispatcher } : {}),
    institutionId: n3.id,
    secretKey: (await readIdentityFile(identityPath(n3.home, config))).secretKey,
  });
  await t.rejects(client.send('POST', `/v1/rounds/${round.roundId}/contributions`, new Uint8Array(16)), {
    code: 'SB_ERR_EXCLUDED',
    message: /its data team asked to withdraw/,
  });
  // Before the deadline, every remaining participant has submitted: close needs no --force.
  const closed = closeRound({
    db: round.coordinator.db,
    roundId: round.roundId,
    bundleDir: join(dir, 'b'),
    now: round.now(),
  });
  t.match(closed, { closedNow: true, contributions: 2, excluded: ['inst-3'] });
});
