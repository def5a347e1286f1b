/**
 * Crypto benchmark (docs/PERFORMANCE.md, "Crypto"): `node --import tsx bench/crypto/run.ts`.
 * A real-size codebook (1,200 crebos in 8 sectorkamers: 2,400 cells x 64 slots + group rows).
 */
import { cpus } from 'node:os';
import { generateBfvKeyPair, bfvPublicKeyDigest } from '../../shared/crypto/bfv-keys.js';
import { decryptSum, sealSum } from '../../shared/crypto/decrypt.js';
import { encryptSlots } from '../../shared/crypto/encrypt.js';
import { getHe } from '../../shared/crypto/he-context.js';
import { CIPHERTEXT_BYTES } from '../../shared/crypto/he-params.js';
import { generateIdentity } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { CiphertextSum } from '../../shared/crypto/sum.js';
import { buildCodebook, codebookDigest, type CodebookEntry } from '../../shared/metrics/codebook.js';
import { emptyVector } from '../../shared/metrics/vector.js';
import { buildEnvelope, signEnvelope } from '../../shared/protocol/envelope.js';
import { flatten, layoutCiphertexts, layoutLength, unflatten } from '../../shared/protocol/layout.js';
import { encodeContribution, parseContribution } from '../../shared/protocol/wire.js';

const entries: CodebookEntry[] = Array.from({ length: 1200 }, (_, i) => ({
  crebo: String(90000 + i),
  name: `Opleiding ${i} (synthetisch)`,
  niveau: ((Math.floor(i / 8) % 4) + 1) as 1 | 2 | 3 | 4,
  sectorkamerCode: `SK${i % 8}`,
  sectorkamerName: `Sectorkamer ${i % 8}`,
}));
const cb = buildCodebook(entries);
const slots = layoutLength(cb);
const nCt = layoutCiphertexts(cb);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
function vector(seed: number) {
  const r = rng(seed);
  const v = emptyVector(cb, '2024-2025');
  for (const row of [...v.cells, ...v.groups])
    for (let s = 0; s < row.length; s++) row[s] = Math.floor(r() * 1_000_000);
  return v;
}
const ms = (t0: number) => performance.now() - t0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

await getHe();
const kp = await generateBfvKeyPair();
const id = generateIdentity();
console.log(`machine: ${cpus().length} CPUs, ${cpus()[0]?.model}, node ${process.version}`);
console.log(`codebook: ${cb.cellKeys.length} cells, ${cb.groupKeys.length} groups, ${slots} slots, ${nCt} ciphertexts`);

// 1. Encode + encrypt one contribution (flatten with range checks included).
const DISTINCT = 8;
const contribs: Uint8Array[][] = [];
const flats: BigUint64Array[] = [];
const encTimes: number[] = [];
for (let i = 0; i < DISTINCT; i++) {
  const v = vector(i + 1);
  const t0 = performance.now();
  const flat = flatten(cb, v, { maxParticipants: 500 });
  const cts = await encryptSlots(kp.publicKey, flat);
  encTimes.push(ms(t0));
  flats.push(flat);
  contribs.push(cts);
}
console.log(
  `encode+encrypt one contribution: median ${median(encTimes).toFixed(0)} ms (min ${Math.min(...encTimes).toFixed(0)}, n=${DISTINCT})`,
);

// 2. Bytes on the wire.
const env = signEnvelope(
  buildEnvelope({
    roundId: '2024-2025-r1',
    institutionId: 'INST1',
    codebookDigest: codebookDigest(cb),
    hePublicKeyDigest: bfvPublicKeyDigest(kp.publicKey),
    ciphertexts: contribs[0]!,
  }),
  id.secretKey,
);
const wire = encodeContribution({ envelope: env, ciphertexts: contribs[0]! });
const raw = nCt * CIPHERTEXT_BYTES;
console.log(
  `wire: ${wire.byteLength} bytes for ${raw} raw ciphertext bytes (+${(((wire.byteLength - raw) / raw) * 100).toFixed(3)} %)`,
);
let t0 = performance.now();
for (let i = 0; i < 10; i++) parseContribution(wire);
console.log(`parse wire (digests + validation): ${(ms(t0) / 10).toFixed(1)} ms per contribution`);

// 3. Coordinator sum vs plain BigUint64Array sum.
function heSum(n: number): { t: number; sum: Uint8Array[] } {
  const s = new CiphertextSum(nCt);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) s.add(contribs[i % DISTINCT]!);
  const sum = s.result();
  return { t: ms(t0), sum };
}
function plainSum(n: number): number {
  const acc = new BigUint64Array(slots);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const f = flats[i % DISTINCT]!;
    for (let k = 0; k < slots; k++) acc[k] = (acc[k] as bigint) + (f[k] as bigint);
  }
  return ms(t0);
}
let sum63: Uint8Array[] = [];
for (const n of [63, 500]) {
  heSum(n);
  plainSum(n); // warm-up
  const he = [0, 1, 2].map(() => heSum(n));
  const pl = [0, 1, 2].map(() => plainSum(n));
  const h = median(he.map((x) => x.t));
  const p = median(pl);
  if (n === 63) sum63 = he[0]!.sum;
  console.log(
    `sum of ${n}: encrypted ${h.toFixed(0)} ms (validation included), plain BigUint64Array ${p.toFixed(0)} ms, ratio ${(h / p).toFixed(2)}`,
  );
}
t0 = performance.now();
await sealSum(Array.from({ length: 63 }, (_, i) => contribs[i % DISTINCT]!));
console.log(
  `for comparison, sum of 63 with SEAL Evaluator.add in the worker (incl. transfer, validation, load): ${ms(t0).toFixed(0)} ms`,
);

// 4. Decryption of the sum (key holder, in the worker).
await decryptSum(kp.secretKey, sum63);
const dt: number[] = [];
for (let i = 0; i < 3; i++) {
  t0 = performance.now();
  const out = await decryptSum(kp.secretKey, sum63);
  unflatten(cb, out, '2024-2025');
  dt.push(ms(t0));
}
console.log(`decrypt + decode + unflatten the sum: median ${median(dt).toFixed(0)} ms`);
console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await sealWorker().close();
