/**
 * Issue 16 item 2 / issue 12 "the same holds across versions": the difference of two versions
 * as a table of its own (keyholder/disclosure/version-table.ts). One sectorkamer, one niveau,
 * one leerweg: every rollup is the sum of the same five cells, R = 90001 + … + 90005.
 *
 * Version 1: 90002 has two institutions (I1, I2: primary `min_institutions`), 90001 is its
 * secondary partner; I3, I4, I5 sit in 90001, 90003, 90004 and 90005. Version 2 adds late
 * institutions. Without corrections, a row whose institution count did not change got no late
 * institution and is the same in both versions: that, with the rows published in both, is what
 * makes a difference derivable. Expected values by hand in each test.
 */
import t from 'tap';
import {
  auditRelease,
  DEFAULT_PROTECTION,
  discloseAndAudit,
  disclosureContext,
  primaryPass,
  renderReleaseRows,
  runDisclosure,
} from '../../keyholder/disclosure/index.js';
import type {
  DisclosureContext,
  DisclosureDecisions,
  DisclosurePass,
  RowDecision,
} from '../../keyholder/disclosure/types.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import type { Release } from '../../schemas/release.js';
import { correctorsPerVersion } from '../../keyholder/release.js';
import { type InstitutionCells, slotSector, smallCodebook } from './slot-sector.js';

const th = ThresholdsSchema.parse({}); // 3 institutions, 10 students
const cb = smallCodebook(
  ['90001', '90002', '90003', '90004', '90005'].map((crebo) => ({ crebo, niveau: 2, sectorkamer: 'AAA' })),
);
const row = (a: number, b: number) => ({ a_enrolments: a, a_rated: a, b_starters: b, b_retained: b - 1 });
const cell = (crebo: string) => `${crebo}|2|BOL`;

function base(): InstitutionCells {
  const insts: InstitutionCells = { I1: { [cell('90002')]: row(3, 2) }, I2: { [cell('90002')]: row(3, 2) } };
  for (const name of ['I3', 'I4', 'I5'])
    insts[name] = Object.fromEntries(
      ['90001', '90003', '90004', '90005'].map((c, i) => [cell(c), row(20 + i, 10 + i)]),
    );
  return insts;
}

function contextOf(insts: InstitutionCells): DisclosureContext {
  return disclosureContext({
    codebook: cb,
    sector: slotSector(cb, insts),
    thresholds: th,
    contributions: Object.keys(insts).length,
  });
}

const secondary = { status: 'suppressed', rule: 'secondary', pass: 'secondary', note: 'partner' } as const;

/** A pass suppressing the given cells (blocks A and B) as secondary partners. */
function partners(crebos: readonly string[]): DisclosurePass {
  return {
    name: 'partners',
    apply: (_ctx, d) => {
      const cells = new Map(d.cells);
      for (const c of crebos) cells.set(cell(c), { A: secondary, B: secondary } as RowDecision);
      return { cells, rollups: d.rollups };
    },
  };
}

function decide(ctx: DisclosureContext, crebos: readonly string[]): DisclosureDecisions {
  return runDisclosure(ctx, [primaryPass, partners(crebos)]).decisions;
}

function release1(): Release {
  const v1 = renderReleaseRows(contextOf(base()), decide(contextOf(base()), ['90001']));
  return { release_version: 1, cells: v1.cells, rollups: v1.rollups } as unknown as Release;
}

function audit(ctx: DisclosureContext, d: DisclosureDecisions, earlier: Release[]) {
  const byKey = new Map([...ctx.cells, ...ctx.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));
  return auditRelease({
    codebook: cb,
    thresholds: th,
    ...renderReleaseRows(ctx, d),
    trueRow: (_b, kind, key) => byKey.get(`${kind}:${key}`) as Readonly<Record<string, number>>,
    protection: DEFAULT_PROTECTION,
    earlier,
    earlierAsFacts: true,
  });
}

const found = (r: Awaited<ReturnType<typeof audit>>) => r.findings.map((f) => `${f.kind} ${f.block} ${f.entry}`).sort();

t.test('version 1 on its own passes the audit', async (t) => {
  const ctx = contextOf(base());
  t.same(found(await audit(ctx, decide(ctx, ['90001']), [])), [], '90002 and its partner 90001 hide each other');
});

