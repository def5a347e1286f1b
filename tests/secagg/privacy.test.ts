// What the key holder could see of one institution, with real crypto: its ciphertext decrypted
// with the key holder's own BFV key is uniform noise mod t, unrelated to the true vector; and with
// every reveal of the round as well, a survivor's masked input stays masked.
import t from 'tap';
import { combine } from 'shamir-secret-sharing';
import { decryptSum } from '../../shared/crypto/decrypt.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { PLAIN_MODULUS } from '../../shared/crypto/he-params.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { emptyVector } from '../../shared/metrics/vector.js';
import { flatten, layoutLength } from '../../shared/protocol/layout.js';
import {
  accumulateMask,
  COMPLETE_GRAPH,
  openReveals,
  pairMaskKey,
  pairSign,
  selfMaskKey,
  type PeerKeys,
} from '../../shared/secagg/index.js';
import { prepareUnmasking } from '../../keyholder/unmask.js';
import { advertiseAll, maskAll, revealAll, shareAll, signAll } from '../../bench/secagg/simulate.js';
import { maskedOf, peersOf, simNode } from '../helpers/sim.js';
import { katFixture, sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

t.teardown(() => sealWorker().close());

const cb = await sampleCodebook();
const L = layoutLength(cb);
const { publicKey, secretKey } = katFixture();
const T = Number(PLAIN_MODULUS);
const inst1 = flatten(cb, sampleVector(cb, 'inst-1').vector, { maxParticipants: 500 });

/**
 * Pearson chi-square statistic of `values` (in [0, t)) over 64 equal-width bins. Under
 * uniformity it follows chi-square with 63 degrees of freedom (mean 63, sd sqrt(126) = 11.2).
 * Threshold: the 0.9999 quantile by Wilson-Hilferty, k (1 - 2/(9k) + z sqrt(2/(9k)))^3 with
 * k = 63, z = 3.719: 63 * (1 - 0.003527 + 3.719 * 0.05939)^3 = 63 * 1.2173^3 = 113.7. The masks
 * are derived from fixed seeds, so the statistic is one fixed number; a real bias (e.g. masks
 * reduced mod t without rejection, or a missing mask) pushes it far above.
 */
function chiSquare64(values: ArrayLike<bigint>): number {
  const bins = new Array<number>(64).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor((Number(values[i] as bigint) / T) * 64);
    bins[b] = (bins[b] as number) + 1;
  }
  const e = values.length / 64;
  return bins.reduce((s, o) => s + (o - e) ** 2 / e, 0);
}
const CHI2_LIMIT = 113.7;

/** Pearson correlation of two equally long vectors. */
function correlation(x: ArrayLike<bigint>, y: ArrayLike<bigint>): number {
  const n = x.length;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += Number(x[i] as bigint);
    sy += Number(y[i] as bigint);
  }
  const mx = sx / n;
  const my = sy / n;
  let cxy = 0;
  let cxx = 0;
  let cyy = 0;
  for (let i = 0; i < n; i++) {
    const a = Number(x[i] as bigint) - mx;
    const b = Number(y[i] as bigint) - my;
    cxy += a * b;
    cxx += a * a;
    cyy += b * b;
  }
  return cxy / Math.sqrt(cxx * cyy);
}

t.test('one institution decrypted alone: uniform mod t over >= 100,000 slots, unrelated to its vector', async (t) => {
  // The sample institution's vector six times over: 6 x 17,312 = 103,872 slots (26 ciphertexts).
  const REPEAT = 6;
  const truth = new BigUint64Array(REPEAT * L);
  for (let r = 0; r < REPEAT; r++) truth.set(inst1, r * L);
  const ids = ['INST1', 'INST2', 'INST3'];
  const round = advertiseAll({ roundId: 'uniform-r1', ids, threshold: 3, graph: COMPLETE_GRAPH, seed: 'uniformity' });
  await shareAll(round);
  const zeros = new BigUint64Array(truth.length);
  maskAll(
    round,
    new Map([
      ['INST1', truth],
      ['INST2', zeros],
      ['INST3', zeros],
    ]),
    ids,
  );
  const masked = maskedOf(simNode(round, 'INST1'));
  const cts = await encryptSlots(publicKey, masked);
  const seen = (await decryptSum(secretKey, cts)).subarray(0, truth.length);
  t.ok(truth.length >= 100_000, `${truth.length} slots`);
  t.same(seen, masked, 'the key holder decrypts exactly the masked vector');
  const chi = chiSquare64(seen);
  t.ok(chi < CHI2_LIMIT, `chi-square over 64 bins ${chi.toFixed(1)} < ${CHI2_LIMIT}`);
  // Correlation with the truth: under independence r ~ N(0, 1/N); |r| < 4 / sqrt(N) = 0.0124.
  const r = correlation(truth, seen);
  t.ok(Math.abs(r) < 4 / Math.sqrt(truth.length), `correlation with the true vector ${r.toFixed(5)}`);
  // Equal slots: expected N / t = 1e-7; small values (below 2^20, where every true value lies):
  // expected N * 2^20 / t = 0.1.
  t.equal(seen.filter((v, i) => v === truth[i]).length, 0, 'no slot shows its true value');
  t.ok(seen.filter((v) => v < 1n << 20n).length <= 3, 'almost no slot looks like a count');
  // The true vector itself is far from uniform (a sanity check of the test).
  t.ok(chiSquare64(truth) > 10 * CHI2_LIMIT, 'the true vector fails the same test');
});

