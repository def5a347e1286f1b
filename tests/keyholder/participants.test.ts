// Issue 11 at the key holder: it endorses only institutions it enrolled itself, refuses a
// manifest with a participant it did not endorse (naming it), and min_institutions counts
// endorsed participants only.
import t from 'tap';
import { endorseRound } from '../../keyholder/endorse.js';
import { addParticipant, removeParticipant } from '../../keyholder/participants.js';
import { releaseRound } from '../../keyholder/release.js';
import { KeyHolderStore } from '../../keyholder/store/keyholder-store.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { NOW, roundFixture, seeded } from './round-fixture.js';

const f = await roundFixture();
t.teardown(async () => {
  await sealWorker().close();
  f.cleanup();
});
const [i1, i2, i3] = f.institutions as [
  (typeof f.institutions)[0],
  (typeof f.institutions)[0],
  (typeof f.institutions)[0],
];
const decrypted = (roundId: string) => {
  const s = KeyHolderStore.open(f.home);
  try {
    return s.decryptions(roundId).length;
  } finally {
    s.close();
  }
};
const MIN3 = { min_institutions: 3, min_population: 1, dominance_share: 1, min_institutions_distribution: 3 };

t.test('the endorsement lists exactly the enrolled institutions (name, BRIN, key)', async (t) => {
  const e = await endorseRound({ home: f.home, roundId: 'p-list', now: NOW });
  t.same(
    e.participants.map((p) => [p.institution_id, p.name, p.brin]),
    [
      ['INST1', 'Instelling 1', '9901'],
      ['INST2', 'Instelling 2', '9902'],
      ['INST3', 'Instelling 3', '9903'],
    ],
  );
  t.equal(e.participants[1]?.ed25519_public_key, Buffer.from(i2.identity.publicKey).toString('base64'));
  await t.rejects(endorseRound({ home: f.home, roundId: 'p-x', participants: ['INST1', 'GHOST'], now: NOW }), {
    code: 'SB_ERR_UNKNOWN_INSTITUTION',
    message: /GHOST is not enrolled/,
  });
  await t.rejects(
    addParticipant({ home: f.home, institutionId: 'DUP', name: 'Dup', brin: '9999', publicKey: i1.identity.publicKey }),
    { code: 'SB_ERR_INSTITUTION_EXISTS' },
    'one key, one institution',
  );
  await t.rejects(
    addParticipant({ home: f.home, institutionId: 'NEW', name: 'New', brin: 'X1', publicKey: seeded(90).publicKey }),
    { code: 'SB_ERR_USAGE', message: /BRIN/ },
  );
  await addParticipant({
    home: f.home,
    institutionId: 'GONE',
    name: 'Weg',
    brin: '9990',
    publicKey: seeded(91).publicKey,
  });
  t.equal((await endorseRound({ home: f.home, roundId: 'p-4', now: NOW })).participants.length, 4);
  await removeParticipant({ home: f.home, institutionId: 'GONE' });
  t.equal(
    (await endorseRound({ home: f.home, roundId: 'p-3', now: NOW })).participants.length,
    3,
    'a removed institution is left out of later endorsements',
  );
});

t.test('a participant added after the endorsement is refused, named; nothing decrypted', async (t) => {
  const { dir } = await f.bundle('p-added', {
    thresholds: MIN3,
    endorse: ['INST1', 'INST2'],
    extraParticipants: [
      { institutionId: 'INST3', publicKey: i3.identity.publicKey, name: 'Instelling 3', brin: '9903' },
    ],
  });
  await t.rejects(releaseRound({ home: f.home, bundleDir: dir, shares: f.shares, now: NOW }), {
    code: 'SB_ERR_NOT_ENDORSED',
    message: /participant\(s\) this key holder did not endorse: INST3 \(Instelling 3, BRIN 9903\)/,
  });
  t.equal(decrypted('p-added'), 0);
  // An invented institution (a key the key holder never enrolled) likewise.
  const { dir: d2 } = await f.bundle('p-invented', {
    extraParticipants: [{ institutionId: 'FAKE', publicKey: seeded(66).publicKey }],
    contributions: ({ roundId, all }) => [...all, f.wire(roundId, i1, { institutionId: 'FAKE', signer: seeded(66) })],
  });
  await t.rejects(releaseRound({ home: f.home, bundleDir: d2, shares: f.shares, now: NOW }), {
    code: 'SB_ERR_NOT_ENDORSED',
    message: /FAKE/,
  });
  t.equal(decrypted('p-invented'), 0);
});

t.test('min_institutions counts endorsed participants only', async (t) => {
  // Two endorsed participants and a third institution's contribution: the third is not counted
  // (it is not a participant at all), and two are below min_institutions 3.
  const { dir } = await f.bundle('p-count', {
    thresholds: MIN3,
    endorse: ['INST1', 'INST2'],
    contributions: ({ all }) => all.slice(0, 2),
  });
  await t.rejects(releaseRound({ home: f.home, bundleDir: dir, shares: f.shares, now: NOW }), {
    code: 'SB_ERR_BELOW_MIN_INSTITUTIONS',
    message: /2 valid contribution\(s\), fewer than min_institutions 3/,
  });
  const { dir: d2 } = await f.bundle('p-count-3', { thresholds: MIN3, endorse: ['INST1', 'INST2'] });
  await t.rejects(releaseRound({ home: f.home, bundleDir: d2, shares: f.shares, now: NOW }), {
    code: 'SB_ERR_NOT_PARTICIPANT',
    message: /INST3/,
  });
  t.equal(decrypted('p-count') + decrypted('p-count-3'), 0, 'nothing decrypted');
  // All three endorsed: released.
  const { dir: d3 } = await f.bundle('p-count-ok', { thresholds: MIN3 });
  const r = await releaseRound({ home: f.home, bundleDir: d3, shares: f.shares, now: NOW });
  t.equal(r.institutions, 3);
});
