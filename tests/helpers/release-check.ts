import { join } from 'node:path';
import type { Test } from 'tap';
import type { Release } from '../../schemas/release.js';
import { itemAt } from '../../shared/arrays/checked-index.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { readExpected } from './expected.js';
import { sampleDir } from './paths.js';

const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));

/**
 * Every published figure of a release of the sample institutions equals the sum of the given
 * institutions' expected vectors (../shared/sample/expected/inst-*.json; rollups as the sum of
 * their cells). Asserts that none differs; returns how many were compared.
 */
export function checkRelease(t: Test, release: Release, ids: string[]): number {
  const vectors = ids.map(readExpected);
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
                (a, i) => a + sum('cells', itemAt(codebook.cellKeys, i), slot),
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
