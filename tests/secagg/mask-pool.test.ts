// The mask pool (shared/secagg/mask-pool.ts): the masks of a node's input and of the key
// holder's unmasking spread over worker threads give the same bits as one thread, the exact sum
// with 1 and n - t dropouts, and errors from a worker come back coded.
import t from 'tap';
import { unmaskRound } from '../../keyholder/unmask.js';
import { PLAIN_MODULUS } from '../../shared/crypto/he-params.js';
import {
  COMPLETE_GRAPH,
  defaultMaskLanes,
  defaultMaskPoolSize,
  defaultThreshold,
  type MaskTask,
  MaskWorkerPool,
  maskInput,
  maskInputParallel,
  maskTasks,
  type PeerKeys,
  splitTasks,
} from '../../shared/secagg/index.js';
import { advertiseAll, revealAll, shareAll, signAll } from '../../bench/secagg/simulate.js';
import { peersOf, simNode } from '../helpers/sim.js';

const ids = Array.from({ length: 9 }, (_, i) => `M${i}`);
const threshold = defaultThreshold(9, 3); // 6, so n - t = 3
// Longer than one keystream piece (3,276 candidates), so every mask spans several pieces.
const L = 7000;
/** Node i's slots: i * 1,000,000 + slot index (the expected sums are written out below). */
const slotsOf = (i: number) => BigUint64Array.from({ length: L }, (_, k) => BigInt(i * 1_000_000 + k));

const one = new MaskWorkerPool(1);
const two = new MaskWorkerPool(2);
const three = new MaskWorkerPool(3);
t.teardown(async () => {
  await Promise.all([one.close(), two.close(), three.close()]);
});

t.test('pool size from the environment: default capped at 4, override 1-16, nonsense refused', async (t) => {
  const d = defaultMaskPoolSize({});
  t.ok(d >= 1 && d <= 4, `default ${d}`);
  t.equal(defaultMaskPoolSize({ SECTORBENCH_MASK_THREADS: '1' }), 1);
  t.equal(defaultMaskPoolSize({ SECTORBENCH_MASK_THREADS: '7' }), 7);
  for (const bad of ['0', '17', '2.5', 'two'])
    t.throws(() => defaultMaskPoolSize({ SECTORBENCH_MASK_THREADS: bad }), { code: 'SB_ERR_USAGE' }, bad);
  t.throws(() => new MaskWorkerPool(0), { code: 'SB_ERR_USAGE' });
});

t.test('lanes by work size: one below 200 tasks, the pool size from there on; the variable always wins', async (t) => {
  const d = defaultMaskPoolSize({});
  t.equal(defaultMaskLanes(63, {}), 1, "a node's masked input at 63: no worker");
  t.equal(defaultMaskLanes(199, {}), 1);
  t.equal(defaultMaskLanes(200, {}), d);
  t.equal(defaultMaskLanes(924, {}), d, "the key holder's 924 masks: every lane");
  t.equal(defaultMaskLanes(63, { SECTORBENCH_MASK_THREADS: '3' }), 3);
  t.equal(defaultMaskLanes(924, { SECTORBENCH_MASK_THREADS: '1' }), 1);
  t.throws(() => defaultMaskLanes(924, { SECTORBENCH_MASK_THREADS: 'x' }), { code: 'SB_ERR_USAGE' });
});

t.test('tasks split into contiguous runs, the first from task 0 (the self mask stays in the node)', async (t) => {
  const self: MaskTask = { kind: 'self', id: 'A', seed: new Uint8Array(32), sign: 1 };
  const pair = (b: string): MaskTask => ({
    kind: 'pair',
    a: 'A',
    b,
    secretKey: new Uint8Array(32),
    publicKey: new Uint8Array(32),
    sign: 1,
  });
  const tasks = [self, ...Array.from({ length: 62 }, (_, i) => pair(`P${i}`))];
  for (const lanes of [1, 2, 3, 4]) {
    const runs = splitTasks(tasks, lanes);
    t.equal(runs.length, lanes, `${lanes} runs`);
    t.equal(runs[0]?.[0], self, 'run 0 starts with the self mask');
    t.same(runs.flat(), tasks, 'every task once, in order');
  }
  // Self masks cost half a pair (no key agreement): 2 lanes over 1 self + 62 pairs = 250 units.
  t.same(
    splitTasks(tasks, 2).map((r) => r.length),
    [32, 31],
    'about half the cost each',
  );
  t.same(splitTasks([self], 4).length, 1, 'no empty runs');
});