t.test('(1) a cell whose change is one institution is refused, though every published difference passes', async (t) => {
  // L1, L2, L3 join 90003 (3 → 6 institutions); L1 also joins 90001 (3 → 4), still the partner.
  // Published in both: R (5 → 8 institutions, +65 enrolments), 90003 (+3, +60), 90004 and 90005
  // (unchanged). 90002 keeps 2 institutions, so it is unchanged: D(90002) = 0. Hence
  // D(90001) = D(R) − D(90003) − D(90004) − D(90005) − D(90002) = 65 − 60 − 0 − 0 − 0 = 5
  // enrolments (3 starters): L1's own figures in 90001, one institution.
  const insts = base();
  insts.L1 = { [cell('90003')]: row(20, 10), [cell('90001')]: row(5, 3) };
  insts.L2 = { [cell('90003')]: row(20, 10) };
  insts.L3 = { [cell('90003')]: row(20, 10) };
  const ctx = contextOf(insts);
  const d = decide(ctx, ['90001']);
  t.same(found(await audit(ctx, d, [])), [], 'version 2 on its own passes');
  const r = await audit(ctx, d, [release1()]);
  t.same(
    found(r),
    ['version_difference A cell:90001|2|BOL', 'version_difference B cell:90001|2|BOL'],
    'refused, naming 90001 in blocks A and B; no row published in both is named (each passes the rule on its own)',
  );
  t.match(r.findings[0]?.message, /difference with version 1 is derivable.*1 institution\(s\)/, 'the message says why');
  t.equal(r.differencesDerived, 2, 'one derived row difference per block (90001), besides the unchanged rows');
  await t.rejects(
    discloseAndAudit(ctx, { passes: [primaryPass, partners(['90001'])], earlier: [release1()], earlierAsFacts: true }),
    { code: 'SB_ERR_DISCLOSURE_AUDIT', message: /A re-release may only add or change contributions/ },
    'the release path refuses it (a version difference is never protected by suppression)',
  );
});

t.test('(3) the same late institutions, nothing derivable: passes', async (t) => {
  // L2 now also joins 90002 (2 → 3 institutions, 8 enrolments: still below min_population).
  // Then 90001 and 90002 both changed: only D(90001) + D(90002) = 7 is derivable, not either.
  const insts = base();
  insts.L1 = { [cell('90003')]: row(20, 10), [cell('90001')]: row(5, 3) };
  insts.L2 = { [cell('90003')]: row(20, 10), [cell('90002')]: row(2, 2) };
  insts.L3 = { [cell('90003')]: row(20, 10) };
  const ctx = contextOf(insts);
  const d = decide(ctx, ['90001']);
  t.equal(renderReleaseRows(ctx, d).cells[cell('90002')]?.suppressed.a_enrolments?.rule, 'min_population');
  const r = await audit(ctx, d, [release1()]);
  t.same(found(r), [], 'no finding');
  t.equal(r.differencesDerived, 0, 'no row difference is derivable beyond the rows published in both');
});

t.test('(2) a cell published in version 1, suppressed now, whose change is derivable', async (t) => {
  // L1, L2, L3 join 90003 (5 enrolments, 4 starters each) and 90004 (20, 10 each). Version 2
  // suppresses 90003 as a second partner. 90001 and 90002 kept their institutions: unchanged. So
  // D(90003) = D(R) − D(90004) − D(90005) = 75 − 60 − 0 = 15 enrolments, 12 starters (three
  // institutions: the version rule passes), and 90003 in version 2 = 63 + 15 = 78: derivable.
  const insts = base();
  for (const l of ['L1', 'L2', 'L3']) insts[l] = { [cell('90003')]: row(5, 4), [cell('90004')]: row(20, 10) };
  const ctx = contextOf(insts);
  const d = decide(ctx, ['90001', '90003']);
  t.same(found(await audit(ctx, d, [])), [], 'version 2 on its own passes');
  const v1 = release1();
  t.equal(v1.cells[cell('90003')]?.slots.a_enrolments, 63, 'version 1 published 90003 (21 × 3)');
  const r = await audit(ctx, d, [v1]);
  t.same(
    found(r),
    ['determined A cell:90003|2|BOL', 'determined B cell:90003|2|BOL'],
    '90003 is derivable in version 2 from version 1 and the derivable change',
  );
  t.match(r.findings[0]?.message, /derivable from this release together with version 1/);
  // The release path protects it with more suppression; what it signs passes the audit.
  const out = await discloseAndAudit(ctx, {
    passes: [primaryPass, partners(['90001', '90003'])],
    earlier: [v1],
    earlierAsFacts: true,
  });
  t.same(found(await audit(ctx, out.decisions, [v1])), [], 'protected: the signed version passes the audit');
  t.equal(out.cells[cell('90003')]?.slots.a_enrolments, null, '90003 stays suppressed');
  const hidden = Object.entries(out.cells)
    .filter(([, r]) => r.institutions.a > 0 && r.slots.a_enrolments === null)
    .map(([k]) => k)
    .sort();
  t.same(
    hidden,
    ['90001', '90002', '90003', '90004'].map(cell),
    '90004 (changed too) is withheld: only D(90003) + D(90004) is derivable then',
  );
});

