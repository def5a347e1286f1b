// Building blocks of the secure-aggregation core: threshold, graph, advertisements, share boxes,
// the PRG (checked against an independent derivation written out here), masked input.
import { createCipheriv, createHash, hkdfSync } from 'node:crypto';
import t from 'tap';
import { combine } from 'shamir-secret-sharing';
import nacl from 'tweetnacl';
import { unmaskRound } from '../../keyholder/unmask.js';
import { PLAIN_MODULUS } from '../../shared/crypto/he-params.js';
import {
  advertiseKeys,
  checkThreshold,
  COMPLETE_GRAPH,
  defaultThreshold,
  fromDoubles,
  maskInput,
  maskVector,
  neighbours,
  openShares,
  pairMaskKey,
  type PeerKeys,
  secretsMatch,
  selfMaskKey,
  shareKeys,
  toDoubles,
  verifyAdvertisedKeys,
} from '../../shared/secagg/index.js';
import { advertiseAll, maskAll, revealAll, seededRandom, shareAll, signAll } from '../../bench/secagg/simulate.js';
import { maskedOf, peersOf, simNode } from '../helpers/sim.js';

t.test('default threshold max(ceil(2n/3), min_institutions), by hand', async (t) => {
  t.equal(defaultThreshold(3, 3), 3);
  t.equal(defaultThreshold(6, 3), 4);
  t.equal(defaultThreshold(10, 3), 7);
  t.equal(defaultThreshold(63, 3), 42);
  t.equal(defaultThreshold(255, 3), 170);
  t.equal(defaultThreshold(5, 5), 5);
  t.equal(defaultThreshold(2, 1), 2);
  t.throws(() => defaultThreshold(1, 1), { code: 'SB_ERR_SECAGG_PARAMS' });
  t.throws(() => defaultThreshold(4, 5), { code: 'SB_ERR_SECAGG_PARAMS' });
  t.doesNotThrow(() => checkThreshold(4, 6));
  t.throws(() => checkThreshold(3, 6), { code: 'SB_ERR_SECAGG_PARAMS' }, '2t = n is not enough');
  t.throws(() => checkThreshold(200, 256), { code: 'SB_ERR_SECAGG_PARAMS' }, 'more than 255 shareholders');
  t.throws(() => checkThreshold(1, 1), { code: 'SB_ERR_SECAGG_PARAMS' });
});

t.test('mask graphs', async (t) => {
  const ids = Array.from({ length: 10 }, (_, i) => `I${i}`);
  t.same(
    neighbours('r1', ids, COMPLETE_GRAPH, 'I3'),
    ids.filter((i) => i !== 'I3'),
  );
  const g = { kind: 'harary' as const, degree: 4 };
  for (const id of ids) {
    const nb = neighbours('r1', ids, g, id);
    t.equal(nb.length, 4, `${id} has 4 neighbours`);
    t.notOk(nb.includes(id));
    for (const j of nb) t.ok(neighbours('r1', ids, g, j).includes(id), `${id} - ${j} is symmetric`);
  }
  t.not(
    neighbours('r1', ids, g, 'I0').join(),
    neighbours('r2', ids, g, 'I0').join(),
    'the ring order depends on the round id',
  );
  t.throws(() => neighbours('r1', ids, { kind: 'harary', degree: 3 }, 'I0'), { code: 'SB_ERR_SECAGG_PARAMS' });
  t.throws(() => neighbours('r1', ids, g, 'X'), { code: 'SB_ERR_SECAGG_PARAMS' });
  const many = Array.from({ length: 256 }, (_, i) => `I${i}`);
  t.throws(() => neighbours('r1', many, COMPLETE_GRAPH, 'I0'), { code: 'SB_ERR_SECAGG_PARAMS' });
});

