// The key holder's unmasking with real crypto: the three sample institutions (plus three
// institutions with no students in these programmes, so that dropouts can be shown) mask their
// vectors (shared/secagg), encrypt them with node-seal, the sum is decrypted in the SEAL worker and
// unmasked (keyholder/unmask.ts). Expected values: ../shared/sample/expected/*.json.
import t from 'tap';
import { decryptSum } from '../../shared/crypto/decrypt.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { sumContributions } from '../../shared/crypto/sum.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { emptyVector } from '../../shared/metrics/vector.js';
import { flatten, layoutCiphertexts, layoutLength } from '../../shared/protocol/layout.js';
import { buildReveal, COMPLETE_GRAPH, defaultThreshold, type HeldShares } from '../../shared/secagg/index.js';
import { prepareUnmasking, unmaskRound, type UnmaskInput } from '../../keyholder/unmask.js';
import { advertiseAll, maskAll, revealAll, shareAll, signAll } from '../../bench/secagg/simulate.js';
import { maskedOf, simNode } from '../helpers/sim.js';
import { katFixture, sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

t.teardown(() => sealWorker().close());

const cb = await sampleCodebook();
const L = layoutLength(cb);
const { publicKey, secretKey } = katFixture();
const flat = (v: Parameters<typeof flatten>[1]) => flatten(cb, v, { maxParticipants: 500 });
const SAMPLE = ['INST1', 'INST2', 'INST3'];
const EXTRA = ['ZERO4', 'ZERO5', 'ZERO6'];
const ids = [...SAMPLE, ...EXTRA];
const slots = new Map<string, BigUint64Array>([
  ['INST1', flat(sampleVector(cb, 'inst-1').vector)],
  ['INST2', flat(sampleVector(cb, 'inst-2').vector)],
  ['INST3', flat(sampleVector(cb, 'inst-3').vector)],
  ...EXTRA.map((id) => [id, flat(emptyVector(cb, '2024-2025'))] as [string, BigUint64Array]),
]);
const sectorSlots = flat(sampleVector(cb, 'sector').vector);
// t = max(ceil(2 * 6 / 3), min_institutions 3) = 4, worked out by hand; n - t = 2.
const threshold = defaultThreshold(6, 3);
t.equal(threshold, 4, 'default threshold of 6 participants, min_institutions 3');

// One round with key sharing done by all six; `drop` leave after sharing keys.
const round = advertiseAll({ roundId: '2024-2025-r1', ids, threshold, graph: COMPLETE_GRAPH, seed: 'unmask-test' });
await shareAll(round);
maskAll(round, slots, ids);

async function attempt(drop: string[]) {
  const survivors = ids.filter((id) => !drop.includes(id));
  const signatures = signAll(round, survivors);
  let reveals: unknown[] = [];
  try {
    reveals = revealAll(round, survivors, signatures);
  } catch (e) {
    // Below t the nodes themselves reveal nothing; the key holder must still fail closed.
    if (!isSbError(e) || e.code !== 'SB_ERR_SECAGG_BELOW_THRESHOLD') throw e;
  }
  const cts = await Promise.all(survivors.map((id) => encryptSlots(publicKey, maskedOf(simNode(round, id)))));
  const sum = sumContributions(cts, layoutCiphertexts(cb));
  const input: UnmaskInput = {
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
  };
  let decrypted = 0;
  const decrypt = async () => {
    decrypted++;
    return decryptSum(secretKey, sum);
  };
  return { input, decrypt, decryptedCount: () => decrypted, sum };
}

t.test('no dropout: the unmasked sum is sector.json exactly', async (t) => {
  const a = await attempt([]);
  const r = await unmaskRound(a.input, a.decrypt, L);
  t.same(r.sum.subarray(0, L), sectorSlots, 'every slot equals sector.json');
  t.ok(
    r.sum.subarray(L).every((v) => v === 0n),
    'padding stays zero',
  );
  // Without unmasking, the decrypted sum is not the sector sum (the masks do not cancel: self masks).
  const raw = await decryptSum(secretKey, a.sum);
  const equal = sectorSlots.filter((v, i) => raw[i] === v).length;
  t.ok(equal < 5, `the masked sum differs from the true sum in (almost) every slot (${equal} equal of ${L})`);
});

t.test('one dropout after key sharing: exact sum', async (t) => {
  const a = await attempt(['ZERO6']);
  const r = await unmaskRound(a.input, a.decrypt, L);
  t.same(r.sum.subarray(0, L), sectorSlots, 'sector.json with ZERO6 dropped');
});

t.test('n - t = 2 dropouts after key sharing: exact sum', async (t) => {
  const a = await attempt(['ZERO5', 'ZERO6']);
  const r = await unmaskRound(a.input, a.decrypt, L);
  t.same(r.sum.subarray(0, L), sectorSlots, 'sector.json with ZERO5 and ZERO6 dropped');
});

t.test('a sample institution drops out: the sum of the other two, exactly', async (t) => {
  const a = await attempt(['INST3', 'ZERO4']);
  const r = await unmaskRound(a.input, a.decrypt, L);
  const i1 = slots.get('INST1') as BigUint64Array;
  const i2 = slots.get('INST2') as BigUint64Array;
  t.same(
    r.sum.subarray(0, L),
    i1.map((v, i) => v + (i2[i] as bigint)),
    'inst-1 + inst-2',
  );
});

t.test('n - t + 1 = 3 dropouts: fails closed, nothing decrypted', async (t) => {
  const a = await attempt(['ZERO4', 'ZERO5', 'ZERO6']);
  await t.rejects(unmaskRound(a.input, a.decrypt, L), { code: 'SB_ERR_SECAGG_BELOW_THRESHOLD' });
  t.equal(a.decryptedCount(), 0, 'decrypt was never called');
});

t.test('fewer than t reveals (some survivors silent): fails closed, nothing decrypted', async (t) => {
  const a = await attempt(['ZERO6']);
  a.input.reveals = (a.input.reveals as unknown[]).slice(0, threshold - 1);
  await t.rejects(unmaskRound(a.input, a.decrypt, L), { code: 'SB_ERR_SECAGG_BELOW_THRESHOLD' });
  t.equal(a.decryptedCount(), 0, 'decrypt was never called');
});

t.test('the coordinator sums other contributions than the signed survivor set: refused', async (t) => {
  const a = await attempt(['ZERO6']);
  a.input.contributors = ['INST1', 'INST2', 'INST3', 'ZERO4'];
  await t.rejects(unmaskRound(a.input, a.decrypt, L), { code: 'SB_ERR_SECAGG_SURVIVORS' });
  t.equal(a.decryptedCount(), 0, 'decrypt was never called');
});

t.test('fewer than t survivor signatures on the same sets: refused before decryption', async (t) => {
  const a = await attempt(['ZERO6']);
  a.input.survivorSignatures = (a.input.survivorSignatures as unknown[]).slice(0, threshold - 1);
  await t.rejects(prepareUnmasking(a.input), { code: 'SB_ERR_SECAGG_CONSISTENCY' });
});

t.test('an altered reveal box is not counted; the remaining t reveals still give the exact sum', async (t) => {
  const a = await attempt(['ZERO6']);
  // Replace one reveal by one from another round's keys: it does not open, so it is not counted.
  const reveals = [...(a.input.reveals as { box: string }[])];
  const first = reveals[0] as { box: string };
  const box = Buffer.from(first.box, 'base64');
  box[box.length - 1]! ^= 1;
  reveals[0] = { ...first, box: box.toString('base64') };
  a.input.reveals = reveals;
  const plan = await prepareUnmasking(a.input);
  t.equal(plan.rejectedReveals.length, 1, 'the altered reveal is rejected');
  t.match(plan.rejectedReveals[0]?.reason, /does not open/);
  // 4 intact reveals remain = t: still exact.
  const r = await unmaskRound(a.input, a.decrypt, L);
  t.same(r.sum.subarray(0, L), sectorSlots, 'exact sum from the remaining t reveals');
});

t.test('a survivor reveals a wrong share inside a valid box: outvoted, or refused before decryption', async (t) => {
  const survivors = ids.filter((id) => id !== 'ZERO6');
  const badReveal = (from: string) => {
    const n = simNode(round, from);
    const held = new Map(n.held);
    const h = held.get('INST2') as HeldShares;
    const wrong = Uint8Array.from(h.selfSeedShare);
    wrong[0] = (wrong[0] as number) ^ 0xff; // the value byte, not the x-coordinate (last byte)
    held.set('INST2', { ...h, selfSeedShare: wrong });
    return buildReveal({
      secrets: n.secrets,
      held,
      sets: { shared: ids, survivors },
      signatures: signAll(round, survivors),
      identityKeys: round.identityKeys,
      threshold,
      previous: null,
      keyHolderRevealKey: round.keyHolder.publicKey,
    }).reveal;
  };
  const a = await attempt(['ZERO6']);
  const honest = a.input.reveals as { from: string }[];
  // One bad share (INST1's, first in sender order): the window INST2..ZERO5 still rebuilds INST2's seed.
  a.input.reveals = honest.map((r) => (r.from === 'INST1' ? badReveal('INST1') : r));
  const r = await unmaskRound(a.input, a.decrypt, L);
  t.same(r.sum.subarray(0, L), sectorSlots, 'exact sum despite one wrong share');
  // Two bad shares (first and last): no window of t = 4 good shares; refused, nothing decrypted.
  const b = await attempt(['ZERO6']);
  b.input.reveals = honest.map((x) => (x.from === 'INST1' || x.from === 'ZERO5' ? badReveal(x.from) : x));
  await t.rejects(unmaskRound(b.input, b.decrypt, L), { code: 'SB_ERR_SECAGG_RECONSTRUCT' });
  t.equal(b.decryptedCount(), 0, 'decrypt was never called');
});
