import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import { generateBfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import { HEADER_FIELDS, validateCiphertext } from '../../shared/crypto/ciphertext-validate.js';
import { decryptSum, findCulprits } from '../../shared/crypto/decrypt.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { CIPHERTEXT_BYTES, CIPHERTEXT_DATA_OFFSET, DATA_COEFF_MODULI } from '../../shared/crypto/he-params.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { CiphertextSum, sumContributions } from '../../shared/crypto/sum.js';
import { katFixture } from '../fixtures/crypto/sample.js';

const { publicKey, secretKey } = katFixture();
t.teardown(() => sealWorker().close());

const values = BigUint64Array.from({ length: 5000 }, (_, i) => BigInt(i * 3));
const good = await encryptSlots(publicKey, values);
const good2 = await encryptSlots(publicKey, values);

function expectReject(t: Test, bytes: Uint8Array, code: string, name: string) {
  t.throws(() => validateCiphertext(bytes), { code }, name);
  const s = new CiphertextSum(2);
  t.throws(() => s.add([good[0]!, bytes]), { code }, `${name}: refused by the sum`);
  t.throws(() => s.result(), { code: 'SB_ERR_SUM_EMPTY' }, 'and nothing was added');
}

t.test('structural rejects', async (t) => {
  expectReject(t, new Uint8Array(0), 'SB_ERR_CT_LENGTH', 'empty');
  expectReject(t, randomBytes(1000), 'SB_ERR_CT_LENGTH', 'random short');
  expectReject(t, new Uint8Array(randomBytes(CIPHERTEXT_BYTES)), 'SB_ERR_CT_HEADER', 'random, right length');
  expectReject(t, good[0]!.subarray(0, CIPHERTEXT_BYTES - 1), 'SB_ERR_CT_LENGTH', 'truncated by one byte');
  expectReject(t, good[0]!.subarray(0, 200), 'SB_ERR_CT_LENGTH', 'truncated');
  const trailing = new Uint8Array(CIPHERTEXT_BYTES + 1);
  trailing.set(good[0]!);
  expectReject(t, trailing, 'SB_ERR_CT_LENGTH', 'trailing byte');
  for (const f of HEADER_FIELDS) {
    for (const at of [f.start, f.end - 1]) {
      const b = good[0]!.slice();
      b[at] = (b[at] as number) ^ 0x01;
      t.throws(
        () => validateCiphertext(b),
        { code: 'SB_ERR_CT_HEADER', details: { field: f.name } },
        `flipped ${f.name} byte ${at}`,
      );
    }
  }
});

t.test('out-of-range coefficients', async (t) => {
  for (const [j, q] of DATA_COEFF_MODULI.entries()) {
    for (const poly of [0, 1]) {
      for (const v of [q, q + 1n, (1n << 64n) - 1n]) {
        const b = good[0]!.slice();
        const idx = (poly * 2 + j) * 4096 + 17;
        Buffer.from(b.buffer, b.byteOffset, b.byteLength).writeBigUInt64LE(v, CIPHERTEXT_DATA_OFFSET + idx * 8);
        t.throws(() => validateCiphertext(b), { code: 'SB_ERR_CT_COEFF', details: { poly, modulus: j, index: 17 } });
      }
    }
  }
  const b = good[0]!.slice();
  Buffer.from(b.buffer).writeBigUInt64LE(DATA_COEFF_MODULI[0]! - 1n, CIPHERTEXT_DATA_OFFSET);
  t.doesNotThrow(() => validateCiphertext(b), 'q - 1 is in range');
});

t.test('transparent ciphertexts (c1 = 0 modulo some q_j) are refused, by the validator and the sum', async (t) => {
  const c1Start = CIPHERTEXT_DATA_OFFSET + 2 * 4096 * 8;
  const allZero = good[0]!.slice();
  allZero.fill(0, CIPHERTEXT_DATA_OFFSET);
  expectReject(t, allZero, 'SB_ERR_CT_TRANSPARENT', 'all-zero coefficients');
  const c1 = good[0]!.slice();
  c1.fill(0, c1Start);
  expectReject(t, c1, 'SB_ERR_CT_TRANSPARENT', 'c1 = 0');
  t.throws(() => validateCiphertext(c1), { code: 'SB_ERR_CT_TRANSPARENT', details: { poly: 1, modulus: 0 } });
  const c1q1 = good[0]!.slice();
  c1q1.fill(0, c1Start + 4096 * 8);
  expectReject(t, c1q1, 'SB_ERR_CT_TRANSPARENT', 'c1 = 0 modulo q_1 only');
  t.throws(() => validateCiphertext(c1q1), { code: 'SB_ERR_CT_TRANSPARENT', details: { poly: 1, modulus: 1 } });
  // One nonzero coefficient of c1 in each residue is enough not to be transparent (SEAL's rule).
  const almost = c1.slice();
  almost[c1Start] = 1;
  almost[c1Start + 4096 * 8] = 1;
  t.doesNotThrow(() => validateCiphertext(almost), 'c1 with a nonzero coefficient modulo each q_j');
  // c0 = 0 is not transparent (it still needs the secret key).
  const c0 = good[0]!.slice();
  c0.fill(0, CIPHERTEXT_DATA_OFFSET, c1Start);
  t.doesNotThrow(() => validateCiphertext(c0));
});

t.test('other parameters and compressed ciphertexts are refused', async (t) => {
  const require = createRequire(import.meta.url);
  const seal = await (require('node-seal') as () => Promise<SEALLibrary>)();
  const parms = seal.EncryptionParameters(seal.SchemeType.bfv);
  parms.setPolyModulusDegree(4096);
  parms.setCoeffModulus(seal.CoeffModulus.BFVDefault(4096, seal.SecurityLevel.tc128));
  parms.setPlainModulus(seal.PlainModulus.Batching(4096, 20));
  const ctx = seal.Context(parms, true, seal.SecurityLevel.tc128);
  const kg = seal.KeyGenerator(ctx);
  const pk = kg.createPublicKey();
  const enc = seal.Encryptor(ctx, pk);
  const be = seal.BatchEncoder(ctx);
  const pt = be.encode(Int32Array.from({ length: 4096 }, (_, i) => i)) as ReturnType<typeof seal.PlainText>;
  const ct = enc.encrypt(pt) as ReturnType<typeof seal.CipherText>;
  try {
    const other = ct.saveArray(seal.ComprModeType.none);
    t.equal(other.byteLength, CIPHERTEXT_BYTES, 'same size, other plain modulus');
    t.throws(() => validateCiphertext(other), { code: 'SB_ERR_CT_HEADER', details: { field: 'parms_id' } });
    const z = ct.saveArray(seal.ComprModeType.zstd);
    t.throws(() => validateCiphertext(z), { code: 'SB_ERR_CT_LENGTH' }, 'compressed');
  } finally {
    for (const o of [ct, pt, be, enc, pk, kg, ctx, parms]) o.delete();
  }
});

t.test('other public key: detected by the noise budget at decryption, culprit identified', async (t) => {
  const other = await generateBfvKeyPair();
  const bad = await encryptSlots(other.publicKey, values);
  const sum = sumContributions([good, bad, good2], 2);
  await t.rejects(decryptSum(secretKey, sum), { code: 'SB_ERR_NOISE_BUDGET' });
  const culprits = await findCulprits(secretKey, [
    { institutionId: 'A', ciphertexts: good },
    { institutionId: 'B', ciphertexts: bad },
    { institutionId: 'C', ciphertexts: good2 },
  ]);
  t.same([...new Set(culprits.map((c) => c.institutionId))], ['B']);
  const clean = await decryptSum(secretKey, sumContributions([good, good2], 2));
  t.equal(clean[4999], 2n * 4999n * 3n);
});

t.test('1,000 invalid loads in a row, then a correct sum', async (t) => {
  const s = new CiphertextSum(2);
  let refused = 0;
  for (let i = 0; i < 1000; i++) {
    const b = good[i % 2]!.slice();
    const kind = i % 4;
    let input: Uint8Array;
    if (kind === 0) input = b.subarray(0, (i * 131) % CIPHERTEXT_BYTES);
    else if (kind === 1) {
      b[(i * 7) % CIPHERTEXT_DATA_OFFSET]! ^= 0xff;
      input = b;
    } else if (kind === 2) {
      Buffer.from(b.buffer).writeBigUInt64LE((1n << 63n) + BigInt(i), CIPHERTEXT_DATA_OFFSET + 8 * ((i * 977) % 16384));
      input = b;
    } else input = new Uint8Array(randomBytes(CIPHERTEXT_BYTES));
    try {
      s.add([good[0]!, input]);
    } catch {
      refused++;
    }
  }
  t.equal(refused, 1000);
  // Also through the worker: invalid inputs never reach SEAL.
  for (let i = 0; i < 20; i++)
    await t.rejects(decryptSum(secretKey, [good[0]!.subarray(0, 100 + i)]), { code: 'SB_ERR_CT_LENGTH' });
  s.add(good);
  s.add(good2);
  const out = await decryptSum(secretKey, s.result());
  t.equal(out[1234], 2n * 1234n * 3n);
});

t.test('a SEAL abort inside the worker does not crash the process or corrupt later results', async (t) => {
  const host = sealWorker();
  await decryptSum(secretKey, good);
  const before = host.generation;
  for (let i = 0; i < 3; i++) {
    // Test hook that skips validation: truncated input hard-aborts SEAL's WASM module.
    await t.rejects(host.call({ op: 'raw-load', bytes: good[0]!.subarray(0, 5000 + i) }), { code: /SB_ERR_SEAL/ });
  }
  const out = await decryptSum(secretKey, sumContributions([good, good2], 2));
  t.equal(out[42], 2n * 42n * 3n, 'correct after the worker was replaced');
  t.ok(host.generation > before, 'the worker was replaced');
  await t.rejects(decryptSum(new Uint8Array(10), good), { code: 'SB_ERR_KEY_FILE' });
});
