import { Worker } from 'node:worker_threads';
import { SbError } from '../errors/sb-error.js';
import type { WorkerCall, WorkerRequest, WorkerResponse } from './seal-worker-protocol.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

function newWorker(): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from TypeScript source (tests, tsx): register tsx in the worker, then load it.
    const api = import.meta.resolve('tsx/esm/api');
    const script = new URL('./seal-worker.ts', self).href;
    return new Worker(
      `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`,
      { eval: true },
    );
  }
  return new Worker(new URL('./seal-worker.js', self));
}

/**
 * Owner of the worker thread in which SEAL loads ciphertexts. After any SEAL error, or if the
 * worker dies (a WASM abort), it is terminated and a fresh one (fresh WASM heap) is started for
 * the next call, so one hostile input cannot corrupt a later result.
 */
export class SealWorkerHost {
  #worker: Worker | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #generation = 0;

  /** How many workers were started so far (tests use this to see replacements). */
  get generation(): number {
    return this.#generation;
  }

  #start(): Worker {
    const w = newWorker();
    this.#generation++;
    w.unref();
    w.on('message', (m: WorkerResponse) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) {
        p.resolve(m.result);
      } else {
        if (m.sealError) this.#replace(w);
        p.reject(
          m.sealError
            ? new SbError(
                'SB_ERR_SEAL',
                `SEAL refused the input (${m.error.message}); the SEAL worker was replaced. Check the input's origin.`,
              )
            : new SbError(m.error.code, m.error.message, m.error.details),
        );
      }
    });
    const fail = (why: string) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      const err = new SbError(
        'SB_ERR_SEAL_WORKER',
        `the SEAL worker stopped (${why}); it is replaced on the next call. Retry the operation.`,
      );
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    w.on('error', (e) => fail(String((e as Error)?.message ?? e)));
    w.on('exit', (code) => fail(`exit code ${code}`));
    return w;
  }

  #replace(w: Worker): void {
    if (this.#worker === w) {
      this.#worker = undefined;
      void w.terminate();
    }
  }

  /** Send one call to the worker (started or replaced as needed). */
  call<T>(msg: WorkerCall): Promise<T> {
    this.#worker ??= this.#start();
    const w = this.#worker;
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.ref();
      w.postMessage({ ...msg, id } as WorkerRequest);
    }).finally(() => {
      if (this.#pending.size === 0) w.unref();
    });
  }

  /** Stop the worker. */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
}

let shared: SealWorkerHost | undefined;

/** The process-wide SEAL worker host. */
export function sealWorker(): SealWorkerHost {
  shared ??= new SealWorkerHost();
  return shared;
}
