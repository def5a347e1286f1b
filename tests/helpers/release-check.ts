import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { Release } from '../../schemas/release.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { sampleDir } from './paths.js';

type Row = Record<string, number>;
type Expected = { cells: Record<string, Row>; groups: Record<string, Row> };
const expected = (id: string) =>
  JSON.parse(readFileSync(join(sampleDir, 'expected', `${id}.json`), 'utf8')) as Expected;
const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));

/**
 * Every published figure of a release of the sample institutions equals the sum of the given
 * institutions' expected vectors (../shared/sample/expected/inst-*.json; rollups as the sum of
 * their cells). Asserts that none differs; returns how many were compared.
 */
export function checkRelease(t: Test, release: Release, ids: string[]): number {
  const vectors = ids.map(expected);
  const sum = (kind: 'cells' | 'groups', key: string, slot: string) =>
    vectors.reduce((a, v) => a + (v[kind][key]?.[slot] ?? 0), 0);
  let compared = 0;
  let differ = 0;
  for (const [kind, rows] of [
    ['cells', release.cells],
    ['groups', release.rollups],
  ] as const) {
    for (const [key, row] of Object.entries(rows)) {
      for (const slot of [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS]) {
        const v = row.slots[slot];
        if (v === null || v === undefined) continue;
        const want =
          kind === 'cells'
            ? sum('cells', key, slot)
            : (codebook.groupCells.get(key) ?? []).reduce(
                (a, i) => a + sum('cells', codebook.cellKeys[i] as string, slot),
                0,
              );
        compared++;
        if (v !== want) differ++;
      }
    }
  }
  t.equal(differ, 0, `every one of ${compared} published figures equals the sum of ${ids.join(' + ')}`);
  return compared;
}
