// Issue 11: who takes part is not the coordinator's word alone. The participant list (name, BRIN
// code, identity key) is endorsed by the key holder; every node shows it before approval and
// refuses a manifest whose list the key holder did not endorse, or with a participant added
// after the endorsement. Real nodes, real coordinator over loopback HTTP.
import { join } from 'node:path';
import t from 'tap';
import { addInstitution, openRound } from '../../coordinator/index.js';
import { getRound, insertRound } from '../../coordinator/store/rounds.js';
import { endorseRound } from '../../keyholder/endorse.js';
import { previewRound } from '../../node/audit/preview.js';
import { submitContribution } from '../../node/round/submit.js';
import { readBfvPublicKey } from '../../shared/crypto/bfv-keys.js';
import { fingerprint, generateIdentity, readPublicIdentityFile } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { signEndorsement, signManifest } from '../../shared/protocol/round-documents.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { startRound } from '../helpers/round-harness.js';

t.teardown(() => sealWorker().close());
const dir = t.testdir();
const round = await startRound(dir, { thresholds: { min_institutions: 2 } });
t.teardown(() => round.stop());
const db = round.coordinator.db;
const khHome = round.keyHolder.home;
const intruder = generateIdentity();
addInstitution(db, { id: 'intruder', publicKey: intruder.publicKey, now: round.now() });

t.test('every node shows the endorsed participant list before approval', async (t) => {
  for (const node of round.nodes) {
    const { preview, rendered } = await previewRound({ home: node.home, roundId: round.roundId, now: round.now });
    t.same(
      preview.participants.map((p) => [p.institution_id, p.brin]),
      [
        ['inst-1', '9901'],
        ['inst-2', '9902'],
        ['inst-3', '9903'],
      ],
      `${node.id}: the three endorsed participants`,
    );
    const own = await readPublicIdentityFile(node.publicKeyFile);
    t.ok(
      preview.participants.some((p) => p.institution_id === node.id && p.fingerprint === fingerprint(own)),
      `${node.id}: listed with its own key's fingerprint`,
    );
    t.match(rendered, /Deelnemers \(3; lijst ondertekend door de sleutelhouder/);
    t.match(rendered, /Instelling 2 \(voorbeeld\) \(BRIN 9902, id inst-2/);
    t.match(rendered, /echte deelnemers die samenspannen/);
  }
});

t.test('the coordinator cannot open a round with a participant the key holder did not endorse', async (t) => {
  const endorsement = await endorseRound({ home: khHome, roundId: 'r-open', now: round.now });
  await t.rejects(
    openRound({
      db,
      identity: round.coordinator.identity,
      roundId: 'r-open',
      studiejaar: round.year,
      codebook: round.codebook,
      endorsement,
      hePublicKey: await readBfvPublicKey(join(khHome, 'bfv-public.key')),
      participants: ['inst-1', 'inst-2', 'inst-3', 'intruder'],
      deadline: new Date(round.now().getTime() + 3600_000),
      publicUrl: round.coordinator.url,
      now: round.now(),
    }),
    { code: 'SB_ERR_ENDORSEMENT', message: /not endorsed: intruder/ },
  );
});

/**
 * A coordinator that skips its own checks: stores a manifest it signed itself, carrying the key
 * holder's endorsement of `roundId` and the participants `change` makes of the endorsed ones.
 */
async function rogueRound(
  roundId: string,
  change: (m: RoundManifest['participants']) => RoundManifest['participants'],
  endorser?: ReturnType<typeof generateIdentity>,
): Promise<void> {
  const base = getRound(db, round.roundId).manifest;
  const e = await endorseRound({ home: khHome, roundId, now: round.now });
  const signed = endorser
    ? signEndorsement(
        {
          type: e.type,
          version: 1,
          round_id: e.round_id,
          he_params: e.he_params,
          he_public_key_digest: e.he_public_key_digest,
          max_participants: e.max_participants,
          thresholds: e.thresholds,
          participants: e.participants,
          endorsed_at: e.endorsed_at,
        },
        endorser,
      )
    : e;
  const { coordinator_signature: _s, ...rest } = base;
  const manifest = signManifest(
    {
      ...rest,
      round_id: roundId,
      participants: change(e.participants),
      he_public_key: { ...rest.he_public_key, url: `${round.coordinator.url}/v1/rounds/${roundId}/he-public-key` },
      key_holder_endorsement: { ed25519_public_key: signed.ed25519_public_key, signature: signed.signature },
    },
    round.coordinator.identity.secretKey,
  );
  insertRound(db, {
    manifest,
    manifestJson: JSON.stringify(manifest),
    hePublicKey: await readBfvPublicKey(join(khHome, 'bfv-public.key')),
    ciphertextCount: getRound(db, round.roundId).ciphertextCount,
    createdAt: round.now().toISOString(),
  });
}

const intruderEntry = {
  institution_id: 'intruder',
  name: 'Instelling X',
  brin: '99ZZ',
  ed25519_public_key: Buffer.from(intruder.publicKey).toString('base64'),
};

for (const [roundId, what, change, endorser] of [
  [
    'r-added',
    'a participant added after the endorsement',
    (ps: RoundManifest['participants']) => [...ps, intruderEntry],
  ],
  [
    'r-swapped',
    "a participant's identity key swapped for the coordinator's own",
    (ps: RoundManifest['participants']) =>
      ps.map((p) =>
        p.institution_id === 'inst-3' ? { ...p, ed25519_public_key: intruderEntry.ed25519_public_key } : p,
      ),
  ],
  [
    'r-renamed',
    "a participant's BRIN code changed",
    (ps: RoundManifest['participants']) => ps.map((p) => (p.institution_id === 'inst-2' ? { ...p, brin: '99YY' } : p)),
  ],
  [
    'r-other-kh',
    'a list endorsed by another key than the pinned key holder',
    (ps: RoundManifest['participants']) => ps,
    generateIdentity(),
  ],
] as const) {
  t.test(`every node refuses ${what}`, async (t) => {
    await rogueRound(roundId, change, endorser);
    for (const node of round.nodes) {
      const err = await previewRound({ home: node.home, roundId, now: round.now }).catch((e) => e);
      t.equal(err.code, 'SB_ERR_MANIFEST_ENDORSEMENT', `${node.id}: preview refused`);
      t.match(err.message, /participant list/);
      const sub = await submitContribution({ home: node.home, roundId, now: round.now }).catch((e) => e);
      t.equal(sub.code, 'SB_ERR_MANIFEST_ENDORSEMENT', `${node.id}: nothing submitted`);
    }
  });
}
