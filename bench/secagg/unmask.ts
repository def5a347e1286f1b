/**
 * The key holder's unmasking alone, at 63 institutions × 1,200 crebos (154,728 slots), complete
 * graph, t = 42: `node --import tsx bench/secagg/unmask.ts [dropouts=21] [lanes=1] [repeats=2]`.
 * A round is simulated (bench/secagg/simulate.ts: advertisements, Shamir shares placed directly,
 * survivor-set signatures, reveals), `prepareUnmasking` runs once, then `applyUnmasking` removes the
 * masks `repeats` times from a zero sum on a pool of `lanes` lanes (started before the timing).
 * Prints per run: wall and CPU time (`process.cpuUsage`, all threads), CPU per mask, and the
 * process's minor page faults during the run (docs/DECISIONS.md 94: the keystream pieces' pages).
 */
import { applyUnmasking, prepareUnmasking, unmaskTasks } from '../../keyholder/unmask.js';
import { COMPLETE_GRAPH, defaultThreshold, MaskWorkerPool } from '../../shared/secagg/index.js';
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
const plan = await prepareUnmasking({
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
});
const masks = unmaskTasks(plan).length;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
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
