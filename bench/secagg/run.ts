/**
 * Secure-aggregation benchmark (docs/PERFORMANCE.md, "Secure aggregation"):
 * `node --import tsx bench/secagg/run.ts [--only 63|63s|500] [--lanes N]`.
 *
 * - 63 institutions, complete graph, t = 42, a real-size codebook (1,200 crebos, as bench/crypto):
 *   masking time per node against its encrypt-and-submit time (encrypt, envelope, wire), bytes per
 *   node per phase, the key holder's unmasking time with 0, 1 and n - t dropouts.
 * - 500 institutions, the key holder's default graph there (keyholder/endorse.ts
 *   `defaultMaskGraph`: the sparse Harary graph of Bell et al., CCS 2020, degree 36) and default
 *   threshold (25 of 37 shareholders): PRG work per node and the key holder's reconstruction and
 *   unmasking with 5 dropouts; and the PRG work the complete graph would need there (500
 *   expansions per node; the complete graph cannot be used at 500: Shamir in GF(2^8) takes at
 *   most 255 shareholders).
 * Times are wall clock and CPU time of this process (`process.cpuUsage`, all threads): on a
 * shared machine the CPU time is the steadier figure.
 * Masking and unmasking are measured twice: in one thread and on a warm mask pool of `--lanes`
 * lanes (default the product's: shared/secagg/mask-pool.ts `defaultMaskPoolSize`), compared byte
 * for byte; the pool's cold start is measured on its own (a real node pays it once per round).
 * All nodes are simulated in this one process (bench/secagg/simulate.ts); the unmasked sum is
 * checked slot by slot against the plain sum.
 */
