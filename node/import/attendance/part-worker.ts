/**
 * Worker thread of the parallel import: reads one part of attendance.csv
 * ({@link readAttendancePart}) and posts progress and the result back. Nothing else runs here;
 * the weekly sums and lesson keys are transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { type PartInput, type PartResult, readAttendancePart } from './part.js';

/** Messages from the worker: progress, then exactly one result. */
export type PartMessage = { kind: 'progress'; records: number; bytes: number } | { kind: 'result'; result: PartResult };

const port = parentPort;
if (port) {
  port.once('message', (input: PartInput) => {
    void readAttendancePart(input, (p) => port.postMessage({ kind: 'progress', ...p } satisfies PartMessage)).then(
      (result) => {
        const transfer = result.ok ? [result.weeks.buffer, result.keys.buffer] : [];
        port.postMessage({ kind: 'result', result } satisfies PartMessage, transfer as ArrayBuffer[]);
      },
      (e: unknown) => {
        const result: PartResult = { ok: false, why: e instanceof Error ? e.message : String(e) };
        port.postMessage({ kind: 'result', result } satisfies PartMessage);
      },
    );
  });
}