t.test('the symmetric case: a cell suppressed in version 1 becomes derivable through version 2', async (t) => {
  // No late institution in 90001 or 90002: version 2 publishes 90001 (unchanged, 3 institutions)
  // and suppresses 90003 as the partner of 90002 instead. Whoever kept version 1 reads 90001's
  // value in version 2 and derives version 1's 90002 = R − 90001 − 90003 − 90004 − 90005, which
  // is also version 2's (unchanged); then version 2's 90003 = R − the rest as well.
  const insts = base();
  for (const l of ['L1', 'L2', 'L3']) insts[l] = { [cell('90003')]: row(5, 4), [cell('90004')]: row(20, 10) };
  const ctx = contextOf(insts);
  const d = decide(ctx, ['90003']);
  t.same(found(await audit(ctx, d, [])), [], 'version 2 on its own passes');
  const r = await audit(ctx, d, [release1()]);
  t.same(
    found(r),
    [
      'determined A cell:90002|2|BOL',
      'determined A cell:90003|2|BOL',
      'determined B cell:90002|2|BOL',
      'determined B cell:90003|2|BOL',
    ],
    "version 1's 90002 (and so version 2's, and with it 90003) is derivable",
  );
});

t.test('with corrections since version 1 no row is taken as unchanged', async (t) => {
  // Test (1)'s data, but three institutions sent corrections since version 1: then a row whose
  // count did not change may still have changed, and D(90001) is not derivable.
  const insts = base();
  insts.L1 = { [cell('90003')]: row(20, 10), [cell('90001')]: row(5, 3) };
  insts.L2 = { [cell('90003')]: row(20, 10) };
  insts.L3 = { [cell('90003')]: row(20, 10) };
  const ctx = contextOf(insts);
  const byKey = new Map([...ctx.cells, ...ctx.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));
  const r = await auditRelease({
    codebook: cb,
    thresholds: th,
    ...renderReleaseRows(ctx, decide(ctx, ['90001'])),
    trueRow: (_b, kind, key) => byKey.get(`${kind}:${key}`) as Readonly<Record<string, number>>,
    protection: DEFAULT_PROTECTION,
    earlier: [release1()],
    earlierAsFacts: true,
    correctorsSince: { 1: 3 },
  });
  t.same(
    r.findings.filter((f) => f.entry === `cell:${cell('90001')}`),
    [],
    'no finding on 90001',
  );
  t.equal(r.differencesDerived, 0);
});

t.test('correctors per version: masked corrections and replaced envelopes of an unmasked round', async (t) => {
  const at = (s: string) => ({ envelope: { created_at: s } });
  const v1 = { release_version: 1, published_at: '2026-01-10T00:00:00Z', institutions: 3 };
  const v2 = { release_version: 2, published_at: '2026-02-10T00:00:00Z', institutions: 5 };
  const before = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'].map(at);
  // Two late institutions after version 1: no replacement.
  const late = [...before, at('2026-01-20T00:00:00Z'), at('2026-01-21T00:00:00Z')];
  t.same(correctorsPerVersion({ corrections: [], contributions: late, n: 5 }, [v1]), { 1: 0 }, 'additions only');
  // One of the three replaced its envelope after version 1 (unmasked round) and one is late.
  const replaced = [before[0], before[1], at('2026-01-25T00:00:00Z'), at('2026-01-20T00:00:00Z')].filter(
    (x) => x !== undefined,
  );
  t.same(
    correctorsPerVersion({ corrections: [], contributions: replaced, n: 4 }, [v1]),
    { 1: 1 },
    '2 envelopes signed after version 1, the count rose by 1: one replacement',
  );
  // A masked round: a correction after version 1 and one after version 2, same institution.
  const corrections = [
    { institutionId: 'inst-1', afterVersion: 1 },
    { institutionId: 'inst-1', afterVersion: 2 },
    { institutionId: 'inst-2', afterVersion: 2 },
  ];
  t.same(
    correctorsPerVersion({ corrections, contributions: late, n: 5 }, [v1, v2]),
    { 1: 2, 2: 2 },
    'institutions that sent a correction since each version, counted once',
  );
});