import { cpus } from 'node:os';
import { generateBfvKeyPair, bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { getHe } from '../../shared/crypto/he-context.js';
import { PLAIN_MODULUS } from '../../shared/crypto/he-params.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { buildCodebook, codebookDigest, type CodebookEntry } from '../../shared/metrics/codebook.js';
import { buildEnvelope, signEnvelope } from '../../shared/protocol/envelope.js';
import { signObject } from '../../shared/protocol/signed-object.js';
import { layoutLength } from '../../shared/protocol/layout.js';
import { encodeContribution } from '../../shared/protocol/wire.js';
import {
  COMPLETE_GRAPH,
  defaultThreshold,
  type MaskGraph,
  maskInput,
  maskInputParallel,
  MaskWorkerPool,
  defaultMaskPoolSize,
  addMaskUnreduced,
  checkSurvivorSignatures,
  maskPeers,
  pairMaskKey,
  type PeerKeys,
  shareKeys,
} from '../../shared/secagg/index.js';
import { defaultMaskGraph } from '../../keyholder/endorse.js';
import { applyUnmasking, prepareUnmasking } from '../../keyholder/unmask.js';
import type { SurvivorSetSignature } from '../../schemas/secagg-messages.js';
import { advertiseAll, revealAll, shareAll, shareAllDirect, signAll, type SimNode, type SimRound } from './simulate.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const only = arg('--only');
/** Lanes of the mask pool measured against one lane (`--lanes N`, default the product's default). */
const lanes = Number(arg('--lanes') ?? defaultMaskPoolSize());
const entries: CodebookEntry[] = Array.from({ length: 1200 }, (_, i) => ({
  crebo: String(90000 + i),
  name: `Opleiding ${i} (synthetisch)`,
  niveau: ((Math.floor(i / 8) % 4) + 1) as 1 | 2 | 3 | 4,
  sectorkamerCode: `SK${i % 8}`,
  sectorkamerName: `Sectorkamer ${i % 8}`,
}));
const cb = buildCodebook(entries);
const L = layoutLength(cb);
const T = PLAIN_MODULUS;
const ms = (t0: number) => performance.now() - t0;
/** CPU time of this process so far, ms (user + system, all threads). */
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const bytes = (o: unknown) => Buffer.byteLength(JSON.stringify(o));
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

/** Deterministic slot values below 1,000,000 (as bench/crypto's vectors), node i. */
function slotsOf(i: number): BigUint64Array {
  let s = (i + 1) >>> 0;
  const out = new BigUint64Array(L);
  for (let k = 0; k < L; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[k] = BigInt(Math.floor((s / 4294967296) * 1_000_000));
  }
  return out;
}

console.log(
  `machine: ${cpus().length} CPUs, ${cpus()[0]?.model}, node ${process.version} (shared with other jobs: noisy)`,
);
console.log(`codebook: ${cb.cellKeys.length} cells, ${cb.groupKeys.length} groups, ${L} slots`);

interface Scenario {
  n: number;
  graph: MaskGraph;
  threshold: number;
  drops: number[];
  /** 63: every node masks (the masked sum is checked exactly), encryption measured; 500: a sample of nodes. */
  full: boolean;
}

/** Wall and CPU time (ms) of `f`, CPU of the whole process (every thread, workers included). */
async function timed<T>(f: () => T | Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const t1 = performance.now();
  const c1 = cpuNow();
  const value = await f();
  return { value, wall: ms(t1), cpu: cpuNow() - c1 };
}

const stats = (xs: number[]) => `median ${median(xs).toFixed(0)} (min ${Math.min(...xs).toFixed(0)})`;

async function scenario(o: Scenario) {
  const ids = Array.from({ length: o.n }, (_, i) => `I${String(i).padStart(3, '0')}`);
  console.log(
    `\n== ${o.n} institutions, ${o.graph.kind === 'complete' ? 'complete graph' : `Harary graph degree ${o.graph.degree}`}, ` +
      `t = ${o.threshold}, mask pool of ${lanes} lanes against 1`,
  );
  const round = await setUpRound(o, ids);
  const sums = await maskNodes(o, round, ids);
  await maskBreakdown(o, round, ids);
  const pool = await poolStart();
  if (o.full) await encryptCost(round, ids, sums.firstMasked as BigUint64Array, sums.maskWall, sums.maskCpu, pool);
  phaseBytes(o, round, ids);
  for (const d of o.drops) {
    const survivors = ids.slice(0, o.n - d);
    const signatures = signAll(round, survivors);
    if (d === o.drops[0]) consistencyCost(o, round, ids, survivors, signatures);
    await keyHolderCost(o, round, ids, d, survivors, signatures, sums);
  }
}

/** Advertise (all nodes) and share keys (all nodes at 63; at 500 three nodes with boxes, the rest placed directly). */
async function setUpRound(o: Scenario, ids: string[]): Promise<SimRound> {
  let t0 = performance.now();
  const round = advertiseAll({
    roundId: `bench-${o.n}`,
    ids,
    threshold: o.threshold,
    graph: o.graph,
    seed: `bench-${o.n}`,
  });
  console.log(`advertise (all nodes) + verify the list (once): ${ms(t0).toFixed(0)} ms`);
  t0 = performance.now();
  if (o.full) {
    await shareAll(round);
    const shareMs = ms(t0);
    console.log(
      `share keys (all nodes: Shamir split, nacl.box, open): ${shareMs.toFixed(0)} ms, ${(shareMs / o.n).toFixed(1)} ms per node`,
    );
    return round;
  }
  const per: number[] = [];
  for (const id of ids.slice(0, 3)) {
    const node = round.nodes.get(id) as SimNode;
    const t1 = performance.now();
    const s = await shareKeys({
      secrets: node.secrets,
      peers: node.peers as Map<string, PeerKeys>,
      participants: ids,
      graph: o.graph,
      threshold: o.threshold,
    });
    per.push(ms(t1));
    node.outgoing = s.outgoing;
  }
  await shareAllDirect(round);
  console.log(
    `share keys, one node (Shamir split among its ${(round.nodes.get(ids[0] as string) as SimNode).outgoing?.length} ` +
      `neighbours and itself, one nacl.box each): median ${median(per).toFixed(0)} ms (n=3); the ` +
      `other nodes' shares placed directly (no boxes) to save time`,
  );
  return round;
}

interface Sums {
  maskedSum: Map<number, Float64Array>;
  trueSum: Map<number, Float64Array>;
  firstMasked: BigUint64Array | undefined;
  /** Median masking wall / CPU per node, 1 lane and `lanes` lanes. */
  maskWall: [number, number];
  maskCpu: [number, number];
}

/**
 * Masked input per node, twice: in one thread (`maskInput`) and on the warm pool of `lanes`
 * lanes (`maskInputParallel`); the two must be equal byte for byte. Sums kept as doubles mod t.
 */
async function maskNodes(o: Scenario, round: SimRound, ids: string[]): Promise<Sums> {
  const maskedSum = new Map<number, Float64Array>(o.drops.map((d) => [d, new Float64Array(L)]));
  const trueSum = new Map<number, Float64Array>(o.drops.map((d) => [d, new Float64Array(L)]));
  const wall: [number[], number[]] = [[], []];
  const cpu: [number[], number[]] = [[], []];
  let firstMasked: BigUint64Array | undefined;
  const pool = new MaskWorkerPool(lanes);
  await pool.start(); // the start is timed on its own (poolStart)
  for (const [i, id] of ids.entries()) {
    if (!o.full && i >= 3) break;
    const node = round.nodes.get(id) as SimNode;
    const slots = slotsOf(i);
    const options = {
      secrets: node.secrets,
      slots,
      peers: node.peers as Map<string, PeerKeys>,
      shared: ids,
      participants: ids,
      graph: o.graph,
    };
    const one = await timed(() => maskInput(options));
    const par = await timed(() => maskInputParallel(options, pool));
    if (Buffer.compare(Buffer.from(one.value.buffer), Buffer.from(par.value.buffer)) !== 0) {
      console.log(`MASKED INPUTS DIFFER for ${id} between 1 and ${lanes} lanes`);
      process.exitCode = 1;
    }
    wall[0].push(one.wall);
    cpu[0].push(one.cpu);
    wall[1].push(par.wall);
    cpu[1].push(par.cpu);
    const masked = par.value;
    if (i === 0) firstMasked = masked;
    for (const d of o.drops) {
      if (i >= o.n - d) continue; // the last d nodes drop after sharing keys
      const ms_ = maskedSum.get(d) as Float64Array;
      const ts = trueSum.get(d) as Float64Array;
      for (let k = 0; k < L; k++) {
        const a = (ms_[k] as number) + Number(masked[k] as bigint);
        ms_[k] = a >= Number(T) ? a - Number(T) : a;
        ts[k] = (ts[k] as number) + Number(slots[k] as bigint);
      }
    }
    if (o.n > 100 && i % 100 === 99) console.log(`  masked ${i + 1} nodes…`);
  }
  await pool.close();
  const peers0 = maskPeers(round.roundId, ids[0] as string, ids, ids, o.graph).length;
  console.log(
    `masking per node (1 self mask + ${peers0} pairwise masks of ${L} slots), n=${wall[0].length}: ` +
      `1 lane ${stats(wall[0])} ms wall, ${stats(cpu[0])} ms CPU; ${lanes} lanes (warm pool) ${stats(wall[1])} ` +
      `ms wall, ${stats(cpu[1])} ms CPU; same bytes`,
  );
  return {
    maskedSum,
    trueSum,
    firstMasked,
    maskWall: [median(wall[0]), median(wall[1])],
    maskCpu: [median(cpu[0]), median(cpu[1])],
  };
}

/** Of the masking: the pairwise key agreements (tweetnacl X25519 + HKDF), and one expansion alone. */
async function maskBreakdown(o: Scenario, round: SimRound, ids: string[]): Promise<void> {
  const me = round.nodes.get(ids[0] as string) as SimNode;
  const others = maskPeers(round.roundId, me.id, ids, ids, o.graph);
  const peerKeys = me.peers as Map<string, PeerKeys>;
  const ka = await timed(() => {
    for (const j of others) {
      const pk = (peerKeys.get(j) as PeerKeys).maskPublicKey;
      pairMaskKey(round.roundId, me.id, j, me.secrets.maskSecretKey, pk).fill(0);
    }
  });
  console.log(
    `  of which ${others.length} pairwise key agreements (X25519 tweetnacl + HKDF): ${ka.wall.toFixed(0)} ` +
      `ms wall, ${ka.cpu.toFixed(0)} ms CPU (${(ka.cpu / others.length).toFixed(2)} ms each)`,
  );
  const acc = new Float64Array(L);
  const xs: number[] = [];
  for (let r = 0; r < 20; r++) xs.push((await timed(() => addMaskUnreduced(me.secrets.selfSeed, acc, 1))).cpu);
  console.log(
    `  one mask expansion of ${L} slots (AES-256-CTR + rejection sampling + add): median ${median(xs).toFixed(2)} ` +
      `ms CPU (min ${Math.min(...xs).toFixed(2)}, n=20)`,
  );
  if (o.graph.kind !== 'complete') {
    // What the complete graph would cost here: n expansions (and n - 1 agreements) per node.
    console.log(
      `  the complete graph at ${o.n} would take ${o.n} expansions per node: about ${((o.n * median(xs)) / 1000).toFixed(1)} ` +
        `s CPU of PRG plus ${(((o.n - 1) * ka.cpu) / others.length / 1000).toFixed(1)} s of key agreements`,
    );
  }
}

/**
 * Starting a pool of `lanes` lanes from cold (a node's `node round` is its own process, so each
 * node pays this once per masked input): worker threads started and their modules loaded, up to
 * the first answer. Under tsx (this bench) a worker also loads tsx; `node dist/…` loads less.
 */
async function poolStart(): Promise<{ wall: number; cpu: number }> {
  const pool = new MaskWorkerPool(lanes);
  const r = await timed(() => pool.start());
  await pool.close();
  console.log(
    `  starting a pool of ${lanes} lanes (${lanes - 1} worker thread(s), under tsx) up to its ` +
      `first answer: ${r.wall.toFixed(0)} ms wall, ${r.cpu.toFixed(0)} ms CPU`,
  );
  return { wall: r.wall, cpu: r.cpu };
}

/** Encrypt + envelope + wire of one contribution (the in-process denominator), median of 3. */
async function encryptCost(
  round: SimRound,
  ids: string[],
  firstMasked: BigUint64Array,
  maskWall: [number, number],
  maskCpu: [number, number],
  start: { wall: number; cpu: number },
): Promise<void> {
  await getHe();
  const kp = await generateBfvKeyPair();
  const id = generateIdentity();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < 3; r++) {
    const e = await timed(async () => {
      const cts = await encryptSlots(kp.publicKey, firstMasked);
      const env = signEnvelope(
        buildEnvelope({
          roundId: round.roundId,
          institutionId: ids[0] as string,
          codebookDigest: codebookDigest(cb),
          hePublicKeyDigest: bfvPublicKeyDigest(kp.publicKey),
          ciphertexts: cts,
        }),
        id.secretKey,
      );
      encodeContribution({ envelope: env, ciphertexts: cts });
    });
    wall.push(e.wall);
    cpu.push(e.cpu);
  }
  const enc = median(wall);
  const encC = median(cpu);
  const pct = (x: number, y: number) => `${((x / y) * 100).toFixed(0)} %`;
  console.log(
    `encrypt + envelope + wire of one contribution: median ${enc.toFixed(0)} ms wall, ${encC.toFixed(0)} ` +
      `ms CPU (n=3); masking / that: 1 lane ${pct(maskWall[0], enc)} wall, ${pct(maskCpu[0], encC)} ` +
      `CPU; ${lanes} lanes warm ${pct(maskWall[1], enc)} wall, ${pct(maskCpu[1], encC)} CPU; ${lanes} ` +
      `lanes with the pool's start ${pct(maskWall[1] + start.wall, enc)} wall, ${pct(maskCpu[1] + start.cpu, encC)} ` +
      'CPU',
  );
}

