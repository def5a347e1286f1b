/** Round lifecycle refusals outside HTTP: endorsement checks at open, close and publish preconditions, registry, nonces. */
import t, { type Test } from 'tap';
import { openRound } from '../../coordinator/rounds/open-round.js';
import { closeRound } from '../../coordinator/rounds/close-round.js';
import { publishRelease } from '../../coordinator/rounds/publish-release.js';
import { addInstitution, listInstitutions, revokeInstitution } from '../../coordinator/store/institutions.js';
import { rememberNonce } from '../../coordinator/store/nonces.js';
import { pinKeyHolder } from '../../coordinator/store/pins.js';
import { openCoordinatorDb } from '../../coordinator/store/db.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { endorse, participantsFor, setup, T0, DEADLINE, ROUND } from './fixture.js';

t.teardown(() => sealWorker().close());
const f = await setup(t);

/** What every openRound call below shares (round id and endorsement differ). */
function openBase() {
  return {
    db: f.db,
    identity: f.coordinator,
    studiejaar: 2024,
    codebook: f.codebook,
    hePublicKey: f.bfv.publicKey,
    deadline: DEADLINE,
    publicUrl: 'http://x.example',
    now: T0,
  };
}

type OpenBase = ReturnType<typeof openBase>;

/** Endorsements that do not fit: another key holder, round or BFV key, altered, fewer participants than sent. */
async function badEndorsements(t: Test, base: OpenBase, r2: string): Promise<void> {
  await t.rejects(
    openRound({ ...base, roundId: r2, endorsement: endorse(generateIdentity(), f.bfv.publicKey, r2) }),
    { code: 'SB_ERR_ENDORSEMENT' },
    'not the pinned key holder',
  );
  await t.rejects(
    openRound({ ...base, roundId: r2, endorsement: endorse(f.keyHolder, f.bfv.publicKey, 'other-round') }),
    { code: 'SB_ERR_ENDORSEMENT' },
    'endorsement of another round',
  );
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2, { he_public_key_digest: 'a'.repeat(64) }),
    }),
    { code: 'SB_ERR_ENDORSEMENT' },
    'another BFV key',
  );
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      endorsement: { ...endorse(f.keyHolder, f.bfv.publicKey, r2), max_participants: 1000 },
    }),
    { code: 'SB_ERR_ENDORSEMENT' },
    'altered endorsement',
  );
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2, { max_participants: 2 }),
    }),
    { code: 'SB_ERR_ENDORSEMENT' },
    'more participants than endorsed',
  );
}

/** Participants: unknown to the coordinator, added or left out by it, or registered with another key. */
async function badParticipants(t: Test, base: OpenBase, r2: string): Promise<void> {
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2, {
        participants: [...participantsFor(['INST1']), { ...participantsFor(['INST2'])[0]!, institution_id: 'GHOST' }],
      }),
    }),
    { code: 'SB_ERR_UNKNOWN_INSTITUTION', message: /GHOST/ },
    'an endorsed participant the coordinator does not know',
  );
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      participants: ['INST1', 'INST2', 'INST3', 'OUTSIDER'],
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2),
    }),
    { code: 'SB_ERR_ENDORSEMENT', message: /not endorsed: OUTSIDER/ },
    'the coordinator cannot add a participant the key holder did not endorse',
  );
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      participants: ['INST1', 'INST2'],
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2),
    }),
    { code: 'SB_ERR_ENDORSEMENT', message: /endorsed but left out: INST3/ },
  );
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2, {
        participants: [
          ...participantsFor(['INST1', 'INST2']),
          {
            ...participantsFor(['INST3'])[0]!,
            ed25519_public_key: participantsFor(['OUTSIDER'])[0]!.ed25519_public_key,
          },
        ],
      }),
    }),
    { code: 'SB_ERR_ENDORSEMENT', message: /INST3 is registered here with another identity key/ },
  );
}

/** A deadline in the past, an existing round id, a BFV key that is no key. */
async function badRoundSettings(t: Test, base: OpenBase, r2: string): Promise<void> {
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      deadline: '2025-01-01T00:00:00Z',
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2),
    }),
    { code: 'SB_ERR_USAGE' },
    'deadline in the past',
  );
  await t.rejects(openRound({ ...base, roundId: ROUND, endorsement: endorse(f.keyHolder, f.bfv.publicKey, ROUND) }), {
    code: 'SB_ERR_ROUND_EXISTS',
  });
  await t.rejects(
    openRound({
      ...base,
      roundId: r2,
      hePublicKey: new Uint8Array(100),
      endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2),
    }),
  );
}

