/**
 * Issue 12: disclosure control that holds against bounds and against a contributing
 * institution. The case folder `disclosure-pinned-by-bounds` as a test, and hand-built cases.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  auditRelease,
  DEFAULT_PASSES,
  DEFAULT_PROTECTION,
  discloseAndAudit,
  disclosureContext,
  primaryPass,
  renderReleaseRows,
  runDisclosure,
} from '../../keyholder/disclosure/index.js';
import { glpk } from '../../keyholder/disclosure/lp.js';
import { evaluate, ROW_CONSTRAINTS, violatedConstraints } from '../../keyholder/disclosure/row-inequalities.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import type { ReleaseRow } from '../../schemas/release.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { type InstitutionCells, slotSector, smallCodebook } from './slot-sector.js';

const th = ThresholdsSchema.parse({});
const caseDir = new URL('../../../shared/cases/disclosure-pinned-by-bounds/', import.meta.url);

interface CaseFile {
  codebook: { crebo: string; niveau: number; sectorkamer: string }[];
  slots: string[];
  institutions: Record<string, Record<string, number[]>>;
}

/** The case's institutions as cell rows (a_rated = a_enrolments, as its README says). */
function caseSector(): { cb: Codebook; insts: InstitutionCells } {
  const c = JSON.parse(readFileSync(new URL('institutions.json', caseDir), 'utf8')) as CaseFile;
  const cb = smallCodebook(c.codebook);
  const niveau = new Map(c.codebook.map((e) => [e.crebo, e.niveau]));
  const insts: InstitutionCells = {};
  for (const [name, cells] of Object.entries(c.institutions)) {
    insts[name] = {};
    for (const [crebo, values] of Object.entries(cells)) {
      const slots: Record<string, number> = {};
      c.slots.forEach((s, k) => {
        slots[s] = values[k] as number;
      });
      slots.a_rated = slots.a_enrolments as number;
      (insts[name] as Record<string, Record<string, number>>)[`${crebo}|${niveau.get(crebo)}|BOL`] = slots;
    }
  }
  return { cb, insts };
}

function audit(cb: Codebook, ctx: ReturnType<typeof disclosureContext>, rows: ReturnType<typeof renderReleaseRows>) {
  const byKey = new Map([...ctx.cells, ...ctx.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));
  return auditRelease({
    codebook: cb,
    thresholds: th,
    ...rows,
    trueRow: (_b, kind, key) => byKey.get(`${kind}:${key}`)!,
    protection: DEFAULT_PROTECTION,
  });
}

/** Everything an outsider derives about the two cells' pair total from a release (null: not derivable). */
function pairTotal(rows: { cells: Record<string, ReleaseRow>; rollups: Record<string, ReleaseRow> }, slot: string) {
  const group = rows.rollups['sectorkamer_niveau|AAA|2'] as ReleaseRow;
  const others = ['90001|2|BOL', '90004|2|BOL'].map((k) => (rows.cells[k] as ReleaseRow).slots[slot]);
  const g = group.slots[slot];
  if (g === null || g === undefined || others.some((x) => x === null || x === undefined)) return null;
  return (g as number) - (others as number[]).reduce((a, x) => a + x, 0);
}

