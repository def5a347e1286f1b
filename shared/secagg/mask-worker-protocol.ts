import type { MaskTask } from './mask-tasks.js';

/** A run of mask tasks for one worker of the mask pool, over `length` slots. */
export interface MaskWorkerRequest {
  id: number;
  roundId: string;
  length: number;
  tasks: MaskTask[];
}

/** The run's masks summed mod t (values in [0, t)), or the error it stopped on. */
export type MaskWorkerResponse =
  | { id: number; ok: true; sum: Float64Array }
  | { id: number; ok: false; error: { code: string; message: string; details: Record<string, unknown> } };
