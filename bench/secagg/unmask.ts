/**
 * The key holder's unmasking alone, at 63 institutions × 1,200 crebos (154,728 slots), complete
 * graph, t = 42: `node --import tsx bench/secagg/unmask.ts [dropouts=21] [lanes=1] [repeats=2]` (or, after `npm run build`,
 * `node dist/bench/secagg/unmask.js …`: a worker then starts from the build, as in the product).
 * First the whole step once as the product runs it (`unmaskRound`, fresh default pool).
 * A round is simulated (bench/secagg/simulate.ts: advertisements, Shamir shares placed directly,
 * survivor-set signatures, reveals), `prepareUnmasking` runs once, then `applyUnmasking` removes the
 * masks `repeats` times from a zero sum on a pool of `lanes` lanes (started before the timing).
 * Prints per run: wall and CPU time (`process.cpuUsage`, all threads), CPU per mask, and the
 * process's minor page faults during the run (docs/DECISIONS.md 94: the keystream pieces' pages).
 */
import { applyUnmasking, prepareUnmasking, unmaskRound, unmaskTasks } from '../../keyholder/unmask.js';
import { COMPLETE_GRAPH, defaultThreshold, MaskWorkerPool } from '../../shared/secagg/index.js';
import { generateBfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import { decryptSum } from '../../shared/crypto/decrypt.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { defaultMaskLanes, defaultMaskPoolSize } from '../../shared/secagg/mask-pool.js';
import { advertiseAll, revealAll, shareAllDirect, signAll } from './simulate.js';

const L = 154728;
const n = 63;
const drops = Number(process.argv[2] ?? 21);
const lanes = Number(process.argv[3] ?? 1);
const repeats = Number(process.argv[4] ?? 2);
const ids = Array.from({ length: n }, (_, i) => `I${String(i).padStart(3, '0')}`);
const threshold = defaultThreshold(n, 3);
const round = advertiseAll({ roundId: 'bench-unmask', ids, threshold, graph: COMPLETE_GRAPH, seed: 'bench-unmask' });
await shareAllDirect(round);
const survivors = ids.slice(0, n - drops);
const signatures = signAll(round, survivors);
const input = {
  roundId: round.roundId,
  participants: ids,
  identityKeys: round.identityKeys,
  threshold,
  graph: COMPLETE_GRAPH,
  advertisements: round.advertisements,
  sets: { shared: ids, survivors },
  survivorSignatures: signatures,
  reveals: revealAll(round, survivors, signatures),
  contributors: survivors,
  revealSecretKey: round.keyHolder.secretKey,
};
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
// The key holder's whole step as the product runs it (keyholder/unmask.ts `unmaskRound`): every
// check, the Shamir reconstruction, the BFV decryption of the sum (38 real node-seal ciphertexts
// in the SEAL worker, started before the timing as the key holder's is by then), and the masks
// removed on a FRESH process-default pool (lanes by work size): its worker starts during the
// decryption, as in the product. Then the same without the decryption (`decrypt` returns the
// zero sum at once), so the worker's start is counted in full.
{
  const keys = await generateBfvKeyPair();
  const sum = await encryptSlots(keys.publicKey, new BigUint64Array(L));
  await decryptSum(keys.secretKey, sum); // the SEAL worker started, as a key holder's is
  for (const [label, decrypt] of [
    ['with the BFV decryption of the sum', () => decryptSum(keys.secretKey, sum)],
    ['without the decryption (worker start not overlapped)', async () => new BigUint64Array(L)],
  ] as const) {
    const fresh = new MaskWorkerPool(defaultMaskPoolSize(), (k) => defaultMaskLanes(k));
    const w = performance.now();
    const c = cpuNow();
    await unmaskRound(input, decrypt, L, fresh);
    console.log(
      `${drops} dropouts, whole unmaskRound ${label} (checks, reveals, Shamir, masks; fresh default ` +
        `pool of up to ${fresh.size} lanes, worker start included): ` +
        `${(performance.now() - w).toFixed(0)} ms wall / ${(cpuNow() - c).toFixed(0)} ms CPU`,
    );
    await fresh.close();
  }
}
const plan = await prepareUnmasking(input);
const masks = unmaskTasks(plan).length;
const pool = new MaskWorkerPool(lanes);
await pool.start();
for (let r = 0; r < repeats; r++) {
  const f0 = process.resourceUsage().minorPageFault;
  const w = performance.now();
  const c = cpuNow();
  await applyUnmasking(plan, new BigUint64Array(L), L, pool);
  const wall = performance.now() - w;
  const cpu = cpuNow() - c;
  const faults = process.resourceUsage().minorPageFault - f0;
  console.log(
    `${drops} dropouts, ${masks} masks, ${lanes} lane(s), run ${r + 1}: ${wall.toFixed(0)} ms ` +
      `wall / ${cpu.toFixed(0)} ms CPU (${(cpu / masks).toFixed(2)} ms CPU per mask), ${faults} ` +
      'minor page faults',
  );
}
await pool.close();
