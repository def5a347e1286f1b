/**
 * bench/round: a round of K institutions (default 63, the funded mbo sector) over real HTTP on
 * loopback. The coordinator runs as its own process (`sectorbench coordinator serve`), so its
 * peak RSS is its own; nodes and the key holder run here. Prints total time, coordinator peak
 * RSS, bytes received, time in the key holder, and the checks of issue 13: every institution's
 * submission acknowledged with a signed receipt (sequences 0..K-1 once each), the release counts
 * all K, and every HTTP status the nodes saw (from each node's audit log of its requests), so a
 * 429 that was waited out shows, and one given up on fails the run. Exits 1 when a check fails;
 * the coordinator process is stopped on every exit, failure included. `--masked` runs the
 * secure-aggregation round instead (every node runs `node round` through the phases, one after
 * another as demo/masked-round.ts does; the key holder removes the masks with the reveals):
 * phase by phase (`stopAfter`), `concurrency` nodes at a time, each phase timed (wall, per node
 * median and max) with the HTTP bytes all nodes sent and received (an undici interceptor), and
 * the time from the last masked input to the signed release (issue 15, scale).
 *
 * In the masked-input phase each node gets a fresh mask pool (default the product's: lanes by work
 * size; `--mask-lanes N` fixes N), timed from inside (wall and process CPU of the masking, worker
 * start included), and the node's masked-input step (`node round` in that phase) is timed by stage
 * (`onPhase`: session and relays, vector, approval check, then key fetch + mask + encrypt + sign +
 * store + audit log, then upload + receipt), so masking / encrypt-and-submit reads directly. The
 * node's code is the build (`dist/`, as an operator runs it; `--source` for the TypeScript
 * sources). With `--concurrency 1` the CPU figures are the node's own (the coordinator is another
 * process). `--until PHASE` stops after that phase (no release).
 *
 *   node --import tsx bench/round/run.ts [--institutions 63] [--students 150] [--crebos 120] [--concurrency 4]
 *     [--masked [--mask-lanes N] [--until PHASE]] [--source] [--keep DIR]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { closeAndRelease, setupLocalRound } from '../../demo/local-round.js';
import { currentSubmissions, type SubmissionInfo } from '../../coordinator/index.js';
import { Agent, type Dispatcher } from 'undici';
import { submitContribution, type SubmitResult } from '../../node/round/submit.js';
import type { RoundProgress } from '../../node/round/run-round.js';
import { SECAGG_PHASES, type SecAggPhase } from '../../schemas/secagg.js';
import type { MaskPool } from '../../shared/secagg/index.js';
import { isSbError } from '../../shared/errors/sb-error.js';
import { synthesize } from '../../synth/run-synth.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? args[i + 1] : undefined;
  return value ? value : def;
};
const K = Number(opt('institutions', '63'));
const students = Number(opt('students', '150'));
const crebos = Number(opt('crebos', '120'));
const concurrency = Number(opt('concurrency', '4'));
const keep = args.includes('--keep') ? opt('keep', '') : '';
const masked = args.includes('--masked');
/**
 * The node's code: the build (`dist/`, as an operator runs it; `npm run build` first, which the
 * coordinator's process needs too), or with `--source` the TypeScript sources under tsx.
 */
const fromSource = args.includes('--source');
const repoUrl = new URL('../..', import.meta.url);
const { runRound } = (await import(
  fromSource ? '../../node/round/run-round.js' : new URL('dist/node/round/run-round.js', repoUrl).href
)) as typeof import('../../node/round/run-round.js');
const { defaultMaskLanes, defaultMaskPoolSize, MaskWorkerPool } = (await import(
  fromSource ? '../../shared/secagg/index.js' : new URL('dist/shared/secagg/index.js', repoUrl).href
)) as typeof import('../../shared/secagg/index.js');
/**
 * Lanes of each node's mask pool (a fresh pool per node and phase run: a cold start, as a real
 * `node round`): `--mask-lanes N` fixes N; default the product's pool (lanes by work size,
 * shared/secagg/mask-pool.ts `defaultMaskLanes`: one lane, no worker, below 200 masks).
 */
