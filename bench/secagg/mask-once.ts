/**
 * One node's masked input at 63 institutions × 1,200 crebos (154,728 slots, complete graph: 1 self +
 * 62 pairwise masks, one thread), three times in one fresh process, as a node's `node round` masks
 * once per process: `node --import tsx bench/secagg/mask-once.ts`. Prints wall and CPU time
 * (`process.cpuUsage`) and the process's minor page faults of each run: the first run pays the
 * fresh pages the keystream pieces need until V8's first collection frees them (docs/DECISIONS.md 94).
 */
import { advertiseAll } from './simulate.js';
import { COMPLETE_GRAPH, defaultThreshold, maskInput } from '../../shared/secagg/index.js';

const ids = Array.from({ length: 63 }, (_, i) => `I${String(i).padStart(3, '0')}`);
const r = advertiseAll({
  roundId: 'mask-once',
  ids,
  threshold: defaultThreshold(63, 3),
  graph: COMPLETE_GRAPH,
  seed: 'm',
});
const node = r.nodes.get('I000');
if (!node?.peers) throw new Error('the simulated round has no node I000 with verified peers');
for (let k = 0; k < 3; k++) {
  const f0 = process.resourceUsage().minorPageFault;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  maskInput({
    secrets: node.secrets,
    slots: new BigUint64Array(154728),
    peers: node.peers,
    shared: ids,
    participants: ids,
    graph: COMPLETE_GRAPH,
  });
  const c = process.cpuUsage(c0);
  const faults = process.resourceUsage().minorPageFault - f0;
  console.log(
    `masking, 1 self + 62 pairwise masks, run ${k + 1} in this process: ${(performance.now() - t0).toFixed(0)} ms wall / ` +
      `${((c.user + c.system) / 1000).toFixed(0)} ms CPU, ${faults} minor page faults`,
  );
}