/** Bytes per node per phase (JSON as relayed; the coordinator's wrapping not counted). */
function phaseBytes(o: Scenario, round: SimRound, ids: string[]): void {
  const n0 = round.nodes.get(ids[0] as string) as SimNode;
  const adBytes = bytes(n0.advertised);
  const out0 = n0.outgoing ?? [];
  const inBoxes = [...round.nodes.values()].flatMap((n) => n.outgoing ?? []).filter((e) => e.to === n0.id);
  console.log(
    `bytes, node ${n0.id}: advertise sends ${adBytes} B, receives ${kib(round.advertisements.reduce((s, a) => s + bytes(a), 0))} ` +
      `(${o.n} advertisements); share sends ${kib(out0.reduce((s, e) => s + bytes(e), 0))} (${out0.length} ` +
      `boxes), receives ${kib(inBoxes.reduce((s, e) => s + bytes(e), 0))}; masked input: 0 B extra ` +
      '(same ciphertexts)',
  );
}

/**
 * The consistency check of one node over every survivor's signature, as relayed: version 2 (the
 * sets by digest, what nodes sign now) against version 1 (both lists in every signature, as
 * before), same sets, same signers.
 */
function consistencyCost(
  o: Scenario,
  round: SimRound,
  ids: string[],
  survivors: string[],
  signatures: SurvivorSetSignature[],
): void {
  const sorted = [...survivors].sort();
  const v1 = survivors.map((id) =>
    signObject(
      'secagg-survivors',
      {
        type: 'sectorbench.secagg-survivors' as const,
        version: 1 as const,
        round_id: round.roundId,
        institution_id: id,
        shared: [...ids].sort(),
        survivors: sorted,
      },
      'signature',
      (round.nodes.get(id) as SimNode).identity.secretKey,
    ),
  );
  for (const [label, sigs] of [
    ['version 2 (digest)', signatures],
    ['version 1 (lists)', v1],
  ] as const) {
    const c4 = cpuNow();
    const t4 = performance.now();
    const proof = checkSurvivorSignatures({
      roundId: round.roundId,
      threshold: o.threshold,
      sets: { shared: ids, survivors },
      signatures: sigs,
      identityKeys: round.identityKeys,
    });
    console.log(
      `consistency check, one node, all ${sigs.length} signatures, ${label}: ${ms(t4).toFixed(0)} ` +
        `ms wall / ${(cpuNow() - c4).toFixed(0)} ms CPU, ${proof.signers.length} valid; relay ${kib(sigs.reduce((s, x) => s + bytes(x), 0))} ` +
        `per node, ${((sigs.length * sigs.reduce((s, x) => s + bytes(x), 0)) / 2 ** 20).toFixed(1)} ` +
        'MiB from the coordinator in total',
    );
  }
}