t.test('case disclosure-pinned-by-bounds: the original release is refused by the audit', async (t) => {
  const { cb, insts } = caseSector();
  const ctx = disclosureContext({ codebook: cb, sector: slotSector(cb, insts), thresholds: th, contributions: 5 });
  // The release of the case: primary suppression only (90002 and 90003), all else published.
  const rows = renderReleaseRows(ctx, runDisclosure(ctx, [primaryPass]).decisions);
  t.equal(rows.cells['90002|2|BOL']?.slots.a_signal16, null, '90002 suppressed');
  t.equal(rows.cells['90003|2|BOL']?.slots.a_signal16, null, '90003 suppressed');
  t.equal(pairTotal(rows, 'a_signal16'), 0, 'as the README shows: the pair has a_signal16 = 11 - 6 - 5 = 0');
  t.equal(pairTotal(rows, 'b_starters'), 8, 'b_starters 8');
  t.equal(pairTotal(rows, 'b_retained'), 8, 'b_retained 8');
  const report = await audit(cb, ctx, rows);
  const pinned = report.findings.filter((f) => f.kind === 'pinned');
  const by = (entry: string, block: string) => pinned.find((f) => f.entry === entry && f.block === block);
  t.ok(by('cell:90002|2|BOL', 'A')?.counts?.includes('a_signal16'), 'a_signal16 of 90002 is pinned to 0');
  t.ok(by('cell:90003|2|BOL', 'A')?.counts?.includes('a_signal16'), 'a_signal16 of 90003 is pinned to 0');
  for (const e of ['cell:90002|2|BOL', 'cell:90003|2|BOL'])
    t.ok(
      by(e, 'B')?.counts?.includes('slack of b_retained <= b_starters'),
      `${e}: starters - retained (not retained) pinned to 0`,
    );
  t.ok(
    report.findings.some((f) => f.kind === 'contributor_determined' && f.entry === 'cell:90003|2|BOL'),
    'I1 knows 90002 (one institution) and derives 90003 (two institutions) exactly',
  );
});

t.test('case disclosure-pinned-by-bounds: the release protects both cells against both attacks', async (t) => {
  const { cb, insts } = caseSector();
  const ctx = disclosureContext({ codebook: cb, sector: slotSector(cb, insts), thresholds: th, contributions: 5 });
  const released = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
  const rows = { cells: released.cells, rollups: released.rollups };
  t.same(released.audit.findings, [], 'the audit passes the release it signs');
  const again = await audit(cb, ctx, rows);
  t.same(again.findings, [], 'an independent audit agrees');
  for (const slot of ['a_signal16', 'b_starters', 'b_retained', 'a_enrolments']) {
    t.equal(pairTotal(rows, slot), null, `the pair total of ${slot} is no longer derivable from published figures`);
  }
  // Attack 1 (bounds): the two cells' a_signal16 and dropouts are not derivable at all: whatever
  // else is suppressed with them must hold signals and dropouts.
  const hidden = Object.entries(rows.cells).filter(([, r]) => r.slots.a_signal16 === null && r.institutions.a > 0);
  const signals = hidden.reduce((a, [k]) => a + (ctx.cells.find((c) => c.key === k)?.values.a_signal16 ?? 0), 0);
  t.ok(signals > 0, `the suppressed cells together hold ${signals} signals, so 0 is not forced for either cell`);
  // Attack 2 (contributor I1): I1 knows 90002 and its own part of every other cell; what it
  // cannot see must include a cell of at least two institutions besides 90003.
  const partners = hidden.filter(([k, r]) => k !== '90002|2|BOL' && k !== '90003|2|BOL' && r.institutions.a >= 2);
  t.ok(partners.length >= 1, `90003 has partners of two or more institutions: ${partners.map(([k]) => k).join(', ')}`);
});

/**
 * A row of one block that meets every constraint of `row-inequalities.ts`, found by integer
 * programming (glpk.js): population 20 (or 100), the given slacks pinned to 0 or kept >= 1,
 * everything else as large as the bounds allow.
 */
