/**
 * bench/round: a round of K institutions (default 63, the funded mbo sector) over real HTTP on
 * loopback. The coordinator runs as its own process (`sectorbench coordinator serve`), so its
 * peak RSS is its own; nodes and the key holder run here. Prints total time, coordinator peak
 * RSS, bytes received, time in the key holder.
 *
 *   node --import tsx bench/round/run.ts [--institutions 63] [--students 150] [--crebos 120] [--concurrency 4] [--keep DIR]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, setupLocalRound, submitAll } from '../../demo/local-round.js';
import { synthesize } from '../../synth/run-synth.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : def;
};
const K = Number(opt('institutions', '63'));
const students = Number(opt('students', '150'));
const crebos = Number(opt('crebos', '120'));
const concurrency = Number(opt('concurrency', '4'));
const keep = args.includes('--keep') ? opt('keep', '') : '';
const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const work = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'sb-bench-round-'));

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const t0 = performance.now();
const data = await synthesize({
  out: join(work, 'data'),
  institutions: K,
  students,
  seed: 'bench-round',
  year: 2024,
  crebos,
  progress: false,
});
const tData = performance.now();
let child: ReturnType<typeof spawn> | undefined;
let childPid = 0;
// Never leave the coordinator process behind (issue 13: a failed run at 200 institutions did):
// kill it on any exit of this process, and turn an uncaught failure into exit code 1.
const killChild = () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', killChild);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    killChild();
    process.exit(130);
  });
process.on('uncaughtException', (e) => {
  process.stderr.write(`bench/round failed: ${e instanceof Error ? e.message : String(e)}\n`);
  killChild();
  process.exit(1);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`bench/round failed: ${e instanceof Error ? e.message : String(e)}\n`);
  killChild();
  process.exit(1);
});
const round = await setupLocalRound({
  out: work,
  codebook: data.codebook,
  institutions: data.institutions.map((d, i) => ({
    id: `inst-${i + 1}`,
    enrolments: d.enrolments,
    attendance: d.attendance,
  })),
  year: 2024,
  startCoordinator: (home) =>
    new Promise((resolveStart, reject) => {
      child = spawn(
        process.execPath,
        [
          join(repo, 'bin/sectorbench.js'),
          'coordinator',
          'serve',
          '--home',
          home,
          '--host',
          '127.0.0.1',
          '--port',
          '0',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      childPid = child.pid ?? 0;
      let buf = '';
      child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        const m = /listening on (http:\/\/[^\s)]+)/.exec(buf);
        if (m)
          resolveStart({
            url: (m[1] as string).replace(/\.$/, ''),
            close: async () => {
              child!.kill('SIGTERM');
              await new Promise((r) => child!.once('exit', r));
            },
          });
      });
      child.once('exit', (code) => reject(new Error(`coordinator exited early (${code}); run npm run build first`)));
    }),
});
const tSetup = performance.now();
let submitted: Awaited<ReturnType<typeof submitAll>>;
let tSubmit: number;
let keyHolderMs: number;
let release: Awaited<ReturnType<typeof closeAndRelease>>['release'];
let tDone: number;
let coordinatorRss: number;
try {
  submitted = await submitAll(round, approveAsPrivacyOfficer, concurrency);
  tSubmit = performance.now();
  ({ keyHolderMs, release } = await closeAndRelease(round));
  tDone = performance.now();
  coordinatorRss = peakRssMiB(childPid);
} finally {
  // Stops the coordinator (SIGTERM, graceful) whether the round worked or not.
  await round.stop();
}
const bytes = [...submitted.values()].reduce((a, r) => a + r.wireBytes, 0);
const cts = [...submitted.values()][0]?.ciphertexts ?? 0;

const rows: [string, string][] = [
  ['institutions', String(K)],
  ['students per institution (first; others 0.6-1.4x)', String(students)],
  ['codebook crebos / ciphertexts per contribution', `${crebos} / ${cts}`],
  ['generate data', `${((tData - t0) / 1000).toFixed(1)} s`],
  ['set up roles, import and enrol all nodes', `${((tSetup - tData) / 1000).toFixed(1)} s`],
  [`approve + compute + encrypt + submit (${concurrency} at a time)`, `${((tSubmit - tSetup) / 1000).toFixed(1)} s`],
  ['close (homomorphic sum, bundle) + key holder + publish', `${((tDone - tSubmit) / 1000).toFixed(1)} s`],
  ['  of which in the key holder', `${(keyHolderMs / 1000).toFixed(2)} s`],
  ['round total (after data generation)', `${((tDone - tData) / 1000).toFixed(1)} s`],
  ['bytes received by the coordinator (contributions)', bytes.toLocaleString('en-GB')],
  ['coordinator peak RSS (own process)', `${coordinatorRss} MiB`],
  ['release institutions / version', `${release.institutions} / ${release.release_version}`],
];
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(58)} ${v}\n`);
if (!keep) rmSync(work, { recursive: true, force: true });