/**
 * The key holder with `d` dropouts: every check, the reveals opened and Shamir (`prepareUnmasking`),
 * then the masks removed (`applyUnmasking`) in one lane and on a warm pool of `lanes` lanes; the
 * two sums must be equal, and at 63 equal to the plain sum slot by slot.
 */
async function keyHolderCost(
  o: Scenario,
  round: SimRound,
  ids: string[],
  d: number,
  survivors: string[],
  signatures: SurvivorSetSignature[],
  sums: Sums,
): Promise<void> {
  const t1 = performance.now();
  // 500: each node checks t signatures (what it needs), not all of them: 495 nodes x 495
  // Ed25519 checks would only slow the simulation; the key holder checks all.
  const reveals = revealAll(round, survivors, o.full ? signatures : signatures.slice(0, o.threshold));
  const revealMs = ms(t1) / survivors.length;
  const prep = await timed(() =>
    prepareUnmasking({
      roundId: round.roundId,
      participants: ids,
      identityKeys: round.identityKeys,
      threshold: o.threshold,
      graph: o.graph,
      advertisements: round.advertisements,
      sets: { shared: ids, survivors },
      survivorSignatures: signatures,
      reveals,
      contributors: survivors,
      revealSecretKey: round.keyHolder.secretKey,
    }),
  );
  const plan = prep.value;
  // 500: only a sample of nodes masked, so the sum is not checked; the unmasking does the same
  // work on any input (tests/secagg/core.test.ts checks a sparse round exactly).
  const masked = BigUint64Array.from(sums.maskedSum.get(d) as Float64Array, (v) => BigInt(v));
  const one = await timed(() => applyUnmasking(plan, masked, L, new MaskWorkerPool(1)));
  const pool = new MaskWorkerPool(lanes);
  await pool.start();
  const par = await timed(() => applyUnmasking(plan, masked, L, pool));
  await pool.close();
  const same = Buffer.compare(Buffer.from(one.value.buffer), Buffer.from(par.value.buffer)) === 0;
  const ts = sums.trueSum.get(d) as Float64Array;
  let wrong = 0;
  for (let k = 0; k < L; k++) if (Number(par.value[k] as bigint) !== ts[k]) wrong++;
  const pairMasks = [...plan.droppedMaskKeys.keys()].reduce(
    (s, v) => s + maskPeers(round.roundId, v, ids, ids, o.graph).filter((u) => survivors.includes(u)).length,
    0,
  );
  const verdict = o.full ? (wrong === 0 ? 'exact' : `${wrong} WRONG SLOTS`) : 'not checked (sampled)';
  console.log(
    `dropouts ${d}: consistency signature ${bytes(signatures[0])} B per node (receives ${kib(signatures.reduce((s, x) => s + bytes(x), 0))}), ` +
      `reveal ${kib(bytes(reveals[0]))} per node (build ${revealMs.toFixed(1)} ms); key holder: ` +
      `checks + open reveals + Shamir (${plan.selfSeeds.size} seeds, ${plan.droppedMaskKeys.size} ` +
      `mask keys) ${prep.wall.toFixed(0)} ms wall / ${prep.cpu.toFixed(0)} ms CPU; remove ${plan.selfSeeds.size} ` +
      `self + ${pairMasks} pairwise masks: 1 lane ${one.wall.toFixed(0)} ms wall / ${one.cpu.toFixed(0)} ` +
      `ms CPU, ${lanes} lanes ${par.wall.toFixed(0)} ms wall / ${par.cpu.toFixed(0)} ms CPU; total ` +
      `with ${lanes} lanes ${(prep.wall + par.wall).toFixed(0)} ms wall / ${(prep.cpu + par.cpu).toFixed(0)} ` +
      `ms CPU; ${verdict}${same ? '' : `; 1 AND ${lanes} LANES DIFFER`}`,
  );
  if ((o.full && wrong > 0) || !same) process.exitCode = 1;
}

if (only === undefined || only === '63')
  await scenario({
    n: 63,
    graph: COMPLETE_GRAPH,
    threshold: defaultThreshold(63, 3),
    drops: [0, 1, 21],
    full: true,
  });
// The sparse graph at 63 too, for comparison: degree 12, t = 9 of 13 shareholders.
if (only === undefined || only === '63s')
  await scenario({ n: 63, graph: { kind: 'harary', degree: 12 }, threshold: 9, drops: [0, 1, 4], full: true });
if (only === undefined || only === '500') {
  const graph = defaultMaskGraph(500);
  const holders = graph.kind === 'complete' ? 500 : graph.degree + 1;
  await scenario({ n: 500, graph, threshold: defaultThreshold(holders, 3), drops: [5], full: false });
}
console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await sealWorker().close();
