/**
 * Issue 12 "the same holds across versions": the audit's entry point that takes earlier
 * versions' published figures as known facts (`earlierAsFacts`). Version 1 publishes a cell that
 * version 2 suppresses as the partner of a cell failing a primary rule; whoever kept version 1
 * knows the partner, and with it derives the protected cell exactly.
 */
import t from 'tap';
import {
  auditRelease,
  DEFAULT_PROTECTION,
  disclosureContext,
  primaryPass,
  renderReleaseRows,
  runDisclosure,
} from '../../keyholder/disclosure/index.js';
import type { DisclosureDecisions, RowDecision } from '../../keyholder/disclosure/types.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import type { Release } from '../../schemas/release.js';
import { type InstitutionCells, slotSector, smallCodebook } from './slot-sector.js';

const th = ThresholdsSchema.parse({});
const cb = smallCodebook(
  ['90001', '90002', '90003', '90004', '90005'].map((crebo) => ({ crebo, niveau: 2, sectorkamer: 'AAA' })),
);
const row = (a: number, b: number) => ({ a_enrolments: a, a_rated: a, b_starters: b, b_retained: b - 1 });
const insts: InstitutionCells = {
  I1: { '90002|2|BOL': row(6, 4) },
  I2: { '90002|2|BOL': row(7, 5) },
};
for (const name of ['I3', 'I4', 'I5'])
  insts[name] = Object.fromEntries(
    ['90001|2|BOL', '90003|2|BOL', '90004|2|BOL', '90005|2|BOL'].map((k, i) => [k, row(20 + i, 10 + i)]),
  );
const ctx = disclosureContext({ codebook: cb, sector: slotSector(cb, insts), thresholds: th, contributions: 5 });
const byKey = new Map([...ctx.cells, ...ctx.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));

/** Primary suppression (90002, two institutions) plus `partner` withheld as its secondary partner. */
function withPartner(partner: string): DisclosureDecisions {
  const d = runDisclosure(ctx, [primaryPass]).decisions;
  const cells = new Map(d.cells);
  const secondary = { status: 'suppressed', rule: 'secondary', pass: 'secondary', note: 'partner' } as const;
  cells.set(partner, { A: secondary, B: secondary } as RowDecision);
  return { cells, rollups: d.rollups };
}

const audit = (decisions: DisclosureDecisions, earlier: Release[], earlierAsFacts: boolean) =>
  auditRelease({
    codebook: cb,
    thresholds: th,
    ...renderReleaseRows(ctx, decisions),
    trueRow: (_b, kind, key) => byKey.get(`${kind}:${key}`)!,
    protection: DEFAULT_PROTECTION,
    earlier,
    earlierAsFacts,
  });

t.test('a partner published in an earlier version protects nothing once that version is a known fact', async (t) => {
  const v1 = renderReleaseRows(ctx, withPartner('90001|2|BOL'));
  t.equal(v1.cells['90002|2|BOL']?.slots.a_enrolments, null, 'version 1 suppresses 90002');
  t.equal(v1.cells['90003|2|BOL']?.slots.a_enrolments, 60 + 3, 'and publishes 90003 (3 institutions x 21)');
  const release1 = { release_version: 1, cells: v1.cells, rollups: v1.rollups } as unknown as Release;
  const v2 = withPartner('90003|2|BOL');
  const alone = await audit(v2, [], false);
  t.same(alone.findings, [], 'version 2 on its own passes the audit (90002 and 90003 hide each other)');
  const compared = await audit(v2, [release1], false);
  t.same(compared.findings, [], 'comparing published figures only: nothing published in both differs');
  const facts = await audit(v2, [release1], true);
  const determined = facts.findings.filter((f) => f.kind === 'determined').map((f) => `${f.block} ${f.entry}`);
  t.same(
    determined.sort(),
    ['A cell:90002|2|BOL', 'B cell:90002|2|BOL'],
    'with version 1 as known facts, 90003 is known and 90002 = group − published cells − 90003',
  );
});

t.test('the same partner in both versions stays a partner', async (t) => {
  const v1 = renderReleaseRows(ctx, withPartner('90001|2|BOL'));
  const release1 = { release_version: 1, cells: v1.cells, rollups: v1.rollups } as unknown as Release;
  const facts = await audit(withPartner('90001|2|BOL'), [release1], true);
  t.same(facts.findings, [], 'nothing suppressed now was published before: the audit passes');
});

t.test('a published row that withholds single slots still gives its difference with an earlier version', async (t) => {
  // Version 1: the five institutions; its total row withholds a_rated (zero rule total_row,
  // DECISIONS 98), and version 2 withholds it again. Version 2: a sixth, late institution in
  // 90003 alone (by hand: the total's a_enrolments rises by 30, one institution more). The
  // population is published in both, so the difference is one institution's contribution and
  // the version rule refuses it (before, a version with any null slot was skipped).
  const withheld = new Map([['total', new Map([['a_rated', 'withheld so that a test row cannot be narrowed']])]]);
  const v1 = renderReleaseRows(ctx, { ...runDisclosure(ctx, [primaryPass]).decisions, withheld });
  t.equal(v1.rollups.total?.slots.a_rated, null, 'version 1 withholds the total row’s a_rated');
  const release1 = { release_version: 1, cells: v1.cells, rollups: v1.rollups } as unknown as Release;
  const late = { ...insts, I6: { '90003|2|BOL': row(30, 12) } };
  const ctx2 = disclosureContext({ codebook: cb, sector: slotSector(cb, late), thresholds: th, contributions: 6 });
  const truth2 = new Map([...ctx2.cells, ...ctx2.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));
  const rows2 = renderReleaseRows(ctx2, { ...runDisclosure(ctx2, [primaryPass]).decisions, withheld });
  t.equal(rows2.rollups.total?.slots.a_enrolments, (v1.rollups.total?.slots.a_enrolments as number) + 30);
  const report = await auditRelease({
    codebook: cb,
    thresholds: th,
    ...rows2,
    trueRow: (_b, kind, key) => truth2.get(`${kind}:${key}`)!,
    protection: DEFAULT_PROTECTION,
    earlier: [release1],
  });
  t.ok(
    report.findings.some((f) => f.kind === 'version_difference' && f.entry === 'rollup:total' && f.block === 'A'),
    'block A of the total row: a version difference of one institution, refused',
  );
});
