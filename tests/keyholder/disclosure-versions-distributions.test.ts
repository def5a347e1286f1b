/**
 * Issue 16 item 2: distributions across versions. A histogram of institutions' rates published
 * in version 1 and with other bins in version 2 shows the late institutions' rate bins by
 * differencing; version 2 withholds it unless at least min_institutions_distribution
 * institutions came in between. Expected values worked out by hand below.
 */
import t from 'tap';
import { withholdVersionDifferences } from '../../keyholder/disclosure/index.js';
import type { Release, ReleaseRowDistributions } from '../../schemas/release.js';

const hist = (...bins: number[]) => [...bins, ...Array(10 - bins.length).fill(0)];
const published = (abs: number[] | null, drop: number[] | null): ReleaseRowDistributions => ({
  c_abs_bin: abs,
  c_drop_bin: drop,
  suppressed: {
    ...(abs ? {} : { c_abs_bin: { rule: 'min_institutions_distribution' as const } }),
    ...(drop ? {} : { c_drop_bin: { rule: 'min_institutions_distribution' as const } }),
  },
});
const v1 = {
  release_version: 1,
  cells: {
    X: { distributions: published(hist(2, 3), hist(5)) },
    Y: { distributions: published(hist(1, 1, 3), null) },
  },
  rollups: { total: { distributions: published(hist(2, 3), hist(5)) } },
} as unknown as Release;

t.test('a histogram that changed by fewer than min_institutions_distribution institutions is withheld', async (t) => {
  const dist = {
    cells: {
      // X: one late institution in bin 1 of c_abs_bin (5 → 6 institutions); c_drop_bin: it went to bin 0.
      X: published(hist(2, 4), hist(6)),
      // Y: the same as version 1: stays.
      Y: published(hist(1, 1, 3), hist(5)),
    },
    rollups: {
      // total: five late institutions (5 → 10): the difference is a histogram of five, as publishable.
      total: published(hist(4, 6), hist(10)),
    },
    tally: { published: 6, withheld: {} },
  };
  const n = withholdVersionDifferences(dist, [v1], 5);
  t.equal(n, 2, "X's two histograms are withheld");
  t.equal(dist.cells.X?.c_abs_bin, null);
  t.equal(dist.cells.X?.c_drop_bin, null);
  t.match(dist.cells.X?.suppressed.c_abs_bin, {
    rule: 'min_institutions_distribution',
    note: /differs from version 1 by the rates of 1 institution/,
  });
  t.same(dist.cells.Y?.c_abs_bin, hist(1, 1, 3), 'an unchanged histogram stays');
  t.same(dist.cells.Y?.c_drop_bin, hist(5), 'one not published before stays');
  t.same(dist.rollups.total?.c_abs_bin, hist(4, 6), 'a change of five institutions stays');
  t.same(dist.tally, { published: 4, withheld: { min_institutions_distribution: 2 } }, 'the tally follows');
});

t.test('a correction (same number of institutions, other bins) is withheld', async (t) => {
  const dist = {
    cells: { X: published(hist(3, 2), hist(5)), Y: published(null, null) },
    rollups: { total: published(hist(2, 3), hist(5)) },
    tally: { published: 4, withheld: {} },
  };
  t.equal(withholdVersionDifferences(dist, [v1], 5), 1);
  t.equal(dist.cells.X?.c_abs_bin, null, 'one institution moved from bin 1 to bin 0: withheld');
  t.same(dist.cells.X?.c_drop_bin, hist(5));
});