async function rowWith(block: 'A' | 'B', population: number, zero: string | null): Promise<Record<string, number>> {
  const g = await glpk();
  const slots = block === 'A' ? BLOCK_A_SLOTS : BLOCK_B_SLOTS;
  const cons = ROW_CONSTRAINTS.filter((c) => c.block === block);
  const tightSlots = new Set(Object.keys(cons.find((c) => c.id === zero)?.form ?? {}));
  const vars = (form: Record<string, number>) => Object.entries(form).map(([name, coef]) => ({ name, coef }));
  const big = (s: string) => (/min_|sum_x/.test(s) ? 1e9 : population * 50);
  const res = g.solve(
    {
      name: 'row',
      objective: {
        direction: g.GLP_MAX,
        name: 'z',
        vars: slots.map((s) => ({ name: s, coef: /min_|sum_x/.test(s) ? 0 : 1 })),
      },
      subjectTo: [
        {
          name: 'pop',
          vars: [{ name: slots[0] as string, coef: 1 }],
          bnds: { type: g.GLP_FX, lb: population, ub: population },
        },
        ...cons.map((c) => ({
          name: c.id,
          vars: vars(c.form),
          bnds:
            c.kind === 'eq' || c.id === zero
              ? { type: g.GLP_FX, lb: 0, ub: 0 }
              : { type: g.GLP_LO, lb: zero === null ? 1 : 0, ub: 0 },
        })),
      ],
      // The slots of the tight inequality are kept >= 1: the pin must come through the inequality.
      bounds: slots.map((s) => ({ name: s, type: g.GLP_DB, lb: tightSlots.has(s) ? 1 : 0, ub: big(s) })),
      generals: [...slots],
    },
    { msglev: g.GLP_MSG_OFF },
  );
  if (res.result.status !== g.GLP_OPT) throw new Error(`no row for ${zero}`);
  return Object.fromEntries(slots.map((s) => [s, Math.round(res.result.vars[s] ?? 0)]));
}

/**
 * Hand-built cases, one per inequality of docs/DISCLOSURE.md: two cells x and y of two
 * institutions each (suppressed by min_institutions) next to three published cells of three
 * institutions each, in one sectorkamer × niveau. The published rollup minus the published cells
 * gives the pair total of x and y; in x and y the inequality is tight (its slack 0) and elsewhere
 * slack, so the pair total pins that derived count of x and y through exactly that inequality.
 */
for (const c of ROW_CONSTRAINTS.filter((x) => x.kind === 'ge')) {
  t.test(`inequality ${c.text} pins a value and the audit refuses`, async (t) => {
    const other: 'A' | 'B' = c.block === 'A' ? 'B' : 'A';
    const tight = await rowWith(c.block, 20, c.id);
    const rich = await rowWith(c.block, 100, null);
    const richOther = await rowWith(other, 100, null);
    t.same(violatedConstraints(c.block, tight), [], 'the tight row meets every listed constraint');
    t.same(violatedConstraints(c.block, rich), [], 'the published rows meet every listed constraint');
    t.equal(evaluate(c.form, tight), 0, 'the inequality is tight in x and y');
    t.ok(evaluate(c.form, rich) >= 1, 'and slack in the published cells');
    const cb = smallCodebook(
      ['90001', '90002', '90003', '90004', '90005'].map((crebo) => ({ crebo, niveau: 2, sectorkamer: 'AAA' })),
    );
    // Two institutions in each of x and y: a contributor then knows no suppressed block whole,
    // so what pins x is the outsider's knowledge alone (with one institution each, the other
    // contributor would know y and derive x exactly: the contributor case below).
    const insts: InstitutionCells = {
      I1: { '90002|2|BOL': { ...tight } },
      I2: { '90002|2|BOL': { ...tight } },
      I6: { '90003|2|BOL': { ...tight } },
      I7: { '90003|2|BOL': { ...tight } },
    };
    for (const name of ['I3', 'I4', 'I5'])
      insts[name] = Object.fromEntries(
        ['90001|2|BOL', '90004|2|BOL', '90005|2|BOL'].map((k) => [k, { ...rich, ...richOther }]),
      );
    for (const k of ['I1', 'I2', 'I6', 'I7']) {
      const cell = Object.values(insts[k] as Record<string, Record<string, number>>)[0] as Record<string, number>;
      Object.assign(cell, other === 'A' ? { a_enrolments: 0 } : { b_starters: 0 });
    }
    const ctx = disclosureContext({ codebook: cb, sector: slotSector(cb, insts), thresholds: th, contributions: 7 });
    const rows = renderReleaseRows(ctx, runDisclosure(ctx, [primaryPass]).decisions);
    t.equal(rows.cells['90002|2|BOL']?.slots[c.block === 'A' ? 'a_enrolments' : 'b_starters'], null, 'x suppressed');
    const report = await audit(cb, ctx, rows);
    const name = `slack of ${c.text}`;
    const x = report.findings.find((f) => f.kind === 'pinned' && f.entry === 'cell:90002|2|BOL' && f.block === c.block);
    t.ok(x?.counts?.includes(name), `the audit names ${name} as pinned for x`);
    const slotsOfForm = Object.keys(c.form);
    t.ok(
      slotsOfForm.some((s) => !x?.counts?.includes(s)),
      `not through a zero slot: some slot of the inequality (${slotsOfForm.join(', ')}) is not pinned itself`,
    );
    const released = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
    t.same(released.audit.findings, [], 'the release suppresses more and passes the audit');
  });
}

