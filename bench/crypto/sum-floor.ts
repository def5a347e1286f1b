/**
 * The coordinator's homomorphic sum against the physical floor (issue 15), in one run:
 * `CiphertextSum` adding 63 real-size contributions (38 BFV ciphertexts each, every coefficient
 * validated) against plain additions over the same number of 64-bit coefficients
 * (63 x 38 x 2 polynomials x 2 moduli x 4,096 = 39.2 million):
 *  - `Float64Array` add of coefficients already in number form: the floor (one read and one
 *    read-modify-write per coefficient, no conversion, no check);
 *  - `BigUint64Array` add modulo q (the same arithmetic with 64-bit integers).
 * Medians of `--runs` (default 5) after one warm-up each; contributions cycle through 8 distinct
 * encryptions (the cost does not depend on the values).
 *
 *   node --import tsx bench/crypto/sum-floor.ts [--institutions 63] [--runs 5]
 */
import { cpus } from 'node:os';
import { generateBfvKeyPair } from '../../shared/crypto/bfv-keys.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { getHe } from '../../shared/crypto/he-context.js';
import {
  CIPHERTEXT_COEFFS,
  CIPHERTEXT_DATA_OFFSET,
  DATA_COEFF_MODULI,
  SLOTS_PER_CIPHERTEXT,
} from '../../shared/crypto/he-params.js';
import { CiphertextSum } from '../../shared/crypto/sum.js';
import { buildCodebook, type CodebookEntry } from '../../shared/metrics/codebook.js';
import { flatten, layoutCiphertexts } from '../../shared/protocol/layout.js';
import { emptyVector } from '../../shared/metrics/vector.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--institutions', 63);
const RUNS = arg('--runs', 5);
const DISTINCT = 8;

// The real-size codebook of bench/crypto/run.ts: 1,200 crebos in 8 sectorkamers.
const entries: CodebookEntry[] = Array.from({ length: 1200 }, (_, i) => ({
  crebo: String(90000 + i),
  name: `Opleiding ${i} (synthetisch)`,
  niveau: ((Math.floor(i / 8) % 4) + 1) as 1 | 2 | 3 | 4,
  sectorkamerCode: `SK${i % 8}`,
  sectorkamerName: `Sectorkamer ${i % 8}`,
}));
const cb = buildCodebook(entries);
const nCt = layoutCiphertexts(cb);

await getHe();
const kp = await generateBfvKeyPair();
const contribs: Uint8Array[][] = [];
for (let d = 0; d < DISTINCT; d++) {
  const v = emptyVector(cb, '2024-2025');
  let s = d + 1;
  for (const row of [...v.cells, ...v.groups])
    for (let k = 0; k < row.length; k++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      row[k] = s % 1_000_000;
    }
  contribs.push(await encryptSlots(kp.publicKey, flatten(cb, v, { maxParticipants: 500 })));
}

// The same coefficients, decoded once outside the timing, for the floors.
const Q = DATA_COEFF_MODULI.map(Number);
const QB = DATA_COEFF_MODULI.map(BigInt);
function coefficients(ct: Uint8Array): { f: Float64Array; b: BigUint64Array } {
  const data = new Uint8Array(CIPHERTEXT_COEFFS * 8);
  data.set(ct.subarray(CIPHERTEXT_DATA_OFFSET));
  const b = new BigUint64Array(data.buffer);
  return { f: Float64Array.from(b, (x) => Number(x)), b };
}
const decoded = contribs.map((c) => c.map(coefficients));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
/**
 * Median wall time and median CPU time (user + system of this single-threaded process, ms) of
 * `f`. On a machine shared with other jobs the CPU time is the steadier figure: wall time
 * includes the time the thread waited for a core.
 */
function time(f: () => void): { wall: number; cpu: number } {
  f(); // warm-up
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

let check = 0;
const he = time(() => {
  const s = new CiphertextSum(nCt);
  for (let i = 0; i < N; i++) s.add(contribs[i % DISTINCT] as Uint8Array[]);
  check += s.result().length;
});

const floatFloor = time(() => {
  const acc = Array.from({ length: nCt }, () => new Float64Array(CIPHERTEXT_COEFFS));
  for (let i = 0; i < N; i++) {
    const c = decoded[i % DISTINCT] as { f: Float64Array }[];
    for (let k = 0; k < nCt; k++) {
      const a = acc[k] as Float64Array;
      const x = (c[k] as { f: Float64Array }).f;
      for (let j = 0; j < CIPHERTEXT_COEFFS; j++) a[j] = (a[j] as number) + (x[j] as number);
    }
  }
  // One reduction at the end, as CiphertextSum does.
  for (const a of acc)
    for (let j = 0; j < CIPHERTEXT_COEFFS; j++)
      a[j] = (a[j] as number) % (Q[Math.floor(j / SLOTS_PER_CIPHERTEXT) & 1] as number);
  check += acc.length;
});

const bigFloor = time(() => {
  const acc = Array.from({ length: nCt }, () => new BigUint64Array(CIPHERTEXT_COEFFS));
  for (let i = 0; i < N; i++) {
    const c = decoded[i % DISTINCT] as { b: BigUint64Array }[];
    for (let k = 0; k < nCt; k++) {
      const a = acc[k] as BigUint64Array;
      const x = (c[k] as { b: BigUint64Array }).b;
      for (let j = 0; j < CIPHERTEXT_COEFFS; j++) {
        const q = QB[Math.floor(j / SLOTS_PER_CIPHERTEXT) & 1] as bigint;
        const v = (a[j] as bigint) + (x[j] as bigint);
        a[j] = v >= q ? v - q : v;
      }
    }
  }
  check += acc.length;
});

const coeffs = N * nCt * CIPHERTEXT_COEFFS;
const row = (what: string, m: { wall: number; cpu: number }) =>
  `| ${what} | ${m.cpu.toFixed(0)} | ${((m.cpu * 1e6) / coeffs).toFixed(2)} | ${(m.cpu / floatFloor.cpu).toFixed(2)}x | ` +
  `${m.wall.toFixed(0)} | ${(m.wall / floatFloor.wall).toFixed(2)}x |`;
const lines = [
  `machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
  `${N} contributions x ${nCt} ciphertexts x ${CIPHERTEXT_COEFFS} coefficients = ${(coeffs / 1e6).toFixed(1)} million 64-bit coefficients; medians of ${RUNS}`,
  '| what | CPU ms | CPU ns per coefficient | CPU ratio to the floor | wall ms | wall ratio |',
  '|---|---|---|---|---|---|',
  row('coordinator sum (CiphertextSum: validate + add, reduce once)', he),
  row('floor: Float64Array add of decoded coefficients, reduce once', floatFloor),
  row('BigUint64Array add mod q', bigFloor),
  `coordinator sum / BigUint64Array add mod q: ${(he.cpu / bigFloor.cpu).toFixed(2)}x (CPU)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (check === 0) throw new Error('nothing summed');
