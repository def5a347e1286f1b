/**
 * Worker thread of the mask pool (mask-pool.ts): adds the masks of one run of tasks into a fresh
 * accumulator and sends it back (transferred, reduced mod t). It holds the secrets of its run only
 * for the call and zeroes them afterwards; it logs nothing. An error goes back as code and message
 * (SbError texts name institutions, never key bytes).
 */
import { parentPort } from 'node:worker_threads';
import { isSbError } from '../errors/sb-error.js';
import { addMasks } from './mask-tasks.js';
import type { MaskWorkerRequest, MaskWorkerResponse } from './mask-worker-protocol.js';

function wipe(req: MaskWorkerRequest): void {
  for (const t of req.tasks) {
    if (t.kind === 'self') t.seed.fill(0);
    else t.secretKey.fill(0);
  }
}

parentPort?.on('message', (req: MaskWorkerRequest) => {
  let res: MaskWorkerResponse;
  const acc = new Float64Array(req.length);
  try {
    addMasks(req.roundId, req.tasks, acc);
    res = { id: req.id, ok: true, sum: acc };
  } catch (e) {
    res = {
      id: req.id,
      ok: false,
      error: isSbError(e)
        ? { code: e.code, message: e.message, details: e.details }
        : { code: 'SB_ERR_MASK_WORKER', message: 'the mask worker failed', details: {} },
    };
  } finally {
    wipe(req);
  }
  parentPort?.postMessage(res, res.ok ? [res.sum.buffer as ArrayBuffer] : []);
});