t.test('a two-institution block whose contributor would learn the other institution is refused', async (t) => {
  // I1 alone in 90002; I1 and I2 in 90003. Everything else in the group is published.
  // I1 knows 90002 and its own part of 90003; the pair total then gives I2's figures in 90003.
  const cb = smallCodebook(
    ['90001', '90002', '90003', '90004', '90005'].map((crebo) => ({ crebo, niveau: 2, sectorkamer: 'AAA' })),
  );
  const row = (a: number, b: number) => ({ a_enrolments: a, a_rated: a, b_starters: b, b_retained: b - 1 });
  const insts: InstitutionCells = {
    I1: { '90002|2|BOL': row(6, 3), '90003|2|BOL': row(5, 3), '90001|2|BOL': row(30, 10) },
    I2: { '90003|2|BOL': row(7, 4), '90004|2|BOL': row(30, 10), '90005|2|BOL': row(30, 10) },
    I3: { '90001|2|BOL': row(30, 10), '90004|2|BOL': row(30, 10), '90005|2|BOL': row(30, 10) },
    I4: { '90001|2|BOL': row(30, 10), '90004|2|BOL': row(30, 10), '90005|2|BOL': row(30, 10) },
  };
  const ctx = disclosureContext({ codebook: cb, sector: slotSector(cb, insts), thresholds: th, contributions: 4 });
  const rows = renderReleaseRows(ctx, runDisclosure(ctx, [primaryPass]).decisions);
  t.equal(rows.cells['90003|2|BOL']?.institutions.a, 2, '90003 has two institutions');
  t.equal(rows.cells['90002|2|BOL']?.institutions.a, 1, '90002 has one');
  const report = await audit(cb, ctx, rows);
  t.same(
    report.findings.filter((f) => f.kind === 'determined').map((f) => f.entry),
    [],
    'an outsider cannot derive either cell (two unknowns, one relation)',
  );
  t.same(
    report.findings
      .filter((f) => f.kind === 'contributor_determined')
      .map((f) => `${f.block} ${f.entry}`)
      .sort(),
    ['A cell:90003|2|BOL', 'B cell:90003|2|BOL'],
    'but the contributor of 90002 derives 90003, and with it the other institution of 90003',
  );
  const released = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
  const hidden = Object.entries(released.cells).filter(([, r]) => r.slots.a_enrolments === null);
  t.ok(
    hidden.some(([k, r]) => k !== '90003|2|BOL' && r.institutions.a >= 2),
    `the release gives 90003 a partner of two or more institutions (${hidden.map(([k]) => k).join(', ')})`,
  );
  t.same(released.audit.findings, [], 'and passes the audit');
});

