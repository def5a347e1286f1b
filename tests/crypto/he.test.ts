import { createHash } from 'node:crypto';
import t from 'tap';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { decryptSum, noiseBudgets, sealSum } from '../../shared/crypto/decrypt.js';
import { PLAIN_MODULUS, SLOTS_PER_CIPHERTEXT } from '../../shared/crypto/he-params.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { CiphertextSum, sumContributions } from '../../shared/crypto/sum.js';
import { flatten, layoutCiphertexts, unflatten, valueBound } from '../../shared/protocol/layout.js';
import { vectorToJson } from '../../shared/metrics/vector.js';
import { emptyVector } from '../../shared/metrics/vector.js';
import { katFixture, katValues, sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const { kat, publicKey, secretKey } = katFixture();
t.teardown(() => sealWorker().close());

t.test('known answer: fixed seed, key and plaintext give fixed ciphertext SHA-256', async (t) => {
  const cts = await encryptSlots(publicKey, katValues(), { seed: Buffer.from(kat.encrypt.seed, 'hex') });
  t.same(cts.map(sha), kat.encrypt.expected_sha256);
  const again = await encryptSlots(publicKey, katValues(), { seed: Buffer.from(kat.encrypt.seed, 'hex') });
  t.same(again.map(sha), kat.encrypt.expected_sha256, 'reproducible');
  const random = await encryptSlots(publicKey, katValues());
  t.not(sha(random[0]!), kat.encrypt.expected_sha256[0], 'without a seed the randomness is fresh');
  const back = await decryptSum(secretKey, random);
  t.same([...back.subarray(0, 4196)], [...katValues()]);
  t.same([...back.subarray(4196)], new Array(2 * SLOTS_PER_CIPHERTEXT - 4196).fill(0n), 'padding is zero');
});

t.test('sample: three institutions encrypted separately, summed and decrypted give sector.json', async (t) => {
  const cb = await sampleCodebook();
  const n = layoutCiphertexts(cb);
  const contribs: Uint8Array[][] = [];
  for (const [i, name] of (['inst-1', 'inst-2', 'inst-3'] as const).entries()) {
    const flat = flatten(cb, sampleVector(cb, name).vector, { maxParticipants: 500 });
    contribs.push(await encryptSlots(publicKey, flat, { seed: Buffer.from(kat.sample_sum.seeds[i]!, 'hex') }));
  }
  t.equal(contribs[0]!.length, n);
  const sum = sumContributions(contribs, n);
  t.same(sum.map(sha), kat.sample_sum.expected_sha256, 'known-answer digest of the summed ciphertexts');
  const viaSeal = await sealSum(contribs);
  t.ok(
    sum.every((c, i) => Buffer.compare(c, viaSeal[i]!) === 0),
    'JS sum is byte-identical to SEAL Evaluator.add',
  );
  const slots = await decryptSum(secretKey, sum);
  const sector = sampleVector(cb, 'sector');
  const got = vectorToJson(cb, unflatten(cb, slots, '2024-2025'));
  t.same(got.cells, sector.json.cells);
  t.same(got.groups, sector.json.groups);
  const budgets = await noiseBudgets(secretKey, sum);
  t.ok(
    budgets.every((b) => b > 0),
    `noise budgets left ${budgets.join(',')}`,
  );
});

t.test('maximum allowed value in every slot of 500 contributions does not wrap', async (t) => {
  const cb = await sampleCodebook();
  const max = Number(valueBound(500)) - 1;
  const v = emptyVector(cb, '2024-2025');
  for (const r of [...v.cells, ...v.groups]) r.fill(max);
  const flat = flatten(cb, v, { maxParticipants: 500 });
  const n = layoutCiphertexts(cb);
  const acc = new CiphertextSum(n);
  for (let i = 0; i < 500; i++) acc.add(await encryptSlots(publicKey, flat));
  t.equal(acc.contributions, 500);
  const sum = acc.result();
  const budgets = await noiseBudgets(secretKey, sum);
  t.ok(
    budgets.every((b) => b > 0),
    `noise budget after 500: ${budgets.join(',')}`,
  );
  const slots = await decryptSum(secretKey, sum);
  const want = 500n * BigInt(max);
  t.ok(want < PLAIN_MODULUS);
  const out = unflatten(cb, slots, '2024-2025');
  t.ok(
    out.cells.every((r) => r.every((x) => BigInt(x) === want)) &&
      out.groups.every((r) => r.every((x) => BigInt(x) === want)),
    `every slot is 500 x ${max}`,
  );
});

t.test('values >= t are refused before encoding', async (t) => {
  await t.rejects(encryptSlots(publicKey, BigUint64Array.of(1n, PLAIN_MODULUS)), { code: 'SB_ERR_PLAIN_RANGE' });
});
