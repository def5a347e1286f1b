/** Messages between {@link SealWorkerHost} and `seal-worker.ts`. */
export type WorkerRequest =
  | { id: number; op: 'budgets'; secretKey: Uint8Array; ciphertexts: Uint8Array[] }
  | { id: number; op: 'decrypt'; secretKey: Uint8Array; ciphertexts: Uint8Array[] }
  | { id: number; op: 'seal-sum'; contributions: Uint8Array[][] }
  | { id: number; op: 'raw-load'; bytes: Uint8Array }
  | { id: number; op: 'ping' };

/** A response; `sealError` says the worker must be replaced. */
export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | {
      id: number;
      ok: false;
      sealError: boolean;
      error: { code: string; message: string; details: Record<string, unknown> };
    };

/** A request without its id (the host assigns ids). */
export type WorkerCall = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;
