import { addMaskUnreduced, pairMaskKey, reduceModT, selfMaskKey } from './prg.js';

/**
 * One mask to add into an accumulator: its PRG key is derived from the secret named here, then
 * expanded over the accumulator's length (shared/secagg/prg.ts).
 * - `self`: HKDF of a self-mask seed (`selfMaskKey(roundId, id, seed)`);
 * - `pair`: X25519 of `secretKey` with `publicKey`, then HKDF (`pairMaskKey(roundId, a, b, …)`).
 * `sign` says whether the mask is added (+1) or subtracted (-1).
 */
export type MaskTask =
  | { kind: 'self'; id: string; seed: Uint8Array; sign: 1 | -1 }
  | { kind: 'pair'; a: string; b: string; secretKey: Uint8Array; publicKey: Uint8Array; sign: 1 | -1 };

/**
 * Masks added between two reductions mod t: values stay below (4,000 + 1) x 2^40 < 2^53, so every
 * unreduced sum is an exact integer in a double.
 */
export const MASKS_PER_REDUCTION = 4000;

/**
 * Add every task's mask into `acc` (doubles holding exact integers), in task order, in this
 * thread; reduces mod t every {@link MASKS_PER_REDUCTION} masks and once at the end, so `acc`
 * ends in [0, t). `acc` must enter with integers of magnitude below 2^44 (e.g. values below t,
 * or a few unreduced masks). Every derived PRG key is zeroed after use.
 *
 * @throws SbError `SB_ERR_SECAGG_KEYS` when a pair's agreement gives the zero point
 */
export function addMasks(roundId: string, tasks: readonly MaskTask[], acc: Float64Array): void {
  let pending = 0;
  for (const task of tasks) {
    const key =
      task.kind === 'self'
        ? selfMaskKey(roundId, task.id, task.seed)
        : pairMaskKey(roundId, task.a, task.b, task.secretKey, task.publicKey);
    try {
      addMaskUnreduced(key, acc, task.sign);
    } finally {
      key.fill(0);
    }
    if (++pending === MASKS_PER_REDUCTION) {
      reduceModT(acc);
      pending = 0;
    }
  }
  reduceModT(acc);
}

/** Relative cost of a task (one expansion = 2; a pair adds a tweetnacl X25519, about as much again). */
function weight(task: MaskTask): number {
  return task.kind === 'self' ? 2 : 4;
}

/**
 * Split `tasks` into at most `lanes` contiguous runs of about equal cost (task order kept; the
 * first run always starts at task 0, so a caller that puts work it must keep first keeps it in
 * lane 0, its own thread). Empty runs are dropped.
 */
export function splitTasks<T extends MaskTask>(tasks: readonly T[], lanes: number): T[][] {
  const total = tasks.reduce((s, x) => s + weight(x), 0);
  const out: T[][] = [];
  let run: T[] = [];
  let done = 0;
  for (const task of tasks) {
    run.push(task);
    done += weight(task);
    if (out.length < lanes - 1 && done >= (total * (out.length + 1)) / lanes) {
      out.push(run);
      run = [];
    }
  }
  if (run.length > 0) out.push(run);
  return out;
}
