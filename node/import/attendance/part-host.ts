import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PartInput, PartProgress, PartResult } from './part.js';
import type { PartMessage } from './part-worker.js';

function newWorker(): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from TypeScript source (tests, tsx): register tsx in the worker, then load it
    // (as shared/crypto/seal-worker-host.ts does).
    const api = import.meta.resolve('tsx/esm/api');
    const script = new URL('./part-worker.ts', self).href;
    return new Worker(
      `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`,
      { eval: true },
    );
  }
  return new Worker(new URL('./part-worker.js', self));
}

/** A part of attendance.csv being read on a worker thread. */
export interface RunningPart {
  /** The result; a worker that dies resolves `{ ok: false }` (the main thread then reads the part). */
  result: Promise<PartResult>;
  /** Latest progress of the worker. */
  progress: PartProgress;
  /** Stop the worker (its result is not needed). */
  stop(): void;
}

/** Start reading `input` on a new worker thread. */
export function startPart(input: PartInput): RunningPart {
  const w = newWorker();
  const running: RunningPart = {
    progress: { records: 0, bytes: 0 },
    result: new Promise<PartResult>((resolve) => {
      w.on('message', (m: PartMessage) => {
        if (m.kind === 'progress') running.progress = { records: m.records, bytes: m.bytes };
        else {
          resolve(m.result);
          void w.terminate();
        }
      });
      w.on('error', (e) => resolve({ ok: false, why: `worker failed: ${e.message}` }));
      w.on('exit', () => resolve({ ok: false, why: 'worker exited' }));
    }),
    stop: () => void w.terminate(),
  };
  w.postMessage(input);
  return running;
}

/**
 * Where to split a file for a parallel read: the byte after the first line feed at or after
 * `fraction` of its size, or null when there is none within 1 MiB (no split). A lone CR is not
 * used: after an LF no CRLF can be cut in two, and a split anywhere else is found out by the
 * first part's reader (a record crossing the split) and read sequentially.
 */
export function splitPoint(path: string, size: number, fraction: number): number | null {
  const from = Math.floor(size * fraction);
  if (from <= 0 || from >= size) return null;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(1 << 20, size - from));
    const n = readSync(fd, buf, 0, buf.length, from);
    const lf = buf.subarray(0, n).indexOf(10);
    if (lf < 0 || from + lf + 1 >= size) return null;
    return from + lf + 1;
  } finally {
    closeSync(fd);
  }
}
