import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SbError } from '../errors/sb-error.js';
import { addMasks, type MaskTask, splitTasks } from './mask-tasks.js';
import { reduceModT } from './prg.js';
import type { MaskWorkerRequest, MaskWorkerResponse } from './mask-worker-protocol.js';

/**
 * Where mask expansions run: the calling thread and `size - 1` worker threads. A node's masking
 * (shared/secagg/mask.ts `maskInputParallel`) and the key holder's unmasking (keyholder/unmask.ts)
 * take one as their seam (`maskPool` option); size 1 runs everything in the calling thread.
 * The result does not depend on the size: every mask is an exact integer mod t and the lanes'
 * sums are added exactly, so sizes 1 and 2 give the same bits (tests/secagg/mask-pool.test.ts).
 */
export interface MaskPool {
  /** Lanes: the calling thread and `size - 1` workers. */
  readonly size: number;
  /**
   * Add the masks of `tasks` into `acc` (exact integers of magnitude below 2^44 on entry; in
   * [0, t) on return). The tasks are split into at most `size` contiguous runs of about equal
   * cost; the first run (task 0 onwards) runs in the calling thread straight into `acc`, each
   * other run on a worker, which gets only its own tasks' secrets and sends back its sum mod t.
   *
   * @throws SbError `SB_ERR_SECAGG_KEYS` (a low-order peer key, from any lane),
   *   `SB_ERR_MASK_WORKER` (a worker stopped; the next call starts a fresh one)
   */
  addMasks(roundId: string, tasks: readonly MaskTask[], acc: Float64Array): Promise<void>;
  /**
   * Start, in the background, the workers a later {@link addMasks} call with `tasks` tasks will
   * use, so their start overlaps other work of the caller (the key holder's BFV decryption).
   * Never rejects: a worker that fails to start fails the later `addMasks` call instead.
   */
  warm(tasks: number): void;
  /** Stop the workers (idle workers never keep the process alive; this frees them now). */
  close(): Promise<void>;
}

/** Most lanes the default pool uses, whatever the machine has (diminishing returns, memory). */
export const MAX_MASK_LANES = 4;
/** Environment variable that overrides the default pool's size (an integer 1-16; 1 = no workers). */
export const MASK_THREADS_ENV = 'SECTORBENCH_MASK_THREADS';

/**
 * Mask tasks below which the default pool starts no worker (DECISIONS, "Mask pool lanes by work
 * size"): a worker's start (thread, module load, first answer: 60-200 ms CPU from the build)
 * costs about as much as 60-150 masks, so a node's masked input at 63 institutions (63 masks) or
 * the key holder's unmasking without dropouts (63 self masks) runs faster in the calling thread
 * alone; the key holder's 924 masks with 21 dropouts use every lane.
 */
export const MIN_TASKS_FOR_WORKERS = 200;

/** `SECTORBENCH_MASK_THREADS` as a number of lanes, or undefined when unset or empty. */
function lanesFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[MASK_THREADS_ENV];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new SbError(
      'SB_ERR_USAGE',
      `${MASK_THREADS_ENV}=${raw} is not a number of threads from 1 to 16; unset it or set e.g. 2.`,
      { variable: MASK_THREADS_ENV },
    );
  return n;
}

/**
 * Size of the default pool: `SECTORBENCH_MASK_THREADS` when set, else
 * `min(os.availableParallelism(), 4)`.
 * @throws SbError `SB_ERR_USAGE` when the variable is not an integer from 1 to 16
 */
export function defaultMaskPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  return lanesFromEnv(env) ?? Math.max(1, Math.min(availableParallelism(), MAX_MASK_LANES));
}

/**
 * Lanes the default pool uses for `tasks` mask tasks: `SECTORBENCH_MASK_THREADS` when set (always,
 * whatever the work); else 1 below {@link MIN_TASKS_FOR_WORKERS} tasks, and
 * `min(os.availableParallelism(), 4)` from there on.
 * @throws SbError `SB_ERR_USAGE` when the variable is not an integer from 1 to 16
 */
export function defaultMaskLanes(tasks: number, env: NodeJS.ProcessEnv = process.env): number {
  const fixed = lanesFromEnv(env);
  if (fixed !== undefined) return fixed;
  return tasks < MIN_TASKS_FOR_WORKERS ? 1 : defaultMaskPoolSize(env);
}

function newWorker(): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from TypeScript source (tests, tsx): register tsx in the worker, then load it
    // (as shared/crypto/seal-worker-host.ts does).
    const api = import.meta.resolve('tsx/esm/api');
    const script = new URL('./mask-worker.ts', self).href;
    return new Worker(
      `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`,
      { eval: true },
    );
  }
  return new Worker(new URL('./mask-worker.js', self));
}