t.test('with every reveal of the round, a survivor still cannot be unmasked', async (t) => {
  const ids = ['INST1', 'INST2', 'INST3', 'ZERO4', 'ZERO5', 'ZERO6'];
  const threshold = 4;
  const round = advertiseAll({ roundId: 'reveal-r1', ids, threshold, graph: COMPLETE_GRAPH, seed: 'privacy' });
  await shareAll(round);
  const zero = flatten(cb, emptyVector(cb, '2024-2025'), { maxParticipants: 500 });
  const slots = new Map(ids.map((id) => [id, id === 'INST1' ? inst1 : zero]));
  const survivors = ids.filter((id) => id !== 'ZERO6');
  maskAll(round, slots, survivors);
  const signatures = signAll(round, survivors);
  const reveals = revealAll(round, survivors, signatures);
  const peers = peersOf(simNode(round, 'INST1'));

  // Everything the key holder can open.
  const { opened, rejected } = openReveals({
    roundId: round.roundId,
    sets: { shared: ids, survivors },
    reveals,
    peers,
    revealSecretKey: round.keyHolder.secretKey,
  });
  t.equal(rejected.length, 0);
  t.equal(opened.length, survivors.length, 'one reveal per survivor');
  const keySharesOf = (id: string) => opened.filter((o) => o.maskKeyShares.has(id)).length;
  const seedSharesOf = (id: string) => opened.filter((o) => o.selfSeedShares.has(id)).length;
  for (const u of survivors) t.equal(keySharesOf(u), 0, `no share of survivor ${u}'s mask key is revealed`);
  t.equal(seedSharesOf('ZERO6'), 0, "no share of the dropped node's self seed is revealed");
  t.equal(keySharesOf('ZERO6'), survivors.length, "every survivor reveals its share of the dropped node's mask key");

  // The key holder's best effort on INST1 alone: its ciphertext decrypted with the key holder's
  // key, minus its self mask (reconstructed) and minus its pairwise mask with the dropped node
  // (reconstructed key). The pairwise masks with the other survivors remain.
  const plan = await prepareUnmasking({
    roundId: round.roundId,
    participants: ids,
    identityKeys: round.identityKeys,
    threshold,
    graph: COMPLETE_GRAPH,
    advertisements: round.advertisements,
    sets: { shared: ids, survivors },
    survivorSignatures: signatures,
    reveals,
    contributors: survivors,
    revealSecretKey: round.keyHolder.secretKey,
  });
  t.same([...plan.selfSeeds.keys()].sort(), [...survivors].sort(), 'self seeds reconstructed: survivors only');
  t.same([...plan.droppedMaskKeys.keys()], ['ZERO6'], 'mask keys reconstructed: the dropped node only');
  const cts = await encryptSlots(publicKey, maskedOf(simNode(round, 'INST1')));
  const dec = (await decryptSum(secretKey, cts)).subarray(0, L);
  const acc = Float64Array.from(dec, (v) => Number(v));
  accumulateMask(selfMaskKey(round.roundId, 'INST1', plan.selfSeeds.get('INST1') as Uint8Array), acc, -1);
  const k6 = pairMaskKey(
    round.roundId,
    'INST1',
    'ZERO6',
    plan.droppedMaskKeys.get('ZERO6') as Uint8Array,
    (peers.get('INST1') as PeerKeys).maskPublicKey,
  );
  accumulateMask(k6, acc, pairSign('INST1', 'ZERO6') === 1 ? -1 : 1);
  const best = BigUint64Array.from(acc, (v) => BigInt(v));
  t.equal(best.filter((v, i) => v === inst1[i]).length, 0, 'no slot of INST1 is recovered');
  const chi = chiSquare64(best);
  t.ok(chi < CHI2_LIMIT, `what remains is uniform mod t (chi-square ${chi.toFixed(1)} over ${L} slots)`);

  // INST1's mask key cannot be rebuilt: not one share of it was revealed. Even the shares the
  // survivors hold (never revealed) are needed t at a time: t - 1 of them do not give it.
  const held = survivors
    .slice(0, threshold - 1)
    .map((id) => simNode(round, id).held?.get('INST1')?.maskKeyShare as Uint8Array);
  const wrong = await combine(held);
  t.not(
    Buffer.from(wrong).toString('hex'),
    Buffer.from(simNode(round, 'INST1').secrets.maskSecretKey).toString('hex'),
    't - 1 shares do not give the mask key',
  );
});