const fixedLanes = args.includes('--mask-lanes') ? Number(opt('mask-lanes', '1')) : undefined;
/** Masked: stop after this phase (no release; the per-phase figures only). */
const until = opt('until', '') as SecAggPhase | '';
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
// kill it (and remove the scratch folder) on any exit of this process, and turn an uncaught
// failure into exit code 1.
const killChild = () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (!keep) rmSync(work, { recursive: true, force: true });
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
  ...(masked ? { masking: {} } : {}),
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
const submitted = new Map<string, SubmitResult>();
const failed: { id: string; error: string }[] = [];
let tSubmit = 0;
let keyHolderMs = 0;
let release: Awaited<ReturnType<typeof closeAndRelease>>['release'] | undefined;
let tDone = 0;
let coordinatorRss = Number.NaN;
let current: SubmissionInfo[] = [];
let releaseError = '';
/** HTTP bytes the nodes sent (request bodies) and received (response bodies), reset per phase. */
const traffic = { sent: 0, received: 0 };
const counting: Dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
  const b = opts.body;
  if (typeof b === 'string') traffic.sent += Buffer.byteLength(b);
  else if (b instanceof Uint8Array) traffic.sent += b.byteLength;
  const h = new Proxy(handler, {
    get(target, prop, recv) {
      const t = target as unknown as Record<string, (...a: unknown[]) => unknown>;
      if (prop === 'onData' && typeof t.onData === 'function')
        return (chunk: Buffer) => {
          traffic.received += chunk.length;
          return t.onData?.call(target, chunk);
        };
      if (prop === 'onResponseData' && typeof t.onResponseData === 'function')
        return (controller: unknown, chunk: Buffer) => {
          traffic.received += chunk.length;
          return t.onResponseData?.call(target, controller, chunk);
        };
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return dispatch(opts, h);
});
const phaseRows: { phase: string; ms: number; perNode: number[]; sent: number; received: number }[] = [];
let tLastMasked = 0;
let tApproved = 0;
/**
 * Per node, the masked-input step and the masking inside it: wall and process CPU, ms; `marks`:
 * when (wall, CPU) the step entered each stage of node/round/submit.ts (`compute`, `approval`,
 * `encrypt`, `send`), from its start.
 */
const maskedSteps: { step: [number, number]; mask: [number, number]; marks: Map<string, [number, number]> }[] = [];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A fresh mask pool that adds the wall and CPU time of its work (worker start included) to `into`. */
function timedMaskPool(into: [number, number]): MaskPool {
  const inner =
    fixedLanes === undefined
      ? new MaskWorkerPool(defaultMaskPoolSize(), (n) => defaultMaskLanes(n))
      : new MaskWorkerPool(fixedLanes);
  return {
    size: inner.size,
    addMasks: async (roundId, tasks, acc) => {
      const t1 = performance.now();
      const c1 = cpuMs();
      try {
        await inner.addMasks(roundId, tasks, acc);
      } finally {
        into[0] += performance.now() - t1;
        into[1] += cpuMs() - c1;
      }
    },
    warm: (tasks) => inner.warm(tasks),
    close: () => inner.close(),
  };
}

/**
 * The masked round's phases: for each phase in order, every node runs `node round` up to the end
 * of that phase (`stopAfter`; the last phase without it), `concurrency` at a time, so each pass
 * times one phase; a node that is still waiting (the coordinator had not advanced yet) is run
 * again in the same pass.
 */
async function maskedPhases(): Promise<void> {
  // Approvals first (the privacy officer approves the vector before the masked input).
  for (const node of round.nodes) await approveAsPrivacyOfficer(node, round);
  tApproved = performance.now();
  const progress = new Map<string, RoundProgress>();
  const gone = new Set<string>();
  for (const [k, phase] of SECAGG_PHASES.entries()) {
    if (until && k > SECAGG_PHASES.indexOf(until)) break;
    const last = k === SECAGG_PHASES.length - 1;
    traffic.sent = 0;
    traffic.received = 0;
    const perNode = new Map<string, number>();
    const tp = performance.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      const queue = round.nodes.filter(
        (n) => !gone.has(n.id) && (attempt === 0 || progress.get(n.id)?.state === 'waiting'),
      );
      if (queue.length === 0) break;
      const worker = async () => {
        for (let node = queue.shift(); node; node = queue.shift()) {
          const t1 = performance.now();
          const c1 = cpuMs();
          const mask: [number, number] = [0, 0];
          const pool = phase === 'masked_input' ? timedMaskPool(mask) : undefined;
          const marks = new Map<string, [number, number]>();
          const onPhase = (stage: string) => marks.set(stage, [performance.now() - t1, cpuMs() - c1]);
          try {
            const p = await runRound({
              home: node.home,
              roundId: round.roundId,
              now: round.now,
              dispatcher: counting,
              ...(last ? {} : { stopAfter: phase }),
              ...(pool ? { maskPool: pool, onPhase } : {}),
            });
            progress.set(node.id, p);
            if (pool && mask[0] > 0) maskedSteps.push({ step: [performance.now() - t1, cpuMs() - c1], mask, marks });
          } catch (e) {
            gone.add(node.id);
            failed.push({ id: node.id, error: isSbError(e) ? `${e.code}: ${e.message}` : String(e) });
          } finally {
            await pool?.close();
          }
          perNode.set(node.id, (perNode.get(node.id) ?? 0) + performance.now() - t1);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    }
    phaseRows.push({ phase, ms: performance.now() - tp, perNode: [...perNode.values()], ...traffic });
    if (phase === 'masked_input') tLastMasked = performance.now();
    process.stderr.write(`phase ${phase}: ${((performance.now() - tp) / 1000).toFixed(1)} s\n`);
  }
  for (const id of round.nodes.map((n) => n.id))
    if (progress.get(id)?.state !== (until ? 'stopped' : 'done') && !gone.has(id))
      failed.push({ id, error: `ended in state ${progress.get(id)?.state} (${progress.get(id)?.message})` });
}

try {
  if (masked) await maskedPhases();
  // Each node as `node submit` does it, `concurrency` at a time; a node that fails (a 429 given
  // up on, a refusal) is recorded and the others go on, so the run says how many made it.
  const queue = [...round.nodes];
  const worker = async () => {
    for (let node = queue.shift(); node; node = queue.shift()) {
      try {
        await approveAsPrivacyOfficer(node, round);
        submitted.set(node.id, await submitContribution({ home: node.home, roundId: round.roundId, now: round.now }));
      } catch (e) {
        failed.push({ id: node.id, error: isSbError(e) ? `${e.code}: ${e.message}` : String(e) });
      }
      const done = submitted.size + failed.length;
      if (done % 50 === 0 || done === K) process.stderr.write(`${done} of ${K} nodes done (${failed.length} failed)\n`);
    }
  };
  if (!masked) await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  tSubmit = performance.now();
  // What the coordinator holds: one current (acknowledged) submission per institution.
  current = currentSubmissions(round.coordinator.db, round.roundId);
  if (failed.length === 0 && !until) {
    try {
      ({ keyHolderMs, release } = await closeAndRelease(round));
      tDone = performance.now();
    } catch (e) {
      // Every figure so far is still printed; the release check below fails.
      releaseError = isSbError(e) ? `${e.code}: ${e.message}` : String(e);
    }
  }
  coordinatorRss = peakRssMiB(childPid);
} finally {
  // Stops the coordinator (SIGTERM, graceful) whether the round worked or not.
  await round.stop();
}

// What every node saw, from its own audit log (every request it sent, with the answer's status).
const statuses = new Map<number, number>();
for (const node of round.nodes) {
  const db = new Database(join(node.home, 'node.sqlite'), { readonly: true });
  try {
    for (const r of db.prepare("SELECT payload_json FROM audit_log WHERE kind = 'request'").all() as {
      payload_json: string;
    }[]) {
      const st = (JSON.parse(r.payload_json) as { status: number }).status;
      statuses.set(st, (statuses.get(st) ?? 0) + 1);
    }
  } finally {
    db.close();
  }
}
const sequences = new Set(current.map((c) => c.sequence));
const nodeSequences = [...submitted.values()].map((r) => r.receipt.sequence);
const checks: [string, boolean][] = [
  [
    `every institution acknowledged (${masked ? current.length : submitted.size} of ${K})`,
    (masked || submitted.size === K) && failed.length === 0,
  ],
  [
    `the coordinator holds one current submission per institution, distinct sequences (${current.length})`,
    current.length === K && new Set(current.map((c) => c.institutionId)).size === K && sequences.size === K,
  ],
  ...(masked
    ? []
    : ([
        [
          "each node's signed receipt names a sequence the coordinator stored",
          nodeSequences.length === K && nodeSequences.every((q) => sequences.has(q)),
        ],
      ] as [string, boolean][])),
  ...(until
    ? []
    : ([
        [`release counts every institution (${release?.institutions ?? 'no release'})`, release?.institutions === K],
      ] as [string, boolean][])),
  [
    `no 5xx answer (${[...statuses].filter(([st]) => st >= 500).reduce((a, [, n]) => a + n, 0)})`,
    [...statuses].every(([st]) => st < 500),
  ],
];
const bytes = current.reduce((a, c) => a + c.wireBytes, 0);
const cts = [...submitted.values()][0]?.ciphertexts ?? '-';
const sec = (ms: number) => (ms > 0 ? `${(ms / 1000).toFixed(1)} s` : '-');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mib = (b: number) => (b < 2 ** 20 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);
const maskedRows: [string, string][] = masked
  ? [
      ['privacy officers approve every vector', `${((tApproved - tSetup) / 1000).toFixed(1)} s`],
      ...phaseRows.map((r): [string, string] => [
        `phase ${r.phase}: all nodes (${concurrency} at a time); per node median / max`,
        `${(r.ms / 1000).toFixed(1)} s; ${median(r.perNode).toFixed(0)} / ${Math.max(...r.perNode).toFixed(0)} ms; ` +
          `nodes sent ${mib(r.sent)}, received ${mib(r.received)}`,
      ]),
      ...maskedStepRows(),
      [
        'last masked input -> signed release (consistency, unmask, close, key holder, publish)',
        sec(tDone && tDone - tLastMasked),
      ],
    ]
  : [];
/**
 * The masked-input step per node, by stage, against the masking inside it (medians over the
 * nodes, wall / CPU). "Encrypt and submit" is what the node does with the vector once it is
 * computed and approved: fetch the round key, encrypt, sign, store, audit log, upload, verify and
 * store the receipt (the stages `encrypt` to the end, without the masking). The vector's
 * computation and the session's opening come before it and are shown apart.
 */
function maskedStepRows(): [string, string][] {
  if (maskedSteps.length === 0) return [];
  type Step = (typeof maskedSteps)[number];
  const at = (x: Step, stage: string, k: 0 | 1) => x.marks.get(stage)?.[k] ?? Number.NaN;
  const span = (from: string, to: string) => (x: Step, k: 0 | 1) =>
    (to === 'end' ? x.step[k] : at(x, to, k)) - (from === 'start' ? 0 : at(x, from, k));
  const submit = (x: Step, k: 0 | 1) => span('encrypt', 'end')(x, k) - x.mask[k];
  const both = (f: (x: Step, k: 0 | 1) => number) =>
    `${median(maskedSteps.map((x) => f(x, 0))).toFixed(0)} / ${median(maskedSteps.map((x) => f(x, 1))).toFixed(0)} ms`;
  const pct = (f: (x: Step, k: 0 | 1) => number) =>
    `${(median(maskedSteps.map((x) => f(x, 0))) * 100).toFixed(0)} % / ${(median(maskedSteps.map((x) => f(x, 1))) * 100).toFixed(0)} %`;
  const cpuNote = concurrency === 1 ? '' : ', CPU shared with other nodes';
  return [
    [`masked-input step per node, median of ${maskedSteps.length} (wall / CPU${cpuNote})`, both((x, k) => x.step[k])],
    ['  open the session, check the relays (before the submit)', both(span('start', 'compute'))],
    ['  compute the vector (not part of encrypt-and-submit)', both(span('compute', 'approval'))],
    ['  check the approval', both(span('approval', 'encrypt'))],
    [
      `  masking (${fixedLanes === undefined ? 'lanes by work size' : `${fixedLanes} lane(s)`}, worker start included)`,
      both((x, k) => x.mask[k]),
    ],
    [
      '  fetch key, encrypt, sign, store, audit log (without the masking)',
      both((x, k) => span('encrypt', 'send')(x, k) - x.mask[k]),
    ],
    ['  upload, verify and store the receipt', both(span('send', 'end'))],
    ['  encrypt-and-submit (the two lines above)', both(submit)],
    ['  masking / encrypt-and-submit, median of the per-node ratios', pct((x, k) => x.mask[k] / submit(x, k))],
    ['  masking / whole step, median of the per-node ratios', pct((x, k) => x.mask[k] / x.step[k])],
  ];
}
const rows: [string, string][] = [
  ['institutions', `${K}${masked ? ' (masked round: secure aggregation)' : ' (unmasked round)'}`],
  ['students per institution (first; others 0.6-1.4x)', String(students)],
  ['codebook crebos / ciphertexts per contribution', `${crebos} / ${cts}`],
  ['generate data', `${((tData - t0) / 1000).toFixed(1)} s`],
  ['set up roles, import and enrol all nodes', `${((tSetup - tData) / 1000).toFixed(1)} s`],
  ...maskedRows,
  [
    masked
      ? 'approve + every phase of every node (advertise, share, masked input, survivors, reveal)'
      : `approve + compute + encrypt + submit (${concurrency} at a time)`,
    sec(tSubmit - tSetup),
  ],
  ['close (homomorphic sum, bundle) + key holder + publish', sec(tDone && tDone - tSubmit)],
  ['  of which in the key holder', sec(keyHolderMs)],
  ['round total (after data generation)', sec(tDone && tDone - tData)],
  ['bytes received by the coordinator (contributions)', bytes.toLocaleString('en-GB')],
  ['coordinator peak RSS (own process)', `${coordinatorRss} MiB`],
  ['release institutions / version', release ? `${release.institutions} / ${release.release_version}` : '-'],
  [
    'HTTP answers the nodes got, by status',
    [...statuses]
      .sort((a, b) => a[0] - b[0])
      .map(([st, n]) => `${st}: ${n}`)
      .join(', '),
  ],
  ['429 answers waited out (Retry-After)', String(statuses.get(429) ?? 0)],
  ['nodes that gave up or were refused', String(failed.length)],
];
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(58)} ${v}\n`);
for (const [what, ok] of checks) process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
for (const f of failed.slice(0, 10)) process.stdout.write(`  ${f.id}: ${f.error}\n`);
if (releaseError) process.stdout.write(`  close and release: ${releaseError}\n`);
if (!keep) rmSync(work, { recursive: true, force: true });
process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