t.test(
  'a two-institution block pinned only for a contributor (count by count) is refused, then protected',
  async (t) => {
    // 90002: I1 alone, with 2 signals. 90003 (I2, I3) and 90004 (I4, I5): no signals. 90001, 90005,
    // 90006: three institutions each, published, with signals. The outsider sees 2 signals among the
    // three suppressed cells (not pinned); I1 subtracts its own 2 and learns that 90003 and 90004
    // have none: I2's and I3's a_signal16 in 90003 are 0, exactly. Neither cell is determined
    // (two unknowns left for I1), so only the count-by-count contributor check (on by default) sees it.
    const cb = smallCodebook(
      ['90001', '90002', '90003', '90004', '90005', '90006'].map((crebo) => ({ crebo, niveau: 2, sectorkamer: 'AAA' })),
    );
    const row = (a: number, signal: number) => ({ a_enrolments: a, a_rated: a, a_signal16: signal });
    const published = { '90001|2|BOL': row(30, 3), '90005|2|BOL': row(30, 3), '90006|2|BOL': row(30, 3) };
    const insts: InstitutionCells = {
      I1: { '90002|2|BOL': row(6, 2) },
      I2: { '90003|2|BOL': row(5, 0) },
      I3: { '90003|2|BOL': row(4, 0) },
      I4: { '90004|2|BOL': row(5, 0) },
      I5: { '90004|2|BOL': row(6, 0) },
      I6: { ...published },
      I7: { ...published },
      I8: { ...published },
    };
    const ctx = disclosureContext({ codebook: cb, sector: slotSector(cb, insts), thresholds: th, contributions: 8 });
    const rows = renderReleaseRows(ctx, runDisclosure(ctx, [primaryPass]).decisions);
    t.same(
      ['90002|2|BOL', '90003|2|BOL', '90004|2|BOL'].map((k) => rows.cells[k]?.slots.a_signal16),
      [null, null, null],
      'the three cells are suppressed (min_institutions)',
    );
    t.equal(pairTotal(rows, 'a_signal16'), null, 'published cells do not give the three a fixed pair');
    const report = await audit(cb, ctx, rows);
    t.same(
      report.findings.filter((f) => f.kind === 'determined' || f.kind === 'contributor_determined'),
      [],
      'nothing is determined, not even for a contributor',
    );
    const pinnedFor = (entry: string) =>
      report.findings.find((f) => f.kind === 'pinned' && f.block === 'A' && f.entry === entry)?.counts ?? [];
    t.ok(pinnedFor('cell:90003|2|BOL').includes('a_signal16'), '90003: a_signal16 pinned to 0 for the contributor I1');
    t.ok(pinnedFor('cell:90004|2|BOL').includes('a_signal16'), '90004: the same');
    t.notOk(pinnedFor('cell:90002|2|BOL').includes('a_signal16'), '90002 (I1 itself) is not: it holds the 2 signals');
    const measured = await auditRelease({
      codebook: cb,
      thresholds: th,
      ...rows,
      trueRow: (_b, kind, key) => [...ctx.cells, ...ctx.rollups].find((r) => r.kind === kind && r.key === key)!.values,
      protection: DEFAULT_PROTECTION,
      contributor: 'measure',
    });
    t.notOk(
      measured.findings.some((f) => f.kind === 'pinned' && f.entry === 'cell:90003|2|BOL'),
      "with contributor: 'measure' the same release is not refused for it",
    );
    t.ok(measured.pinning.contributorUnproven >= 2, 'but the pairs are counted as not proven against the contributor');

    const released = await discloseAndAudit(ctx, { passes: DEFAULT_PASSES });
    t.same(released.audit.findings, [], 'the release passes the audit');
    t.equal(released.audit.pinning.contributorUnproven, 0, 'every pair is proven against the contributor');
    const hiddenHolders = ['90001|2|BOL', '90005|2|BOL', '90006|2|BOL'].filter(
      (k) => released.cells[k]?.slots.a_signal16 === null,
    );
    t.ok(
      hiddenHolders.length >= 1,
      `a cell of three institutions that holds signals is withheld with them (${hiddenHolders.join(', ')})`,
    );
  },
);