t.test('open refuses bad endorsements, keys, participants and deadlines', async (t) => {
  const base = openBase();
  const r2 = 'round-two';
  await t.test('bad endorsements', async (t) => badEndorsements(t, base, r2));
  await t.test('bad participants', async (t) => badParticipants(t, base, r2));
  await t.test('bad deadline, round id or key', async (t) => badRoundSettings(t, base, r2));
  const m = await openRound({ ...base, roundId: r2, endorsement: endorse(f.keyHolder, f.bfv.publicKey, r2) });
  t.same(
    m.participants.map((p) => [p.institution_id, p.brin]),
    [
      ['INST1', '9901'],
      ['INST2', '9902'],
      ['INST3', '9903'],
    ],
    'exactly the endorsed participants, not every registered institution (OUTSIDER is registered)',
  );
});

t.test('close needs contributions; publish needs a closed round', async (t) => {
  t.throws(() => closeRound({ db: f.db, roundId: ROUND, bundleDir: t.testdir({}), force: true, now: T0 }), {
    code: 'SB_ERR_NO_CONTRIBUTIONS',
  });
  t.throws(() => closeRound({ db: f.db, roundId: 'nope', bundleDir: t.testdir({}), now: T0 }), {
    code: 'SB_ERR_ROUND_UNKNOWN',
  });
  t.throws(() => publishRelease({ db: f.db, roundId: ROUND, release: '{', now: T0 }), { code: 'SB_ERR_RELEASE' });
  t.throws(() => publishRelease({ db: f.db, roundId: ROUND, release: { type: 'x' }, now: T0 }), {
    code: 'SB_ERR_RELEASE',
  });
});

t.test('registry: duplicates refused, revocation recorded; pin replacement explicit', async (t) => {
  t.throws(() => addInstitution(f.db, { id: 'INST1', publicKey: generateIdentity().publicKey, now: T0 }), {
    code: 'SB_ERR_INSTITUTION_EXISTS',
  });
  t.throws(
    () =>
      addInstitution(f.db, {
        id: 'NEW',
        publicKey: (f.institutions.INST1 as { publicKey: Uint8Array }).publicKey,
        now: T0,
      }),
    { code: 'SB_ERR_INSTITUTION_EXISTS' },
    'same key twice',
  );
  t.throws(() => addInstitution(f.db, { id: 'bad id', publicKey: generateIdentity().publicKey, now: T0 }), {
    code: 'SB_ERR_USAGE',
  });
  t.throws(() => revokeInstitution(f.db, { id: 'GHOST', now: T0 }), { code: 'SB_ERR_UNKNOWN_INSTITUTION' });
  revokeInstitution(f.db, { id: 'OUTSIDER', now: T0 });
  t.equal(revokeInstitution(f.db, { id: 'OUTSIDER', now: new Date() }).revokedAt, T0.toISOString(), 'idempotent');
  t.equal(listInstitutions(f.db).find((i) => i.id === 'OUTSIDER')?.revokedAt, T0.toISOString());
  t.throws(() => pinKeyHolder(f.db, { publicKey: generateIdentity().publicKey, now: T0 }), {
    code: 'SB_ERR_PIN_EXISTS',
  });
});

t.test('nonces: replay refused, old ones purged', async (t) => {
  const db = openCoordinatorDb(`${t.testdir({})}/n.sqlite`);
  t.teardown(() => db.close());
  rememberNonce(db, { institutionId: 'A', nonce: 'n1', nowMs: 1_000_000, retainMs: 900_000 });
  t.throws(() => rememberNonce(db, { institutionId: 'A', nonce: 'n1', nowMs: 1_000_001, retainMs: 900_000 }), {
    code: 'SB_ERR_REQUEST_REPLAY',
  });
  rememberNonce(db, { institutionId: 'B', nonce: 'n1', nowMs: 1_000_001, retainMs: 900_000 });
  rememberNonce(db, { institutionId: 'A', nonce: 'n2', nowMs: 2_000_000, retainMs: 900_000 });
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM nonces').get() as { n: number }).n, 1, 'purged after retention');
});
