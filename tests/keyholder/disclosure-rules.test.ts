/** Issue 5: dominance, distributions, secondary suppression and the audit (unit level). */
import t from 'tap';
import {
  auditRelease,
  DEFAULT_PASSES,
  DEFAULT_PROTECTION,
  decimalFraction,
  discloseAndAudit,
  disclosureContext,
  ExactBasis,
  isDominated,
  primaryPass,
  renderReleaseRows,
  rowDistributions,
  runDisclosure,
  secondarySuppression,
} from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import type { Release, ReleaseRow } from '../../schemas/release.js';
import { buildCodebook } from '../../shared/metrics/codebook.js';
import { CELL_SLOT_INDEX } from '../../shared/metrics/slots.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from '../../bench/keyholder/synthetic-sector.js';
import { sampleCodebook, sampleVector } from '../fixtures/crypto/sample.js';

const cb = await sampleCodebook();
const { vector: sector } = sampleVector(cb, 'sector');
const th = ThresholdsSchema.parse({});

t.test('exact arithmetic helpers', async (t) => {
  t.same(decimalFraction(0.85), { num: 17n, den: 20n });
  t.same(decimalFraction(1e-7), { num: 1n, den: 10000000n });
  const b = new ExactBasis();
  b.add(
    new Map([
      [0, 1n],
      [1, 1n],
    ]),
  );
  t.same(b.determinedColumns(), [], 'x0 + x1 = r determines neither');
  b.add(
    new Map([
      [1, 1n],
      [2, 1n],
    ]),
  );
  b.add(
    new Map([
      [0, 1n],
      [2, 1n],
    ]),
  );
  t.same(
    b.determinedColumns().sort(),
    [0, 1, 2],
    'three pairwise sums determine all three (needs the combination, not a singleton)',
  );
  t.equal(b.rank, 3);
  t.notOk(
    b.add(
      new Map([
        [0, 2n],
        [1, 2n],
      ]),
    ),
    'a row in the span adds nothing',
  );
});

t.test('a cell recoverable by subtraction is found by the audit and protected by secondary suppression', async (t) => {
  const ctx = disclosureContext({ codebook: cb, sector, thresholds: th, contributions: 3 });
  const primary = runDisclosure(ctx, [primaryPass]).decisions;
  const rows = renderReleaseRows(ctx, primary);
  const truth = (_b: 'A' | 'B', kind: 'cell' | 'rollup', key: string) =>
    (kind === 'cell' ? ctx.cells : ctx.rollups).find((r) => r.key === key)!.values;
  const leaky = await auditRelease({
    codebook: cb,
    thresholds: th,
    ...rows,
    trueRow: truth,
    protection: DEFAULT_PROTECTION,
  });
  const determined = leaky.findings.filter((f) => f.kind === 'determined');
  t.ok(
    determined.length > 0,
    `primary suppression alone leaks (${determined.length} suppressed blocks determined, e.g. ${determined[0]?.entry})`,
  );
  const protectedDecisions = secondarySuppression(ctx, primary);
  const rows2 = renderReleaseRows(ctx, protectedDecisions);
  const safe = await auditRelease({
    codebook: cb,
    thresholds: th,
    ...rows2,
    trueRow: truth,
    protection: DEFAULT_PROTECTION,
  });
  t.same(
    safe.findings.filter((f) => f.kind === 'determined'),
    [],
    'after secondary suppression nothing is determined',
  );
  const notes = Object.values(rows2.rollups)
    .flatMap((r) => Object.values(r.suppressed))
    .filter((s) => s.rule === 'secondary');
  t.ok(
    notes.length > 0 && notes.every((n) => /cannot be derived from/.test(n.note ?? '')),
    'every secondary suppression explains itself',
  );
  const full = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
  t.same(full.audit.findings, [], 'the full pipeline passes the audit');
});

