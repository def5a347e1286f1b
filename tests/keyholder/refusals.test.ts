import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { releaseRound } from '../../keyholder/release.js';
import { KeyHolderStore } from '../../keyholder/store/keyholder-store.js';
import { contributionWire, encryptVector } from '../../bench/keyholder/simulate-round.js';
import { generateBfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import {
  CIPHERTEXT_COEFFS,
  CIPHERTEXT_DATA_OFFSET,
  DATA_COEFF_MODULI,
  SLOTS_PER_CIPHERTEXT,
} from '../../shared/crypto/he-params.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { sumContributions } from '../../shared/crypto/sum.js';
import { layoutCiphertexts } from '../../shared/protocol/layout.js';
import { parseContribution } from '../../shared/protocol/wire.js';
import { signEndorsement } from '../../shared/protocol/round-documents.js';
import { CELL_SLOT_INDEX } from '../../shared/metrics/slots.js';
import type { BundledContribution } from '../../bench/keyholder/simulate-round.js';
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
const n = layoutCiphertexts(f.cb);
const cts = (c: BundledContribution) => parseContribution(c.wire, { validate: false }).ciphertexts;
const honestSum = (cs: BundledContribution[]) => sumContributions(cs.map(cts), n);

function decryptions(roundId: string) {
  const s = KeyHolderStore.open(f.home);
  try {
    return { decryptions: s.decryptions(roundId), refusals: s.refusals(roundId) };
  } finally {
    s.close();
  }
}

/** A ciphertext with a valid header and random coefficients below each q_j: passes every format check. */
function randomCiphertext(like: Uint8Array): Uint8Array {
  const b = like.slice();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const r = randomBytes(CIPHERTEXT_COEFFS * 8);
  const rv = new DataView(r.buffer, r.byteOffset, r.byteLength);
  for (let i = 0; i < CIPHERTEXT_COEFFS; i++) {
    const q = DATA_COEFF_MODULI[Math.floor(i / SLOTS_PER_CIPHERTEXT) % 2] as bigint;
    dv.setBigUint64(CIPHERTEXT_DATA_OFFSET + i * 8, rv.getBigUint64(i * 8, true) % q, true);
  }
  return b;
}

async function refused(t: Test, roundId: string, o: Parameters<typeof f.bundle>[1], code: string, message?: RegExp) {
  const { dir } = await f.bundle(roundId, o);
  await t.rejects(
    releaseRound({ home: f.home, shares: f.shares, bundleDir: dir, now: NOW }),
    { code, ...(message ? { message } : {}) },
    code,
  );
  const log = decryptions(roundId);
  t.match(log.refusals, [{ code, roundId, at: '2025-11-03T09:00:00Z' }], 'refusal recorded');
  return log;
}

t.test('tampered envelope signature', async (t) => {
  const log = await refused(
    t,
    'r-signature',
    { contributions: ({ roundId, all }) => [all[0]!, f.wire(roundId, i2, { signer: i3.identity }), all[2]!] },
    'SB_ERR_SIGNATURE',
    /INST2/,
  );
  t.equal(log.decryptions.length, 0, 'nothing decrypted');
});

t.test('non-participant', async (t) => {
  const outsider = seeded(99);
  await refused(
    t,
    'r-outsider',
    {
      contributions: ({ roundId, all }) => [
        ...all,
        contributionWire({
          roundId,
          institutionId: 'INST9',
          identity: outsider,
          codebook: f.cb,
          hePublicKeyDigest: f.kh.hePublicKeyDigest,
          ciphertexts: i1.ciphertexts,
        }),
      ],
    },
    'SB_ERR_NOT_PARTICIPANT',
    /INST9 is not a participant/,
  );
});

t.test('duplicate institution (the same contribution twice)', async (t) => {
  await refused(
    t,
    'r-duplicate',
    { contributions: ({ all }) => [...all, all[0]!] },
    'SB_ERR_DUPLICATE_INSTITUTION',
    /INST1 appears more than once/,
  );
});

t.test("coordinator's sum differs from the contributions", async (t) => {
  const log = await refused(
    t,
    'r-sum',
    { sum: (cs) => honestSum(cs.slice(0, 2)) },
    'SB_ERR_SUM_MISMATCH',
    /ciphertext\(s\) 0, 1, 2, 3, 4/,
  );
  t.equal(log.decryptions.length, 0, 'nothing decrypted');
  await refused(t, 'r-sum-count', { sum: (cs) => honestSum(cs).slice(1) }, 'SB_ERR_SUM_MISMATCH');
});

t.test('garbage ciphertext that fails the format checks', async (t) => {
  const bad = i2.ciphertexts.map((c) => c.slice());
  Buffer.from(bad[1]!.buffer).writeBigUInt64LE(DATA_COEFF_MODULI[0]!, CIPHERTEXT_DATA_OFFSET + 8 * 5);
  await refused(
    t,
    'r-garbage-format',
    {
      contributions: ({ roundId, all }) => [all[0]!, f.wire(roundId, i2, { ciphertexts: bad }), all[2]!],
      sum: () => honestSum(f.institutions.map((i) => f.wire('x', i))),
    },
    'SB_ERR_CT_COEFF',
    /INST2/,
  );
});

t.test('garbage ciphertext that passes the format checks: culprit named, nothing decoded', async (t) => {
  const bad = [...i2.ciphertexts];
  bad[3] = randomCiphertext(bad[3]!);
  const log = await refused(
    t,
    'r-garbage',
    { contributions: ({ roundId, all }) => [all[0]!, f.wire(roundId, i2, { ciphertexts: bad }), all[2]!] },
    'SB_ERR_CULPRITS',
    /INST2/,
  );
  t.match(log.decryptions, [
    { kind: 'sum', outcome: 'failed', errorCode: 'SB_ERR_NOISE_BUDGET', institutions: 3 },
    { kind: 'noise-budget', outcome: 'decrypted', institutions: 3 },
  ]);
});

t.test('a contribution encrypted under another BFV key: culprit named', async (t) => {
  const other = await generateBfvKeyPair();
  const foreign = await encryptVector(f.cb, i3.vector, other.publicKey, 500);
  const { dir } = await f.bundle('r-foreign', {
    contributions: ({ roundId, all }) => [all[0]!, all[1]!, f.wire(roundId, i3, { ciphertexts: foreign })],
  });
  const err = await releaseRound({ home: f.home, shares: f.shares, bundleDir: dir, now: NOW }).then(
    () => undefined,
    (e: unknown) =>
      e as {
        code: string;
        message: string;
        details: { culprits: { institutionId: string; ciphertextIndex: number }[] };
      },
  );
  t.equal(err?.code, 'SB_ERR_CULPRITS');
  t.match(err?.message, /INST3/);
  t.same(
    err?.details.culprits.map((c) => `${c.institutionId}/${c.ciphertextIndex}`),
    Array.from({ length: n }, (_, i) => `INST3/${i}`),
    'every ciphertext of INST3, no other institution',
  );
});

t.test('fewer contributions than min_institutions: refused before decrypting', async (t) => {
  const log = await refused(
    t,
    'r-few',
    { contributions: ({ all }) => all.slice(0, 2) },
    'SB_ERR_BELOW_MIN_INSTITUTIONS',
    /2 valid contribution\(s\), fewer than min_institutions 3/,
  );
  t.equal(log.decryptions.length, 0, 'no decryption logged');
  // With min_institutions 2 the same two contributions are released.
  const { dir } = await f.bundle('r-few-2', {
    thresholds: { min_institutions: 2 },
    contributions: ({ all }) => all.slice(0, 2),
  });
  const r = await releaseRound({ home: f.home, shares: f.shares, bundleDir: dir, now: NOW });
  t.equal(r.institutions, 2);
});

t.test('manifest not endorsed by this key holder', async (t) => {
  await refused(
    t,
    'r-thresholds',
    {
      override: {
        thresholds: { min_institutions: 2, min_population: 1, dominance_share: 1, min_institutions_distribution: 2 },
      },
    },
    'SB_ERR_NOT_ENDORSED',
    /does not carry this key holder's endorsement/,
  );
  await refused(t, 'r-maxp', { override: { maxParticipants: 10000 } }, 'SB_ERR_NOT_ENDORSED');
  const impostor = seeded(77);
  await refused(
    t,
    'r-impostor',
    {
      endorsement: (e) =>
        signEndorsement(
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
          impostor,
        ),
    },
    'SB_ERR_NOT_ENDORSED',
  );
});

t.test('manifest not signed by the pinned coordinator', async (t) => {
  await refused(t, 'r-coordinator', { coordinator: seeded(78) }, 'SB_ERR_MANIFEST_SIGNATURE', /pinned coordinator/);
});

t.test('decrypted sum that fails a consistency check: refused, naming cell and slot', async (t) => {
  const v = structuredClone(i3.vector);
  const cell = f.cb.cellKeys.indexOf('92530|4|BOL');
  v.cells[cell]![CELL_SLOT_INDEX.b_retained as number] = 1000; // more retained starters than starters
  const forged = await encryptVector(f.cb, v, f.kh.bfvPublicKey, 500);
  const log = await refused(
    t,
    'r-consistency',
    { contributions: ({ roundId, all }) => [all[0]!, all[1]!, f.wire(roundId, i3, { ciphertexts: forged })] },
    'SB_ERR_CONSISTENCY',
    /cell 92530\|4\|BOL slot b_retained \(b_retained <= b_starters\)/,
  );
  t.match(log.decryptions, [{ kind: 'sum', outcome: 'decrypted' }], 'the decryption itself is logged');
  const s = KeyHolderStore.open(f.home);
  t.same(s.releases('r-consistency'), [], 'nothing released');
  s.close();
});
