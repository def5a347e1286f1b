import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { sampleDir } from './paths.js';

/** Slot name → value, one cell or rollup group of an expected vector. */
const row = z.record(z.string(), z.number());

/** The parts of ../shared/sample/expected/<id>.json the tests compare against (other keys dropped). */
const expectedVector = z.object({ cells: z.record(z.string(), row), groups: z.record(z.string(), row) });

/** An expected vector's cells and rollup groups, keyed by cell or group key, then slot. */
export type ExpectedVector = z.infer<typeof expectedVector>;

/** Read and check the sample's expected vector of `id` (`inst-1`, …, `sector`); throws if malformed. */
export function readExpected(id: string): ExpectedVector {
  return expectedVector.parse(JSON.parse(readFileSync(join(sampleDir, 'expected', `${id}.json`), 'utf8')));
}