t.test('advertisements: signed, bound to round and participant', async (t) => {
  const r = advertiseAll({
    roundId: 'core-r1',
    ids: ['A', 'B', 'C'],
    threshold: 3,
    graph: COMPLETE_GRAPH,
    seed: 'adv',
  });
  const ads = r.advertisements;
  const peers = verifyAdvertisedKeys('core-r1', ads, r.identityKeys);
  t.same([...peers.keys()], ['A', 'B', 'C']);
  t.ok(secretsMatch(simNode(r, 'A').secrets, peers.get('A') as PeerKeys));
  const [a, b] = ads as [(typeof ads)[0], (typeof ads)[0]];
  const bad = (list: unknown[]) => () => verifyAdvertisedKeys('core-r1', list, r.identityKeys);
  t.throws(bad([{ ...a, mask_public_key: b.mask_public_key }, b]), { code: 'SB_ERR_SECAGG_KEYS' }, 'swapped key');
  t.throws(bad([a, a]), { code: 'SB_ERR_SECAGG_KEYS' }, 'twice');
  t.throws(() => verifyAdvertisedKeys('other-round', [a], r.identityKeys), { code: 'SB_ERR_SECAGG_KEYS' });
  t.throws(bad([{ ...a, institution_id: 'B' }]), { code: 'SB_ERR_SECAGG_KEYS' }, 'claimed by another');
  t.throws(bad([{ ...a, box_public_key: 'x' }]), { code: 'SB_ERR_SECAGG_KEYS' }, 'malformed');
  const stranger = advertiseKeys(simNode(r, 'A').secrets, nacl.sign.keyPair().secretKey);
  t.throws(bad([stranger]), { code: 'SB_ERR_SECAGG_KEYS' }, 'signed by a key not in the manifest');
});

t.test('share boxes: t shares rebuild the secrets, tampering is refused', async (t) => {
  const ids = ['A', 'B', 'C', 'D', 'E'];
  const r = advertiseAll({ roundId: 'core-r2', ids, threshold: 3, graph: COMPLETE_GRAPH, seed: 'shares' });
  await shareAll(r);
  const a = simNode(r, 'A');
  const held = ids.map((id) => simNode(r, id).held?.get('A'));
  t.ok(
    held.every((h) => h),
    "every node holds a pair of A's shares (A itself included)",
  );
  const seed = await combine(held.slice(1, 4).map((h) => h?.selfSeedShare as Uint8Array));
  t.same(seed, a.secrets.selfSeed, "3 shares give A's self seed");
  const key = await combine(held.slice(0, 3).map((h) => h?.maskKeyShare as Uint8Array));
  t.same(key, a.secrets.maskSecretKey, "3 shares give A's mask key");
  const b = simNode(r, 'B');
  const box = (a.outgoing ?? []).find((e) => e.to === 'B');
  t.ok(box);
  const peersB = peersOf(b);
  t.throws(() => openShares(b.secrets, [{ ...box, to: 'C' }], peersB), { code: 'SB_ERR_SECAGG_SHARE' }, 'for C');
  t.throws(
    () => openShares(simNode(r, 'C').secrets, [{ ...box, to: 'C' }], peersB),
    {
      code: 'SB_ERR_SECAGG_SHARE',
    },
    "C cannot open B's box",
  );
  const raw = Buffer.from(box?.box as string, 'base64');
  raw[0]! ^= 1;
  t.throws(() => openShares(b.secrets, [{ ...box, box: raw.toString('base64') }], peersB), {
    code: 'SB_ERR_SECAGG_SHARE',
  });
  t.throws(() => openShares(b.secrets, [box, box], peersB), { code: 'SB_ERR_SECAGG_SHARE' }, 'twice');
  t.throws(() => openShares(b.secrets, [{ ...box, from: 'C' }], peersB), { code: 'SB_ERR_SECAGG_SHARE' }, 'relabelled');
  // Fewer advertised shareholders than t: nothing is shared.
  const few = new Map([...peersOf(a)].slice(0, 1));
  await t.rejects(
    shareKeys({ secrets: a.secrets, peers: few, participants: ids, graph: COMPLETE_GRAPH, threshold: 3 }),
    { code: 'SB_ERR_SECAGG_BELOW_THRESHOLD' },
  );
});

