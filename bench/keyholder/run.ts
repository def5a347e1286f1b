/**
 * Benchmark: time in the key holder for one round of 63 institutions on the sample codebook
 * (read bundle, verify manifest and every envelope, recompute and compare the sum, decrypt,
 * consistency checks, disclosure control, sign). Setup (keys, encryption, bundle) is not timed.
 * With `--crebos N` the codebook is a synthetic one of N crebos and every institution's vector a
 * synthetic institution of `synthetic-sector.ts` (every slot filled, consistent), as in the
 * disclosure bench: `--crebos 1200` is the real-size round. With `--students S` as well, the
 * institutions are synthetic data sets of about S students imported and computed by the node's
 * own code (`node-sector.ts`; the lead's round of 63 x 150 students, 1,200 crebos, which gives
 * the small cells real data gives). `--release-out FILE` writes the last release's JSON.
 *
 *   node --import tsx bench/keyholder/run.ts [--institutions 63] [--runs 5] [--crebos 1200 [--students 150]] [--release-out FILE]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { endorseRound } from '../../keyholder/endorse.js';
import { initKeyHolder, loadKeyHolder } from '../../keyholder/init.js';
import { generateCustodians } from '../../keyholder/custody/present.js';
import { addParticipants, exampleBrin } from '../../keyholder/participants.js';
import { releaseRoundDetailed, type ReleasePhase } from '../../keyholder/release.js';
import { identityFromSeed } from '../../shared/crypto/identity.js';
import { sealWorker } from '../../shared/crypto/seal-worker-host.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { layoutCiphertexts } from '../../shared/protocol/layout.js';
import { contributionWire, encryptVector, roundManifest, writeRoundBundle } from './simulate-round.js';
import { nodeSector } from './node-sector.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from './synthetic-sector.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--institutions', 63);
const RUNS = arg('--runs', 5);
const CREBOS = arg('--crebos', 0);
const STUDENTS = arg('--students', 0);
const RELEASE_OUT = process.argv.includes('--release-out')
  ? process.argv[process.argv.indexOf('--release-out') + 1]
  : undefined;
// Synthetic institutions reach 50,000 students, whose squared population (block C) exceeds the
// per-contribution bound t / 500; a round of 128 at most keeps them in range.
const MAX_PARTICIPANTS = CREBOS > 0 ? 128 : 500;
const sampleDir = resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/sample');

const base = mkdtempSync(join(tmpdir(), 'sb-bench-keyholder-'));
try {
  const real =
    CREBOS > 0 && STUDENTS > 0
      ? await nodeSector({
          work: join(base, 'node-sector'),
          institutions: N,
          students: STUDENTS,
          crebos: CREBOS,
          seed: 'bench-keyholder',
        })
      : null;
  const cb = real
    ? real.codebook
    : CREBOS > 0
      ? syntheticCodebook(CREBOS, 1)
      : await readCodebookFile(join(sampleDir, 'codebook.csv'));
  const vectors = real
    ? real.vectors
    : CREBOS > 0
      ? syntheticInstitutions(cb, N, 1).map((inst) => sectorOf(cb, [inst], '2024-2025', { fullSlots: true }))
      : (['inst-1', 'inst-2', 'inst-3'] as const).map((n) =>
          vectorFromJson(cb, JSON.parse(readFileSync(join(sampleDir, 'expected', `${n}.json`), 'utf8')) as VectorJson),
        );
  const coordinator = identityFromSeed(new Uint8Array(32).fill(200));
  const home = join(base, 'home');
  const custodians = await generateCustodians(join(base, 'custodians'), { n: 3, k: 2 });
  await initKeyHolder({ home, coordinatorKey: coordinator.publicKey, custody: custodians.custody });
  const shares = await custodians.present();
  const kh = await loadKeyHolder(home);
  const t0 = performance.now();
  const institutions = [];
  for (let i = 0; i < N; i++) {
    institutions.push({
      id: `INST${String(i + 1).padStart(3, '0')}`,
      identity: identityFromSeed(new Uint8Array(32).fill(i + 1)),
      cts: await encryptVector(cb, vectors[i % vectors.length]!, kh.bfvPublicKey, MAX_PARTICIPANTS),
    });
  }
  const setupMs = performance.now() - t0;
  await addParticipants(
    home,
    institutions.map((i, k) => ({
      institutionId: i.id,
      name: i.id,
      brin: exampleBrin(k + 1),
      publicKey: i.identity.publicKey,
    })),
  );
  const results: { total: number; phases: Record<string, number>; totalCpu: number; cpu: Record<string, number> }[] =
    [];
  for (let run = 0; run < RUNS; run++) {
    const roundId = `bench-r${run + 1}`;
    const endorsement = await endorseRound({ home, roundId, maxParticipants: MAX_PARTICIPANTS });
    const manifest = roundManifest({
      codebook: cb,
      studiejaar: '2024-2025',
      hePublicKey: kh.bfvPublicKey,
      endorsement,
      coordinator,
    });
    const dir = join(base, roundId);
    writeRoundBundle(dir, {
      manifest,
      codebook: cb,
      contributions: institutions.map((i) =>
        contributionWire({
          roundId,
          institutionId: i.id,
          identity: i.identity,
          codebook: cb,
          hePublicKeyDigest: kh.hePublicKeyDigest,
          ciphertexts: i.cts,
        }),
      ),
    });
    const phases: Record<string, number> = {};
    // CPU time beside wall time (the machine is shared): process.cpuUsage covers every thread of
    // the process, the SEAL worker's too; each phase's share is the CPU used since the last one.
    const cpu: Record<string, number> = {};
    const cpuStart = process.cpuUsage();
    let cpuMark = cpuStart;
    const start = performance.now();
    const r = await releaseRoundDetailed({
      home,
      bundleDir: dir,
      shares,
      onPhase: (p: ReleasePhase, ms: number) => {
        phases[p] = ms;
        const now = process.cpuUsage();
        cpu[p] = (now.user - cpuMark.user + now.system - cpuMark.system) / 1000;
        cpuMark = now;
      },
    });
    const total = performance.now() - start;
    const cpuAll = process.cpuUsage(cpuStart);
    const totalCpu = (cpuAll.user + cpuAll.system) / 1000;
    if (r.release.institutions !== N) throw new Error('unexpected release');
    if (RELEASE_OUT) writeFileSync(RELEASE_OUT, JSON.stringify(r.release));
    results.push({ total, phases, totalCpu, cpu });
    process.stdout.write(
      `run ${run + 1}: wall ${total.toFixed(0)} ms, CPU ${totalCpu.toFixed(0)} ms  ${Object.entries(phases)
        .map(([k, v]) => `${k} ${v.toFixed(0)} (CPU ${(cpu[k] ?? 0).toFixed(0)})`)
        .join(', ')}  (${r.blocks.published} blocks published, ${r.blocks.suppressed} suppressed)\n`,
    );
  }
  const warm = results
    .slice(1)
    .map((r) => r.total)
    .sort((a, b) => a - b);
  const median = (xs: number[]) => (xs.length ? xs[Math.floor(xs.length / 2)]! : NaN);
  const phaseMedian = (p: string) =>
    median(
      results
        .slice(1)
        .map((r) => r.phases[p] ?? 0)
        .sort((a, b) => a - b),
    );
  const sectorKind = real
    ? `institutions of about ${STUDENTS} students through the node, ${CREBOS} crebos`
    : CREBOS > 0
      ? `synthetic codebook of ${CREBOS} crebos`
      : 'sample codebook';
  const phaseNames = ['load', 'verify', 'sum', 'decrypt', 'checks', 'disclosure', 'sign'] as const;
  process.stdout.write(
    [
      '',
      `key holder, ${N} institutions, ${sectorKind} ` +
        `(${cb.cellKeys.length} cells, ${cb.groupKeys.length} groups, ${layoutCiphertexts(cb)} ` +
        `ciphertexts per contribution, ${((N * layoutCiphertexts(cb) * 131185) / 1e6).toFixed(1)} ` +
        'MB of ciphertexts)',
      `machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
      `setup (not timed in the key holder): ${N} encryptions in ${(setupMs / 1000).toFixed(1)} s`,
      `first run (cold SEAL worker): ${results[0]!.total.toFixed(0)} ms`,
      `median of ${warm.length} warm runs: ${median(warm).toFixed(0)} ms (min ${warm[0]?.toFixed(0)}, max ${warm[warm.length - 1]?.toFixed(0)})`,
      `median phases (warm): ${phaseNames.map((p) => `${p} ${phaseMedian(p).toFixed(0)} ms`).join(', ')}`,
      `median CPU time of the warm runs: ${median(
        results
          .slice(1)
          .map((r) => r.totalCpu)
          .sort((a, b) => a - b),
      ).toFixed(0)} ms; phases ${phaseNames
        .map(
          (p) =>
            `${p} ${median(
              results
                .slice(1)
                .map((r) => r.cpu[p] ?? 0)
                .sort((a, b) => a - b),
            ).toFixed(0)}`,
        )
        .join(', ')} ms`,
      '',
    ].join('\n'),
  );
} finally {
  await sealWorker().close();
  rmSync(base, { recursive: true, force: true });
}