t.test('masked inputs: pool sizes 1, 2 and 3 give the bits of maskInput', async (t) => {
  const r = advertiseAll({ roundId: 'pool-r1', ids, threshold, graph: COMPLETE_GRAPH, seed: 'pool' });
  for (const [i, id] of ids.entries()) {
    const n = simNode(r, id);
    const o = {
      secrets: n.secrets,
      slots: slotsOf(i),
      peers: peersOf(n),
      shared: ids,
      participants: ids,
      graph: COMPLETE_GRAPH,
    };
    const ref = maskInput(o);
    for (const pool of [one, two, three]) {
      const got = await maskInputParallel(o, pool);
      t.same(Buffer.from(got.buffer), Buffer.from(ref.buffer), `${id}, ${pool.size} lane(s): same bytes`);
    }
    t.notOk(
      ref.every((v, k) => v === BigInt(i * 1_000_000 + k)),
      'and the input is masked',
    );
  }
  t.ok(
    [...r.nodes.values()].every((n) => n.secrets.maskSecretKey.some((b) => b !== 0)),
    "the node's own secrets are untouched (workers zero only their copies)",
  );
});

t.test('unmasking: 0, 1 and n - t dropouts give the exact sum with pool sizes 1 and 2', async (t) => {
  const r = advertiseAll({ roundId: 'pool-r2', ids, threshold, graph: COMPLETE_GRAPH, seed: 'pool2' });
  await shareAll(r);
  const masked = new Map<string, BigUint64Array>();
  for (const [i, id] of ids.entries()) {
    const n = simNode(r, id);
    masked.set(
      id,
      await maskInputParallel(
        {
          secrets: n.secrets,
          slots: slotsOf(i),
          peers: peersOf(n),
          shared: ids,
          participants: ids,
          graph: COMPLETE_GRAPH,
        },
        two,
      ),
    );
  }
  for (const drops of [0, 1, ids.length - threshold]) {
    const survivors = ids.slice(0, ids.length - drops);
    const signatures = signAll(r, survivors);
    const reveals = revealAll(r, survivors, signatures);
    const maskedSum = new BigUint64Array(L);
    for (const id of survivors) {
      const m = masked.get(id) as BigUint64Array;
      for (let k = 0; k < L; k++) maskedSum[k] = ((maskedSum[k] as bigint) + (m[k] as bigint)) % PLAIN_MODULUS;
    }
    const input = {
      roundId: r.roundId,
      participants: ids,
      identityKeys: r.identityKeys,
      threshold,
      graph: COMPLETE_GRAPH,
      advertisements: r.advertisements,
      sets: { shared: ids, survivors },
      survivorSignatures: signatures,
      reveals,
      contributors: survivors,
      revealSecretKey: r.keyHolder.secretKey,
    };
    const s = survivors.length;
    // Σ_{i<s} (i * 1,000,000 + k) = 1,000,000 * s(s-1)/2 + s * k.
    const expected = BigUint64Array.from({ length: L }, (_, k) => BigInt(1_000_000 * ((s * (s - 1)) / 2) + s * k));
    const sums: BigUint64Array[] = [];
    for (const pool of [one, two]) {
      const out = await unmaskRound(input, async () => maskedSum.slice(), L, pool);
      sums.push(out.sum);
      t.same(
        Buffer.from(out.sum.buffer),
        Buffer.from(expected.buffer),
        `${drops} dropouts, ${pool.size} lane(s): exact sum`,
      );
    }
    t.same(Buffer.from((sums[0] as BigUint64Array).buffer), Buffer.from((sums[1] as BigUint64Array).buffer));
  }
});

t.test('a worker that meets a low-order key: coded error, and the pool works afterwards', async (t) => {
  const r = advertiseAll({ roundId: 'pool-r3', ids, threshold, graph: COMPLETE_GRAPH, seed: 'pool3' });
  const n = simNode(r, 'M0');
  const peers = new Map(peersOf(n));
  // The last peer (in M8's run, on the worker) advertised the zero point.
  peers.set('M8', { ...(peers.get('M8') as PeerKeys), maskPublicKey: new Uint8Array(32) });
  const o = { secrets: n.secrets, slots: slotsOf(0), peers, shared: ids, participants: ids, graph: COMPLETE_GRAPH };
  const runs = splitTasks(maskTasks(o), 2);
  t.ok(
    runs[1]?.some((x) => x.kind === 'pair' && x.b === 'M8'),
    'the bad pair runs on the worker',
  );
  await t.rejects(maskInputParallel(o, two), { code: 'SB_ERR_SECAGG_KEYS' });
  const good = { ...o, peers: peersOf(n) };
  t.same(
    Buffer.from((await maskInputParallel(good, two)).buffer),
    Buffer.from(maskInput(good).buffer),
    'next call fine',
  );
});