interface Pending {
  resolve: (sum: Float64Array) => void;
  reject: (e: unknown) => void;
}

/** One worker thread and its calls in flight. */
class Lane {
  #worker: Worker | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;

  #start(): Worker {
    const w = newWorker();
    w.unref();
    w.on('message', (m: MaskWorkerResponse) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) w.unref();
      if (m.ok) p.resolve(m.sum);
      else p.reject(new SbError(m.error.code, m.error.message, m.error.details));
    });
    const fail = (why: string) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      const err = new SbError(
        'SB_ERR_MASK_WORKER',
        `a mask worker thread stopped (${why}); nothing was sent. Run the command again (a fresh ` +
          `worker is started), or set ${MASK_THREADS_ENV}=1 to mask in one thread.`,
      );
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    w.on('error', (e) => fail(e instanceof Error ? e.message : 'error'));
    w.on('exit', (code) => fail(`exit code ${code}`));
    return w;
  }

  run(roundId: string, length: number, tasks: MaskTask[]): Promise<Float64Array> {
    this.#worker ??= this.#start();
    const w = this.#worker;
    const id = this.#nextId++;
    return new Promise<Float64Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.ref();
      const req: MaskWorkerRequest = { id, roundId, length, tasks };
      w.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
}

/**
 * A {@link MaskPool} of the calling thread and `size - 1` worker threads, started on first use
 * and kept for later calls; a worker holds the event loop only while it has work.
 */
export class MaskWorkerPool implements MaskPool {
  readonly size: number;
  #lanes: Lane[];
  #lanesFor: (tasks: number) => number;

  /**
   * @param size lanes, 1 to 16 (1: no worker threads)
   * @param lanesFor lanes to use for a call with this many tasks (capped at `size`; default:
   *   always `size`); the process-wide pool passes {@link defaultMaskLanes}
   */
  constructor(size: number, lanesFor: (tasks: number) => number = () => size) {
    if (!Number.isInteger(size) || size < 1 || size > 16)
      throw new SbError('SB_ERR_USAGE', `a mask pool has 1 to 16 lanes, not ${size}.`);
    this.size = size;
    this.#lanes = Array.from({ length: size - 1 }, () => new Lane());
    this.#lanesFor = lanesFor;
  }

  async addMasks(roundId: string, tasks: readonly MaskTask[], acc: Float64Array): Promise<void> {
    const lanes = Math.max(1, Math.min(this.size, this.#lanesFor(tasks.length)));
    const [own = [], ...rest] = splitTasks(tasks, lanes);
    // Workers first, so they run while this thread works through its own run.
    const sent: Promise<Float64Array>[] = [];
    for (const [i, run] of rest.entries()) {
      const lane = this.#lanes[i];
      if (lane) sent.push(lane.run(roundId, acc.length, run));
    }
    let ownError: unknown;
    try {
      addMasks(roundId, own, acc);
    } catch (e) {
      ownError = e;
    }
    const sums = await Promise.allSettled(sent);
    if (ownError !== undefined) throw ownError;
    // Each worker's sum is in [0, t) and `acc` too: add them exactly, reduce once.
    for (const s of sums) {
      if (s.status === 'rejected') throw s.reason;
      addInto(acc, s.value);
    }
    reduceModT(acc);
  }

  warm(tasks: number): void {
    const lanes = Math.max(1, Math.min(this.size, this.#lanesFor(tasks)));
    for (const lane of this.#lanes.slice(0, lanes - 1)) lane.run('start', 0, []).catch(() => undefined);
  }

  /**
   * Start every worker now and wait until each answers (benchmarks: to time the start apart from
   * the work). The product does not call it: a node or key holder pays the start inside its
   * masking or unmasking, where it is measured.
   */
  async start(): Promise<void> {
    await Promise.all(this.#lanes.map((l) => l.run('start', 0, [])));
  }

  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((l) => l.close()));
  }
}

/** `acc[i] += sum[i]` over `acc`'s length (`sum` at least as long: a worker's sum over the same slots). */
function addInto(acc: Float64Array, sum: Float64Array): void {
  const n = Math.min(acc.length, sum.length);
  for (let i = 0; i < n; i++) {
    const a = acc[i];
    const b = sum[i];
    if (a !== undefined && b !== undefined) acc[i] = a + b;
  }
}

let shared: MaskWorkerPool | undefined;

/**
 * The process-wide mask pool, made on first use: {@link defaultMaskPoolSize} lanes at most, of
 * which each call uses {@link defaultMaskLanes} for its number of tasks (no worker for small work).
 */
export function maskPool(): MaskPool {
  shared ??= new MaskWorkerPool(defaultMaskPoolSize(), (tasks) => defaultMaskLanes(tasks));
  return shared;
}