t.test('a dominated cell is suppressed although it passes the count thresholds (integer test)', async (t) => {
  const v = structuredClone(sector);
  const i = cb.cellKeys.indexOf('92530|4|BOL');
  const row = v.cells[i]!;
  t.equal(row[CELL_SLOT_INDEX.c_contrib_a as number], 3);
  t.equal(row[CELL_SLOT_INDEX.a_enrolments as number], 36);
  row[CELL_SLOT_INDEX.c_sq_a as number] = 34 * 34 + 1 + 1; // sizes 34, 1, 1
  const ctx = disclosureContext({ codebook: cb, sector: v, thresholds: th, contributions: 3 });
  const r = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
  t.match(r.decisions.cells.get('92530|4|BOL'), { A: { status: 'suppressed', rule: 'dominance' } });
  t.equal(r.cells['92530|4|BOL']!.slots.a_enrolments, null);
  // Boundary: sqrt(289)/20 = 0.85 exactly is not above the share; 290 is.
  const probe = (s2: number) =>
    isDominated({ kind: 'cell', key: 'x', values: { a_enrolments: 20 }, facts: { c_sq_a: s2 }, cells: [0] }, 'A', th);
  t.equal(probe(289), false);
  t.equal(probe(290), true);
});

t.test(
  'distributions: published only with at least min_institutions_distribution institutions in the histogram',
  async (t) => {
    const facts = (bins: number[], contrib = 5) => ({
      c_contrib_a: contrib,
      c_contrib_b: contrib,
      ...Object.fromEntries(bins.map((n, k) => [`c_abs_bin_${k}`, n])),
      ...Object.fromEntries(bins.map((n, k) => [`c_drop_bin_${k}`, n])),
    });
    const row = (bins: number[], contrib?: number) => ({
      kind: 'cell' as const,
      key: 'x',
      values: {},
      facts: facts(bins, contrib),
      cells: [0],
    });
    const pub = { A: { status: 'published' }, B: { status: 'published' } } as const;
    const three = rowDistributions(row([1, 0, 2, 0, 0, 0, 0, 0, 0, 0]), pub, 5);
    t.same(three.c_abs_bin, null, 'three institutions: withheld');
    t.match(three.suppressed.c_abs_bin, { rule: 'min_institutions_distribution' });
    const twoOfFive = rowDistributions(row([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], 5), pub, 5);
    t.same(twoOfFive.c_drop_bin, null, 'five contributors of whom two are binned: withheld');
    t.same(
      rowDistributions(row([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]), pub, 5).c_abs_bin,
      [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
      'five in the histogram: published',
    );
    const sup = rowDistributions(
      row([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]),
      { A: { status: 'suppressed', rule: 'secondary', pass: 'secondary' }, B: pub.B },
      5,
    );
    t.match(
      sup,
      { c_abs_bin: null, suppressed: { c_abs_bin: { rule: 'secondary' } } },
      'withheld with its suppressed block',
    );
  },
);

/** A tiny codebook (two crebos, one sectorkamer x niveau) and hand-made release rows. */
function tinyRelease(
  cells: Record<string, { v: number; inst: number; rule?: 'min_institutions' | 'min_population' | 'secondary' }>,
) {
  const tcb = buildCodebook([
    { crebo: '10001', name: 'a', niveau: 4, sectorkamerCode: 'ZWS', sectorkamerName: 'Z' },
    { crebo: '10002', name: 'b', niveau: 4, sectorkamerCode: 'ZWS', sectorkamerName: 'Z' },
  ]);
  const mk = (v: number, inst: number, rule?: string): ReleaseRow => {
    const slots: Record<string, number | null> = {};
    const suppressed: ReleaseRow['suppressed'] = {};
    for (const [s, block] of [...BLOCK_A_SLOTS.map((s) => [s, 'A']), ...BLOCK_B_SLOTS.map((s) => [s, 'B'])] as [
      string,
      string,
    ][]) {
      const val = s === 'a_enrolments' || s === 'b_starters' ? v : 0;
      slots[s] = rule ? null : val;
      if (rule) suppressed[s] = { rule: rule as 'secondary' };
      void block;
    }
    return { institutions: { a: inst, b: inst }, slots, suppressed };
  };
  const out: Record<string, ReleaseRow> = {};
  const values = new Map<string, number>();
  for (const k of tcb.cellKeys) {
    const c = cells[k]!;
    out[k] = mk(c.v, c.inst, c.rule);
    values.set(k, c.v);
  }
  const rollups: Record<string, ReleaseRow> = {};
  for (const g of tcb.groupKeys) {
    const members = tcb.groupCells.get(g)!;
    const v = members.reduce((a, i) => a + values.get(tcb.cellKeys[i]!)!, 0);
    rollups[g] = mk(v, members.length ? 4 : 0);
    values.set(g, v);
  }
  return {
    codebook: tcb,
    cells: out,
    rollups,
    trueRow: (_b: 'A' | 'B', _k: 'cell' | 'rollup', key: string) => ({
      a_enrolments: values.get(key)!,
      b_starters: values.get(key)!,
    }),
  };
}

t.test('the audit refuses a release built to leak, and one whose protection interval is too narrow', async (t) => {
  const leak = tinyRelease({
    '10001|4|BOL': { v: 100, inst: 2, rule: 'min_institutions' },
    '10001|4|BBL': { v: 30, inst: 3 },
    '10002|4|BOL': { v: 50, inst: 3 },
    '10002|4|BBL': { v: 40, inst: 3 },
  });
  const a = await auditRelease({ ...leak, thresholds: th, protection: DEFAULT_PROTECTION });
  t.same(
    a.findings.filter((f) => f.kind === 'determined').map((f) => `${f.block} ${f.entry}`),
    ['A cell:10001|4|BOL', 'B cell:10001|4|BOL'],
    'rollup minus published siblings',
  );
  const narrow = tinyRelease({
    '10001|4|BOL': { v: 100, inst: 2, rule: 'min_institutions' },
    '10001|4|BBL': { v: 30, inst: 3 },
    '10002|4|BOL': { v: 5, inst: 3, rule: 'min_population' },
    '10002|4|BBL': { v: 40, inst: 3 },
  });
  const b = await auditRelease({ ...narrow, thresholds: th, protection: DEFAULT_PROTECTION });
  t.same(
    b.findings.filter((f) => f.kind === 'determined'),
    [],
    'nothing is uniquely determined',
  );
  const f = b.findings.find((x) => x.kind === 'interval' && x.entry === 'cell:10001|4|BOL');
  t.ok(f, 'but 10001|4|BOL lies in [96, 102]: width 6 < 50');
  t.equal(f?.deficit, 50 - 6);
  const wide = await auditRelease({
    ...narrow,
    thresholds: th,
    protection: { ...DEFAULT_PROTECTION, ratioNum: 1, ratioDen: 20 },
  });
  t.same(wide.findings, [], 'with a configured requirement of v/20 (5) it passes');
});

t.test('a second version that would isolate one late institution is refused', async (t) => {
  const scb = syntheticCodebook(120, 11);
  const insts = syntheticInstitutions(scb, 12, 4);
  const thr = ThresholdsSchema.parse({});
  const ctx1 = disclosureContext({
    codebook: scb,
    sector: sectorOf(scb, insts.slice(0, 11)),
    thresholds: thr,
    contributions: 11,
  });
  const v1 = await discloseAndAudit(ctx1, { passes: DEFAULT_PASSES });
  const release1 = { release_version: 1, cells: v1.cells, rollups: v1.rollups } as unknown as Release;
  const same = await discloseAndAudit(ctx1, { passes: DEFAULT_PASSES, earlier: [release1] });
  t.match(same.outcome.audit.versions, { compared: [1] }, 'the same contributions again: passes');
  t.ok(same.outcome.audit.versions.differences_checked > 0);
  const ctx2 = disclosureContext({ codebook: scb, sector: sectorOf(scb, insts), thresholds: thr, contributions: 12 });
  await t.rejects(discloseAndAudit(ctx2, { passes: DEFAULT_PASSES, earlier: [release1] }), {
    code: 'SB_ERR_DISCLOSURE_AUDIT',
    message: /version 1 with different figures/,
  });
  t.ok(
    (await discloseAndAudit(ctx2, { passes: DEFAULT_PASSES })).audit.findings.length === 0,
    'the same release without an earlier version would pass',
  );
});
