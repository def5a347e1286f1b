import { z } from 'zod';
import { RoundId } from '../../schemas/common.js';
import { ProblemSchema } from '../http/problem-document.js';

/** Path parameters of round routes. */
export const RoundParams = z.object({ roundId: RoundId.describe('round id, e.g. 2024-2025-r1') });

/** Problem responses for OpenAPI. */
export const problems = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, ProblemSchema])) as Record<number, typeof ProblemSchema>;
