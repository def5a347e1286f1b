/**
 * Issue 12, the one exception: only a count the published **total row** shows as 0 is the
 * sector's own fact — the zero rule `total_row`, the key holder's default (docs/DECISIONS.md 97,
 * 98). A zero that another published row shows would pin
 * every row inside it, so the release withholds single slots of published rollups (or more)
 * instead. Checked on the conformance sample's sector sum, independently of the audit: no
 * published non-total row shows a slot as 0 that the sector holds (> 0) while a block suppressed
 * by a primary rule lies inside it.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  auditRelease,
  DEFAULT_PASSES,
  DEFAULT_PROTECTION,
  discloseAndAudit,
  disclosureContext,
  renderReleaseRows,
} from '../../keyholder/disclosure/index.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { type ReleaseRow, ReleaseRowSchema } from '../../schemas/release.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import type { Codebook } from '../../shared/metrics/codebook.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { FIGURE_INPUTS } from '../../shared/metrics/withheld.js';
import { type VectorJson, vectorFromJson } from '../../shared/metrics/vector.js';
import { sectorOf, syntheticCodebook, syntheticInstitutions } from '../../bench/keyholder/synthetic-sector.js';

const sampleDir = new URL('../../../shared/sample/', import.meta.url);
const th = ThresholdsSchema.parse({});
const cb = await readCodebookFile(new URL('codebook.csv', sampleDir).pathname);
const sector = vectorFromJson(
  cb,
  JSON.parse(readFileSync(new URL('expected/sector.json', sampleDir), 'utf8')) as VectorJson,
);
const ctx = () => disclosureContext({ codebook: cb, sector, thresholds: th, contributions: 3 });
// A generated sector of 8 institutions over 400 crebos, every slot filled (bench/keyholder,
// "synthetic 2" of docs/DISCLOSURE.md): large enough to publish rollups above suppressed cells.
const gcb = syntheticCodebook(400, 101);
const gsector = sectorOf(gcb, syntheticInstitutions(gcb, 8, 201), '2024-2025', { fullSlots: true });
const gctx = () => disclosureContext({ codebook: gcb, sector: gsector, thresholds: th, contributions: 8 });
const PRIMARY = ['min_institutions', 'min_population', 'dominance'];
const BLOCKS = [
  { slots: BLOCK_A_SLOTS, population: 'a_enrolments', inst: 'a' as const },
  { slots: BLOCK_B_SLOTS, population: 'b_starters', inst: 'b' as const },
];

interface Rows {
  cells: Record<string, ReleaseRow>;
  rollups: Record<string, ReleaseRow>;
}

/** The cells of each rollup, and the rollups made of its cells alone (the rows inside it). */
function inside(codebook: Codebook, group: string): string[] {
  // (rows inside a rollup: its cells and every rollup of its cells alone)
  const mine = new Set(codebook.groupCells.get(group) ?? []);
  const cells = [...mine].map((i) => `cell:${codebook.cellKeys[i]}`);
  const rollups = codebook.groupKeys
    .filter((g) => g !== group && (codebook.groupCells.get(g) ?? []).every((i) => mine.has(i)))
    .map((g) => `rollup:${g}`);
  return [...cells, ...rollups];
}

/**
 * Every (rollup, slot) where a published non-total row shows 0 for a slot the whole sector holds,
 * above a block suppressed by a primary rule: the zero pins that block's slot to 0.
 */
function zeroPins(codebook: Codebook, rows: Rows, trueTotal: Readonly<Record<string, number>>): string[] {
  const pins: string[] = [];
  const row = (id: string) => (id.startsWith('cell:') ? rows.cells[id.slice(5)] : rows.rollups[id.slice(7)]);
  for (const [group, r] of Object.entries(rows.rollups)) {
    if (group === 'total') continue;
    for (const b of BLOCKS) {
      if (r.slots[b.population] === null || r.institutions[b.inst] === 0) continue;
      const targets = inside(codebook, group).filter((id) => {
        const x = row(id) as ReleaseRow;
        return x.institutions[b.inst] > 0 && PRIMARY.includes(x.suppressed[b.population]?.rule ?? '');
      });
      if (targets.length === 0) continue;
      for (const s of b.slots)
        if (s !== b.population && r.slots[s] === 0 && (trueTotal[s] ?? 0) > 0) pins.push(`${group}.${s}`);
    }
  }
  return pins;
}

const trueTotal = (c: ReturnType<typeof ctx>) => c.rollups.find((r) => r.key === 'total')?.values ?? {};