t.test('PRG: AES-256-CTR keyed through HKDF, rejection sampling, as written out here', async (t) => {
  const seed = seededRandom('prg')(32);
  const key = selfMaskKey('r1', 'A', seed);
  const expectKey = new Uint8Array(
    hkdfSync('sha256', seed, new Uint8Array(0), 'sectorbench/v1/secagg/self-mask\nr1\nA', 32),
  );
  t.same(key, expectKey, 'HKDF-SHA256 with the documented info string');
  const n = 5000;
  const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(5 * n + 100));
  const expected: number[] = [];
  for (let off = 0; expected.length < n; off += 5) {
    let v = 0n;
    for (let k = 4; k >= 0; k--) v = (v << 8n) | BigInt(stream[off + k] as number);
    if (v < PLAIN_MODULUS) expected.push(Number(v));
  }
  t.same([...maskVector(key, n)], expected, 'same values as a BigInt re-derivation');
  // A key whose stream rejects a candidate, found and written out by a separate script (node:crypto
  // AES-256-CTR and BigInt only): key = SHA-256("sectorbench-prg-kat/194"); candidate 5,289 (in the
  // second 16,380-byte piece the PRG draws) is 1,099,511,622,439 >= t, so slot 5,289 takes candidate 5,290.
  const rejKey = createHash('sha256').update('sectorbench-prg-kat/194').digest();
  t.equal(rejKey.toString('hex'), 'a4457208234d4cc862322b0099b10fff07df2ee89995334a9138a6eaef67af6b');
  const rv = maskVector(rejKey, 10_000);
  t.same([rv[0], rv[1], rv[2]], [886652114902, 764566342433, 575571717699], 'first values as written out');
  t.same(
    [rv[5288], rv[5289], rv[5290]],
    [867163128559, 440431927530, 738098115999],
    'the rejected candidate is skipped, the next one taken',
  );
  // Many pieces long (154,728 values, as a real codebook): same as the BigInt re-derivation.
  const long = 154_728;
  const ls = createCipheriv('aes-256-ctr', rejKey, Buffer.alloc(16)).update(Buffer.alloc(5 * long + 100));
  let mismatches = 0;
  const lv = maskVector(rejKey, long);
  for (let off = 0, i = 0; i < long; off += 5) {
    let v = 0n;
    for (let k = 4; k >= 0; k--) v = (v << 8n) | BigInt(ls[off + k] as number);
    if (v < PLAIN_MODULUS) {
      if (Number(v) !== lv[i]) mismatches++;
      i++;
    }
  }
  t.equal(mismatches, 0, 'every one of 154,728 values equals the BigInt re-derivation');
  // Both ends of a pair derive the same key; low-order points are refused.
  const x = nacl.box.keyPair();
  const y = nacl.box.keyPair();
  t.same(pairMaskKey('r1', 'A', 'B', x.secretKey, y.publicKey), pairMaskKey('r1', 'B', 'A', y.secretKey, x.publicKey));
  t.not(
    Buffer.from(pairMaskKey('r1', 'A', 'B', x.secretKey, y.publicKey)).toString('hex'),
    Buffer.from(pairMaskKey('r2', 'A', 'B', x.secretKey, y.publicKey)).toString('hex'),
    'another round, another key',
  );
  t.throws(() => pairMaskKey('r1', 'A', 'B', x.secretKey, new Uint8Array(32)), { code: 'SB_ERR_SECAGG_KEYS' });
});

t.test('slots to doubles and back without BigInt per slot: exact at the word edges, t refused', async (t) => {
  const vals = [0n, 1n, 4294967295n, 4294967296n, 4294967297n, 1099511480320n /* t - 1 */, 123456789012n];
  const d = toDoubles(BigUint64Array.from(vals));
  t.same([...d], [0, 1, 4294967295, 4294967296, 4294967297, 1099511480320, 123456789012]);
  t.same([...fromDoubles(d)], vals, 'back to the same slots');
  const out = BigUint64Array.from([9n, 9n, 9n, 9n, 9n, 9n, 9n, 77n, 88n]);
  fromDoubles(d, out);
  t.same([...out], [...vals, 77n, 88n], 'written over the first slots only; padding kept');
  t.same([...toDoubles(BigUint64Array.from([5n, 1099511480321n]), 1)], [5], 'only the first length slots are read');
  t.throws(() => toDoubles(BigUint64Array.from([1n, 2n, 1099511480321n])), { code: 'SB_ERR_PLAIN_RANGE' }, 't itself');
  t.throws(() => toDoubles(BigUint64Array.from([18446744073709551615n])), { code: 'SB_ERR_PLAIN_RANGE' }, '2^64 - 1');
  t.throws(() => toDoubles(BigUint64Array.from([1099511627776n])), { code: 'SB_ERR_PLAIN_RANGE' }, '2^40');
});

