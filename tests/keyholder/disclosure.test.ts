import t from 'tap';
import { checkConsistency } from '../../keyholder/consistency.js';
import {
  allPublished,
  disclosureContext,
  primaryDisclosure,
  renderReleaseRows,
  runDisclosure,
  type DisclosurePass,
  type RowDecision,
} from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { cellSlotIndex, GROUP_SLOT_INDEX } from '../../shared/metrics/slots.js';
import { sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

const cb = await sampleCodebook();
const { vector: sector, json } = sampleVector(cb, 'sector');
const th = (min_institutions: number, min_population: number) =>
  ThresholdsSchema.parse({ min_institutions, min_population });

t.test('primary: per cell and block, min_institutions first, then min_population (rule written out)', async (t) => {
  for (const [mi, mp] of [
    [3, 10],
    [2, 25],
    [2, 1],
  ] as const) {
    const d = primaryDisclosure(cb, sector, th(mi, mp), 3);
    let bad = 0;
    const seen = new Set<string>();
    for (const key of cb.cellKeys) {
      const row = json.cells[key] ?? {};
      for (const [block, inst, pop] of [
        ['A', row.c_contrib_a ?? 0, row.a_enrolments ?? 0],
        ['B', row.c_contrib_b ?? 0, row.b_starters ?? 0],
      ] as const) {
        const want = inst < mi ? 'min_institutions' : pop < mp ? 'min_population' : 'published';
        const got = d.cells.get(key)![block];
        const g = got.status === 'published' ? 'published' : got.rule;
        seen.add(g);
        if (g !== want) bad++;
      }
    }
    t.equal(bad, 0, `cells follow the rules at ${mi}/${mp} (${[...seen].join(', ')})`);
  }
  const d = primaryDisclosure(cb, sector, th(3, 10), 3);
  t.same(d.rollups.get('total'), { A: { status: 'published' }, B: { status: 'published' } }, 'total rollup published');
  t.match(
    d.rollups.get('sectorkamer|HAN'),
    { A: { status: 'suppressed', rule: 'min_institutions', pass: 'primary' } },
    'a rollup with one institution',
  );
});

t.test('rollups sum the cells of the group; institutions come from the group row', async (t) => {
  const ctx = disclosureContext({ codebook: cb, sector, thresholds: th(3, 10), contributions: 3 });
  const total = ctx.rollups.find((r) => r.key === 'total')!;
  const sumCells = (s: string) => Object.values(json.cells).reduce((a, r) => a + (r[s] ?? 0), 0);
  t.equal(total.values.a_enrolments, sumCells('a_enrolments'));
  t.equal(total.values.b_sum_x2, sumCells('b_sum_x2'));
  t.equal(total.facts.c_contrib_a, json.groups.total!.c_contrib_a);
  const rows = renderReleaseRows(ctx, runDisclosure(ctx, []).decisions);
  t.equal(rows.rollups.total!.slots.a_enrolments, sumCells('a_enrolments'));
  t.notOk(
    Object.keys(rows.rollups.total!.slots).some((s) => s.startsWith('c_')),
    'no block C in rendered rows',
  );
  t.equal(Object.keys(rows.cells).length, cb.cellKeys.length);
});

t.test('passes can only suppress more', async (t) => {
  const ctx = disclosureContext({ codebook: cb, sector, thresholds: th(3, 10), contributions: 3 });
  const more: DisclosurePass = {
    name: 'suppress-total',
    apply: (_c, cur) => ({
      cells: cur.cells,
      rollups: new Map(
        [...cur.rollups].map(([k, r]) => [
          k,
          k === 'total'
            ? ({ ...r, A: { status: 'suppressed', rule: 'secondary', pass: 'suppress-total' } } as RowDecision)
            : r,
        ]),
      ),
    }),
  };
  const undo: DisclosurePass = {
    name: 'undo',
    apply: (_c, cur) => ({
      cells: new Map(
        [...cur.cells].map(([k]) => [k, { A: { status: 'published' }, B: { status: 'published' } } as RowDecision]),
      ),
      rollups: cur.rollups,
    }),
  };
  const { primaryPass } = await import('../../keyholder/disclosure/primary.js');
  const r = runDisclosure(ctx, [primaryPass, more]);
  t.match(r.summary, [{ pass: 'primary' }, { pass: 'suppress-total', suppressed: 1 }]);
  t.throws(() => runDisclosure(ctx, [primaryPass, undo]), /undo the min_institutions suppression/);
  t.throws(
    () => runDisclosure(ctx, [{ name: 'drop', apply: (_c, cur) => ({ cells: new Map(), rollups: cur.rollups }) }]),
    /changed the number of cells/,
  );
  t.equal(allPublished(ctx).cells.size, cb.cellKeys.length);
});

t.test('consistency checks', async (t) => {
  for (const name of ['inst-1', 'inst-2', 'inst-3'] as const)
    t.same(checkConsistency(cb, sampleVector(cb, name).vector, 1), [], `${name} is consistent`);
  t.same(checkConsistency(cb, sector, 3), [], 'the sector sum is consistent');
  t.match(
    checkConsistency(cb, sector, 2),
    [{ slot: 'c_contrib_a', rule: /<= number of contributions/ }],
    'c_contrib above the number of contributions',
  );
  const cell = cb.cellKeys.indexOf('92530|4|BOL');
  const tweak = (slot: string, delta: number) => {
    const v = structuredClone(sector);
    v.cells[cell]![cellSlotIndex(slot)]! += delta;
    return checkConsistency(cb, v, 3).map((x) => `${x.row} ${x.key} ${x.slot}: ${x.rule}`);
  };
  t.match(tweak('a_hist_2', 1), ['cell 92530|4|BOL a_hist_0: sum of a_hist_* = a_rated']);
  t.match(tweak('a_rated', 1000), [/a_hist_0/, /a_rated <= a_enrolments/]);
  t.match(tweak('b_early_dropout_1', 1000), [/b_early_dropout_1 <= b_early_total_1/, /sum of b_early_dropout_\* <=/]);
  t.match(tweak('a_signal16_u18', 1000), [/a_signal16_u18 <= a_signal16/, /a_signal16_u18 <= a_enrolments_u18/]);
  t.match(tweak('c_sq_a', 1_000_000), [/c_sq_a <= population\^2/]);
  t.match(tweak('a_min_present', 1), [/a_min_registered/]);
  const g = structuredClone(sector);
  g.groups[cb.groupKeys.indexOf('total')]![GROUP_SLOT_INDEX.c_contrib_a] = 1;
  t.match(
    checkConsistency(cb, g, 3).map((x) => `${x.row} ${x.key} ${x.slot}: ${x.rule}`),
    [/group total c_contrib_a: c_contrib_a >= every cell's/, /Cauchy-Schwarz/],
  );
});