t.test('the zero rule total_row: no published zero of a rollup pins a primary-failing block', async (t) => {
  const c = gctx();
  // The key holder's default options: the zero rule total_row (docs/DECISIONS.md 98).
  const released = await discloseAndAudit(c, { passes: DEFAULT_PASSES });
  const rows = { cells: released.cells, rollups: released.rollups };
  t.same(released.audit.findings, [], 'the audit passes the release');
  t.same(zeroPins(gcb, rows, trueTotal(c)), [], 'no published zero of a non-total rollup above a suppressed block');
  // Withheld single slots: only in published rollup blocks, rule secondary, never the population.
  let withheld = 0;
  for (const [kind, all] of [
    ['cells', rows.cells],
    ['rollups', rows.rollups],
  ] as const)
    for (const [key, r] of Object.entries(all)) {
      t.doesNotThrow(() => ReleaseRowSchema.parse(r), `${kind} ${key} is a valid release row`);
      for (const b of BLOCKS) {
        if (r.slots[b.population] === null) continue;
        for (const s of b.slots) {
          if (r.slots[s] !== null) continue;
          withheld++;
          t.equal(kind, 'rollups', `${key}.${s}: single slots are withheld in rollups only`);
          t.equal(r.suppressed[s]?.rule, 'secondary', `${key}.${s}: rule secondary`);
          t.match(r.suppressed[s]?.note, /cannot be narrowed to one value/, `${key}.${s}: the note says why`);
          t.notMatch(r.suppressed[s]?.note, /\b[ab]_[a-z]|slack of/, `${key}.${s}: the note names no count at risk`);
        }
      }
    }
  t.ok(withheld > 0, `${withheld} single slots withheld`);
  t.equal(released.audit.pinning.withheldSlots, withheld, 'the audit counts them');
  t.equal(released.audit.pinning.exemptZero > 0, true, 'zeros of the total row are still exempt');
});

t.test('the sample: the one early dropout in band 1 sits in a single-institution block', async (t) => {
  // From sector.json by hand: the sector's b_early_dropout_1 is 1, and it lies in
  // sectorkamer_niveau|VGG|2, a block of one institution (suppressed by min_institutions). Its
  // institution, subtracting its own 1 from the total row's 1, learns that the rest of the sector
  // holds 0: the total row's own fact for the contributor (DECISIONS 97), counted.
  const c = ctx();
  t.equal(trueTotal(c).b_early_dropout_1, 1);
  const released = await discloseAndAudit(c, { passes: DEFAULT_PASSES, zeroRule: 'total_row' });
  const total = released.rollups.total as ReleaseRow;
  t.equal(total.slots.b_starters, 218, 'the total row is published');
  // A solo move may withhold it (it feeds no headline figure), never a slot a headline figure needs.
  const dropout1 = total.slots.b_early_dropout_1;
  t.ok(
    dropout1 === 1 || (dropout1 === null && total.suppressed.b_early_dropout_1?.rule === 'secondary'),
    `its b_early_dropout_1 is published as 1 or withheld (${dropout1})`,
  );
  for (const slot of new Set(Object.values(FIGURE_INPUTS).flat()))
    t.not(total.slots[slot], null, `the total row publishes ${slot} (a headline figure needs it)`);
  t.equal(released.rollups['sectorkamer_niveau|VGG|2']?.slots.b_starters, null, 'VGG|2 block B suppressed');
  t.ok(released.audit.pinning.contributorExempt > 0, "counted as the total row's fact for the contributor");
  for (const [key, r] of Object.entries(released.rollups))
    if (key !== 'total' && r.slots.b_starters !== null && r.institutions.b > 0)
      t.not(r.slots.b_early_dropout_1, 0, `${key}: no published 0 of b_early_dropout_1 above the dropout's block`);
});

t.test('the wider rule of DECISIONS 42 / 87 lets published zeros pin; the total_row audit refuses it', async (t) => {
  const c = gctx();
  const wide = await discloseAndAudit(c, { passes: DEFAULT_PASSES, zeroRule: 'published_rows' });
  const rows = { cells: wide.cells, rollups: wide.rollups };
  const pins = zeroPins(gcb, rows, trueTotal(c));
  t.ok(pins.length > 0, `published_rows publishes zeros above suppressed blocks (${pins.slice(0, 3).join(', ')}, …)`);
  const byKey = new Map([...c.cells, ...c.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));
  const report = await auditRelease({
    zeroRule: 'total_row',
    codebook: gcb,
    thresholds: th,
    ...rows,
    trueRow: (_b, kind, key) => byKey.get(`${kind}:${key}`) ?? {},
    protection: DEFAULT_PROTECTION,
  });
  const pinned = report.findings.filter((f) => f.kind === 'pinned');
  t.ok(pinned.length > 0, `the total_row audit refuses that release (${pinned.length} pinned findings)`);
  t.ok(
    pinned.some((f) => (f.withhold ?? []).length > 0),
    'and suggests slots to withhold that a slot move shows would protect them',
  );
});

t.test('the audit reads a withheld slot as unknown only under total_row', async (t) => {
  const c = gctx();
  const released = await discloseAndAudit(c, { passes: DEFAULT_PASSES, zeroRule: 'total_row' });
  const rows = renderReleaseRows(c, released.decisions);
  const byKey = new Map([...c.cells, ...c.rollups].map((r) => [`${r.kind}:${r.key}`, r.values]));
  const input = {
    codebook: gcb,
    thresholds: th,
    ...rows,
    trueRow: (_b: 'A' | 'B', kind: 'cell' | 'rollup', key: string) => byKey.get(`${kind}:${key}`) ?? {},
    protection: DEFAULT_PROTECTION,
  };
  t.same((await auditRelease({ ...input, zeroRule: 'total_row' })).findings, [], 'total_row: passes');
  t.same((await auditRelease(input)).findings, [], 'the default is total_row (docs/DECISIONS.md 98)');
  const old = await auditRelease({ ...input, zeroRule: 'published_rows' });
  t.ok(
    old.findings.some((f) => f.kind === 'mixed_block'),
    'published_rows: a block with single slots withheld is a mixed block',
  );
});