t.test('masked inputs: pairwise masks cancel, slots >= t refused', async (t) => {
  const ids = ['A', 'B', 'C'];
  const r = advertiseAll({ roundId: 'core-r3', ids, threshold: 2, graph: COMPLETE_GRAPH, seed: 'cancel' });
  const L = 1000;
  const masked = ids.map((id) => {
    const n = simNode(r, id);
    return maskInput({
      secrets: n.secrets,
      slots: new BigUint64Array(L).fill(BigInt(ids.indexOf(id) + 1)),
      peers: peersOf(n),
      shared: ids,
      participants: ids,
      graph: COMPLETE_GRAPH,
    });
  });
  // Sum minus the three self masks (computed here from the seeds) must be 1 + 2 + 3 = 6 in every slot.
  const self = ids.map((id) => {
    const s = simNode(r, id).secrets;
    return maskVector(selfMaskKey('core-r3', id, s.selfSeed), L);
  });
  let ok = 0;
  for (let i = 0; i < L; i++) {
    let v = 0n;
    for (let k = 0; k < 3; k++) v += (masked[k]?.[i] as bigint) - BigInt(self[k]?.[i] as number);
    if (((v % PLAIN_MODULUS) + PLAIN_MODULUS) % PLAIN_MODULUS === 6n) ok++;
  }
  t.equal(ok, L, 'the pairwise masks cancel in every slot');
  const a = simNode(r, 'A');
  t.throws(
    () =>
      maskInput({
        secrets: a.secrets,
        slots: BigUint64Array.of(PLAIN_MODULUS),
        peers: peersOf(a),
        shared: ids,
        participants: ids,
        graph: COMPLETE_GRAPH,
      }),
    { code: 'SB_ERR_PLAIN_RANGE' },
  );
  t.throws(
    () =>
      maskInput({
        secrets: a.secrets,
        slots: new BigUint64Array(1),
        peers: peersOf(a),
        shared: ['B', 'C'],
        participants: ids,
        graph: COMPLETE_GRAPH,
      }),
    { code: 'SB_ERR_SECAGG_PARAMS' },
    'a node whose shares were not delivered sends no masked input',
  );
});

t.test('sparse graph (Bell et al.): 12 nodes, degree 6, t = 5 of 7 shareholders, one dropout: exact sum', async (t) => {
  const ids = Array.from({ length: 12 }, (_, i) => `N${String(i).padStart(2, '0')}`);
  const graph = { kind: 'harary' as const, degree: 6 };
  const r = advertiseAll({ roundId: 'sparse-r1', ids, threshold: 5, graph, seed: 'sparse' });
  await shareAll(r);
  for (const id of ids) t.equal(simNode(r, id).held?.size, 7, `${id} holds 6 peers' shares and its own`);
  const L = 300;
  const survivors = ids.filter((id) => id !== 'N05');
  const slots = new Map(ids.map((id, i) => [id, new BigUint64Array(L).fill(BigInt(i * 1000))]));
  maskAll(r, slots, survivors);
  const signatures = signAll(r, survivors);
  const reveals = revealAll(r, survivors, signatures);
  const sum = new BigUint64Array(L);
  for (const id of survivors) {
    const m = maskedOf(simNode(r, id));
    for (let i = 0; i < L; i++) sum[i] = ((sum[i] as bigint) + (m[i] as bigint)) % PLAIN_MODULUS;
  }
  const out = await unmaskRound(
    {
      roundId: r.roundId,
      participants: ids,
      identityKeys: r.identityKeys,
      threshold: 5,
      graph,
      advertisements: r.advertisements,
      sets: { shared: ids, survivors },
      survivorSignatures: signatures,
      reveals,
      contributors: survivors,
      revealSecretKey: r.keyHolder.secretKey,
    },
    async () => sum,
    L,
  );
  // 0 + 1000 + ... + 11000 without N05's 5000 = 61000.
  t.ok(
    out.sum.every((v) => v === 61000n),
    'every slot is 61000',
  );
});
