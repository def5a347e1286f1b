// A release row whose block is published with single slots withheld (secondary disclosure
// control on rollups): the block's other figures are shown with their values, exactly the
// figures needing a withheld slot are "niet gepubliceerd" (comparison, page, CSV, JSON), a row
// whose population slot is null is still withheld as a whole, and the release-difference count
// never counts a null slot as a changed value. Every expected value is computed by hand from the
// fixture below (own cell 98767|1|BOL of the sample codebook, the only cell with own data).
import { join } from 'node:path';
import t from 'tap';
import { buildComparison, type ComparisonRow, type FigureComparison } from '../../node/report/comparison.js';
import { comparisonCsv, comparisonJson } from '../../node/report/comparison-files.js';
import { comparisonHtml } from '../../node/report/comparison-html.js';
import { funnelLimits, funnelVerdict } from '../../node/report/funnel.js';
import { FIGURE_INPUTS, PEARSON_INPUTS, earlyBandInputs } from '../../node/report/withheld.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { type Release, ReleaseSchema } from '../../schemas/release.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { DERIVED, earlyBandDropout, pearsonEarly, type Sums } from '../../shared/metrics/derived.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS, CELL_SLOTS, GROUP_SLOTS } from '../../shared/metrics/slots.js';
import { vectorFromJson } from '../../shared/metrics/vector.js';
import { versionChanges, versionChangesHtml } from '../../shared/pages/version-changes.js';
import { sampleDir } from '../helpers/paths.js';
import { BLOCK_A_125, band, hist, type Slots } from '../helpers/slot-rows.js';

type Rule = 'min_institutions' | 'min_population' | 'secondary';

/** Own cell 98767|1|BOL: 25 enrolments, 20 starters (6 dropouts: 20 - 12 retained - 2 with diploma). */
const OWN: Record<string, number> = {
  a_enrolments: 25,
  a_rated: 24,
  a_min_planned: 100_000,
  a_min_registered: 90_000,
  a_min_present: 80_000,
  a_min_abs_auth: 6000,
  a_min_abs_unauth: 4000,
  a_obs_registered: 2000,
  a_late: 50,
  a_signal16: 2,
  a_age_known: 25,
  a_enrolments_u18: 10,
  a_signal16_u18: 1,
  ...hist([10, 5, 3, 2, 2, 1, 1, 0]),
  b_starters: 20,
  b_retained: 12,
  b_left_diploma: 2,
  b_switched: 1,
  b_progressed: 0,
  b_early_n: 20,
  ...band('total', [2, 3, 5, 6, 4]),
  ...band('dropout', [2, 2, 1, 1, 0]),
  b_sum_x: 17_000,
  b_sum_x2: 15_100_000,
  b_sum_xy: 3600,
};

/** Block A of the sector in TGO niveau 1 (and niveau 1, BOL, the cell): 4 institutions, us included. */
const A_SMALL: Slots = BLOCK_A_125;

/** Block B of TGO niveau 1: 100 starters; `b_early_dropout_1` and `b_sum_xy` are withheld. */
const B_PARTIAL: Slots = {
  b_starters: 100,
  b_retained: 70,
  b_left_diploma: 10,
  b_switched: 5,
  b_progressed: 2,
  b_early_n: 100,
  ...band('total', [10, 15, 25, 30, 20]),
  ...band('dropout', [5, null, 5, 3, 1]),
  b_sum_x: 85_000,
  b_sum_x2: 74_000_000,
  b_sum_xy: null,
};

/** Sectorkamer TGO (6 institutions): `a_min_abs_unauth` and `b_switched` withheld singly. */
const TGO: Slots = {
  a_enrolments: 250,
  a_rated: 240,
  a_min_planned: 1_000_000,
  a_min_registered: 900_000,
  a_min_present: 800_000,
  a_min_abs_auth: 60_000,
  a_min_abs_unauth: null,
  a_obs_registered: 20_000,
  a_late: 600,
  a_signal16: 20,
  a_age_known: 250,
  a_enrolments_u18: 100,
  a_signal16_u18: 10,
  ...hist([100, 50, 30, 20, 20, 10, 10, 0]),
  b_starters: 200,
  b_retained: 140,
  b_left_diploma: 20,
  b_switched: null,
  b_progressed: 4,
  b_early_n: 200,
  ...band('total', [20, 30, 50, 60, 40]),
  ...band('dropout', [10, 6, 10, 6, 2]),
  b_sum_x: 170_000,
  b_sum_x2: 148_000_000,
  b_sum_xy: 20_000,
};

/** A release row: every null slot gets `rules[slot]` (or `fallback`) as its suppression rule. */
function releaseRow(slots: Slots, inst: number, fallback: Rule, rules: Record<string, Rule> = {}) {
  const suppressed: Record<string, { rule: Rule; note?: string }> = {};
  for (const [k, v] of Object.entries(slots)) {
    if (v !== null) continue;
    const rule = rules[k] ?? fallback;
    suppressed[k] = rule === 'secondary' ? { rule, note: 'een gepubliceerde 0 zou een cel vastpinnen' } : { rule };
  }
  return { institutions: { a: inst, b: inst }, slots, suppressed };
}

const nullBlock = (slots: readonly string[]): Slots => Object.fromEntries(slots.map((s) => [s, null]));
const CELL = '98767|1|BOL';
const TGO1 = 'sectorkamer_niveau|TGO|1';

/** Version 1 of the fixture release, checked by the release schema (null slots have an entry). */
function releaseV1(): Release {
  return ReleaseSchema.parse({
    type: 'sectorbench.release',
    version: 1,
    round_id: '2024-2025-r1',
    release_version: 1,
    previous_release_digest: null,
    studiejaar: '2024-2025',
    metric_spec: 'v1',
    codebook_digest: '0'.repeat(64),
    institutions: 6,
    thresholds: ThresholdsSchema.parse({}),
    published_at: '2025-10-01T10:00:00Z',
    cells: {
      // Block B withheld as a whole (the existing behaviour): every B slot null.
      [CELL]: releaseRow({ ...A_SMALL, ...nullBlock(BLOCK_B_SLOTS) }, 4, 'min_institutions'),
    },
    rollups: {
      [TGO1]: releaseRow({ ...A_SMALL, ...B_PARTIAL }, 4, 'secondary'),
      'niveau|1': releaseRow({ ...A_SMALL, ...B_PARTIAL }, 4, 'secondary'),
      'sectorkamer|TGO': releaseRow(TGO, 6, 'secondary'),
      // The population slot null, the rest of block B published: still withheld as a whole.
      'leerweg|BOL': releaseRow(
        { ...A_SMALL, ...B_PARTIAL, b_early_dropout_1: 4, b_sum_xy: 3000, b_starters: null },
        4,
        'min_population',
      ),
    },
    key_holder_signature: Buffer.alloc(64).toString('base64'),
  });
}

async function fixture() {
  const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));
  const own = vectorFromJson(codebook, {
    metric_spec: 'v1',
    studiejaar: '2024-2025',
    slots: [...CELL_SLOTS],
    group_slots: [...GROUP_SLOTS],
    cells: { [CELL]: OWN },
    groups: {},
  });
  const release = releaseV1();
  const c = buildComparison(codebook, own, release, {
    institutionId: 'inst-p',
    institutionName: 'ROC Deelcijfer',
    ownIncluded: true,
  });
  return { codebook, own, release, c };
}

function rowOf(rows: readonly ComparisonRow[], key: string): ComparisonRow {
  const r = rows.find((x) => x.key === key);
  if (!r) throw new Error(`no comparison row ${key}`);
  return r;
}

function figOf(r: ComparisonRow, id: string): FigureComparison {
  const f = r.figures.find((x) => x.id === id);
  if (!f) throw new Error(`no figure ${id} in ${r.key}`);
  return f;
}

const close = (a: number | null | undefined, b: number) => typeof a === 'number' && Math.abs(a - b) < 1e-12;

t.test('the slots each derived figure needs match the formulas of DERIVED and METRICS.md', async (t) => {
  // All slots 1 gives every figure a value (dropout share (1 - 1 - 1) / 1 = -1); nulling a slot
  // must make exactly the figures that list it null.
  const ones: Sums = Object.fromEntries([...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS].map((s) => [s, 1]));
  for (const d of DERIVED) {
    const inputs = FIGURE_INPUTS[d.id];
    t.ok(inputs, `${d.id}: its inputs are listed`);
    t.not(d.compute(ones), null, `${d.id}: a value with every slot published`);
    const needs = [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS].filter((s) => d.compute({ ...ones, [s]: null }) === null);
    t.same([...needs].sort(), [...(inputs ?? [])].sort(), `${d.id}: the slots whose null withholds it`);
  }
  // Pearson r: n = 10, Sx = 5, Sxx = 10, Sxy = 3, one dropout per band (Sy = 5) gives factors 75 and 25.
  const early: Sums = { b_early_n: 10, b_sum_x: 5, b_sum_x2: 10, b_sum_xy: 3, ...band('dropout', [1, 1, 1, 1, 1]) };
  t.not(pearsonEarly(early), null);
  const pearsonNeeds = Object.keys(early).filter((s) => pearsonEarly({ ...early, [s]: null }) === null);
  t.same(pearsonNeeds.sort(), [...PEARSON_INPUTS].sort(), 'Pearson r needs n, Sx, Sxx, Sxy and every band dropout');
  t.same([...earlyBandInputs(1)].sort(), ['b_early_dropout_1', 'b_early_total_1']);
});

t.test(
  'a published block with single slots withheld: its other figures shown, the dependent ones withheld',
  async (t) => {
    const { c } = await fixture();
    const r = rowOf(c.rows, TGO1);
    t.same(r.sector.suppressed, {}, 'neither block is withheld as a whole');
    t.same(r.sector.withheld, { early_dropout_1: 'secondary', pearson_r: 'secondary' }, 'exactly the band and r');

    // (a) Ordinary block-B figures. Without us: 80 starters, 58 retained, 8 with a diploma, 4 switched, 2 up.
    const drop = figOf(r, 'dropout_share');
    t.ok(close(drop.own, 6 / 20), 'own dropout 6 of 20 = 30%');
    t.ok(close(drop.withoutUs, 14 / 80), 'sector without us (80 - 58 - 8) / 80 = 17,5%');
    t.ok(close(drop.sector, 20 / 100), 'whole sector (100 - 70 - 10) / 100 = 20%');
    t.equal(drop.ownN, 20);
    t.equal(drop.sectorRule, null);
    const limits = funnelLimits(20, 14 / 80);
    t.same(drop.limits, limits, 'funnel limits at n = 20 around 17,5%');
    t.equal(drop.verdict, limits ? funnelVerdict(0.3, limits) : null, 'and a verdict');
    t.ok(close(figOf(r, 'startersresultaat').withoutUs, 66 / 80), 'startersresultaat (58 + 8) / 80');
    t.ok(close(figOf(r, 'switch_share').withoutUs, 4 / 80), 'switch 4 / 80');
    t.ok(close(figOf(r, 'progression_share').withoutUs, 2 / 80), 'progression 2 / 80');
    t.ok(close(figOf(r, 'absence_rate').withoutUs, 40_000 / 360_000), 'block A: absence (24.000 + 16.000) / 360.000');
    t.notOk(
      r.figures.some((f) => f.sectorRule !== null || f.withoutUs === null),
      'no derived figure needs b_early_dropout_1 or b_sum_xy',
    );
    t.same(r.withoutUs.sums.b_early_total_1, 12, 'the published band total without us (15 - 3) is kept');

    // (b) The band of 70% to 80% and Pearson r need a withheld slot: null, never 0 or NaN.
    t.same(r.early.withoutUs[0], { total: 8, dropouts: 3, rate: 3 / 8 }, 'band 0 without us: 3 of 8');
    t.same(r.early.sector[0], { total: 10, dropouts: 5, rate: 0.5 }, 'band 0 sector: 5 of 10');
    t.same(r.early.withoutUs[1], { total: 12, dropouts: null, rate: null }, 'band 1 without us: no rate');
    t.same(r.early.sector[1], { total: 15, dropouts: null, rate: null }, 'band 1 sector: no rate');
    t.same(r.early.withoutUs[2], { total: 20, dropouts: 4, rate: 0.2 }, 'band 2 without us: 4 of 20');
    t.same(r.early.withoutUs[4], { total: 16, dropouts: 1, rate: 1 / 16 }, 'band 4 without us: 1 of 16');
    t.equal(r.withoutUs.sums.b_early_dropout_1, null);
    t.equal(r.withoutUs.sums.b_sum_xy, null);
    t.equal(r.pearson.withoutUs, null, 'r without us not published');
    t.equal(r.pearson.sector, null, 'r of the sector not published');
    // Own r: n = 20, Sx = 17.000, Sxx = 15.100.000, Sxy = 3.600, Sy = 6:
    // (20 * 3600 - 17000 * 6) / sqrt((20 * 15.100.000 - 17000^2) * (20 * 6 - 36)) = -30.000 / sqrt(13e6 * 84).
    t.ok(close(r.pearson.own, -30_000 / Math.sqrt(13e6 * 84)), 'own r still shown');
    t.same(r.early.own, earlyBandDropout(OWN), 'own bands untouched');

    // Single slots of block A and B in sectorkamer TGO: exactly the figures that need them.
    const g = rowOf(c.rows, 'sectorkamer|TGO');
    t.same(g.sector.suppressed, {});
    t.same(g.sector.withheld, {
      absence_rate: 'secondary',
      absence_unauthorized_rate: 'secondary',
      switch_share: 'secondary',
    });
    for (const id of ['absence_rate', 'absence_unauthorized_rate', 'switch_share']) {
      const f = figOf(g, id);
      t.same([f.withoutUs, f.sector, f.limits, f.verdict, f.sectorRule], [null, null, null, null, 'secondary'], id);
      t.not(f.own, null, `${id}: own figure still shown`);
    }
    // Without us: 810.000 registered minutes, 54.000 authorised, 720.000 present; 180 starters.
    t.ok(close(figOf(g, 'absence_authorized_rate').withoutUs, 54_000 / 810_000), 'authorised absence 54.000 / 810.000');
    t.ok(close(figOf(g, 'attendance_rate').withoutUs, 720_000 / 810_000), 'attendance 720.000 / 810.000');
    t.ok(close(figOf(g, 'chronic_absence_share').withoutUs, 54 / 216), 'chronic (60 - 6) / (240 - 24)');
    t.ok(close(figOf(g, 'dropout_share').withoutUs, 34 / 180), 'dropout (180 - 128 - 18) / 180');
    t.ok(close(figOf(g, 'progression_share').withoutUs, 4 / 180), 'progression 4 / 180');
    // r without us: n = 180, Sx = 153.000, Sxx = 132.900.000, Sxy = 16.400, Sy = 34 - 6 = 28.
    const num = 180 * 16_400 - 153_000 * 28;
    const den = Math.sqrt((180 * 132_900_000 - 153_000 ** 2) * (180 * 28 - 28 ** 2));
    t.ok(close(g.pearson.withoutUs, num / den), `r without us ${num} / ${den.toFixed(0)} (published slots only)`);
  },
);

t.test('a null population slot still withholds its block as a whole', async (t) => {
  const { c } = await fixture();
  for (const [key, rule] of [
    [CELL, 'min_institutions'],
    ['leerweg|BOL', 'min_population'],
  ] as const) {
    const r = rowOf(c.rows, key);
    t.same(r.sector.suppressed, { B: rule }, `${key}: block B withheld (${rule}), block A published`);
    t.same(r.sector.withheld, {}, `${key}: nothing listed singly`);
    for (const f of r.figures.filter((x) => x.block === 'B'))
      t.same([f.withoutUs, f.sector, f.verdict, f.sectorRule], [null, null, null, rule], `${key} ${f.id}`);
    t.ok(close(figOf(r, 'absence_rate').withoutUs, 40_000 / 360_000), `${key}: block A shown`);
    t.equal(r.pearson.sector, null);
    t.ok(
      r.early.sector.every((b) => b.rate === null),
      `${key}: no band rate, though leerweg|BOL publishes its band counts`,
    );
  }
});

/** The `<section>` of one row on the page. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  if (start < 0) throw new Error(`no section ${id}`);
  return html.slice(start, html.indexOf('</section>', start));
}

/** The `<tr>` of a table in `html` whose row header is `th`. */
function tableRow(html: string, th: string): string {
  const m = html.match(new RegExp(`<tr><th scope="row">${th}</th>.*?</tr>`));
  if (!m) throw new Error(`no row ${th}`);
  return m[0];
}

const count = (s: string, re: RegExp) => s.match(new RegExp(re.source, 'g'))?.length ?? 0;

t.test('the page, the CSV and the JSON say withheld for exactly those figures', async (t) => {
  const { c } = await fixture();
  const html = await comparisonHtml(
    c,
    { keyHolderFingerprint: 'ab cd', generatedAt: 'nu' },
    { json: 'benchmark.json', csv: 'benchmark.csv', excel: 'benchmark-excel.csv' },
  );
  const secondary = 'weggelaten zodat een ander weggelaten cijfer niet uit totalen terug te rekenen is';

  // Niveau 1 shows the early bands and r: band 70% tot 80% and r are withheld, nothing else.
  const n1 = section(html, 'g-niveau-1');
  t.notMatch(n1, /Startercijfers van de sector|Verzuimcijfers van de sector/, 'no block withheld');
  t.match(
    n1,
    `Uitval bij aanwezigheid 70% tot 80% in de eerste zes lesweken van de sector: niet gepubliceerd, ${secondary}.`,
  );
  t.match(
    n1,
    `Samenhang tussen vroege aanwezigheid en uitval (Pearson r) van de sector: niet gepubliceerd, ${secondary}.`,
  );
  t.equal(count(n1, /<li>[^<]*niet gepubliceerd/), 2, 'two items: the band and r');
  t.notMatch(n1, /Kijk bij de sectorkamer/, 'no advice to look wider for a published block');
  const band1 = tableRow(n1, '70% tot 80%');
  t.equal(count(band1, /<td class="sup">niet gepubliceerd<\/td>/), 2, 'band 1: without us and sector withheld');
  t.match(band1, '<td class="num">66,7%</td>', 'band 1 own: 2 of 3');
  const band0 = tableRow(n1, 'onder 70%');
  t.match(band0, '<td class="num">37,5%</td><td class="num">50,0%</td>', 'band 0: 3 of 8 and 5 of 10');
  t.match(n1, `sector zonder ons en hele sector: niet gepubliceerd (${secondary})`, 'r in words');
  t.notMatch(n1, /r = —/, 'no dash for a withheld r');
  t.match(n1, /Voor 70% tot 80% is het sectorcijfer niet gepubliceerd; daar staat alleen ROC Deelcijfer\./);
  const dropRow = tableRow(n1, 'Uitval jaar 1');
  t.match(
    dropRow,
    '<td class="num">30,0%</td><td class="num">20</td><td class="num">17,5%</td><td class="num">20,0%</td>',
  );
  t.notMatch(n1.slice(n1.indexOf('<table'), n1.indexOf('</table>')), /niet gepubliceerd/, 'all derived figures shown');

  // TGO niveau 1 does not show bands or r: nothing withheld on its part of the page.
  const tgo1 = section(html, 'g-sectorkamer-niveau-TGO-1');
  t.notMatch(tgo1, /niet gepubliceerd/, 'the withheld band and r are not shown there, so not listed');
  t.match(tableRow(tgo1, 'Uitval jaar 1'), '<td class="num">17,5%</td>');

  // Sectorkamer TGO: three figures withheld, each in its own row of the table and in the list.
  const g = section(html, 'g-sectorkamer-TGO');
  for (const label of [
    'Verzuim \\(geoorloofd en ongeoorloofd\\)',
    'Ongeoorloofd verzuim',
    'Overstap binnen de instelling',
  ]) {
    const row = tableRow(g, label);
    t.equal(count(row, /<td class="sup">niet gepubliceerd<\/td>/), 2, `${label}: both sector columns withheld`);
    t.match(row, `geen vergelijking: sectorcijfer niet gepubliceerd (${secondary})`, `${label}: why`);
  }
  t.equal(count(g, /<td class="sup">niet gepubliceerd<\/td>/), 6, 'no other figure withheld');
  t.match(tableRow(g, 'Geoorloofd verzuim'), '<td class="num">6,7%</td>', 'authorised absence 54.000 / 810.000');
  t.equal(count(g, /<li>[^<]*van de sector: niet gepubliceerd/), 3, 'three items in the list');
  t.match(html, /<td class="sup">sectorcijfer niet gepubliceerd<\/td>/, 'overview: absence of TGO withheld');

  // The population slot null: the block's sentence, as before, and advice to look wider.
  const bol = section(html, 'g-leerweg-BOL');
  t.match(bol, /Startercijfers van de sector: niet gepubliceerd, minder dan 10 studenten/);
  t.equal(count(bol, /<li>[^<]*niet gepubliceerd/), 1, 'one item: the block');
  t.match(bol, /Kijk bij de sectorkamer/);
  t.notMatch(
    html,
    /secondary|min_population|b_early_dropout|b_sum_xy|pearson_r|early_dropout_/,
    'no codes on the page',
  );
  t.notMatch(html, /NaN|Infinity|onderdrukt/);

  // CSV: the rule per figure line; a withheld figure has empty sector values.
  const csv = comparisonCsv(c).split('\r\n');
  const line = (key: string, id: string) => csv.find((l) => l.startsWith(`rollup,${key},${id},`))?.split(',') ?? [];
  t.same(line('sectorkamer|TGO', 'switch_share').slice(3, 7), ['0.05', '', '', '20'], 'own 1/20; no sector');
  t.equal(line('sectorkamer|TGO', 'switch_share')[12], 'secondary');
  t.equal(line('sectorkamer|TGO', 'progression_share')[12], '', 'progression published');
  t.same(line(TGO1, 'dropout_share').slice(3, 6), ['0.3', '0.175', '0.2']);
  t.equal(line(TGO1, 'dropout_share')[12], '');
  t.equal(line('leerweg|BOL', 'dropout_share')[12], 'min_population');

  // JSON: the same, with the singly withheld figures per row and no NaN.
  const json = JSON.parse(comparisonJson(c));
  const jrow = json.rows.find((x: { key: string }) => x.key === TGO1);
  t.same(jrow.sector.withheld, { early_dropout_1: 'secondary', pearson_r: 'secondary' });
  t.equal(jrow.withoutUs.sums.b_early_dropout_1, null);
  t.equal(jrow.early.withoutUs[1].rate, null);
});

t.test('release differences: a null slot in either version is no changed value', async (t) => {
  const { codebook, own, release } = await fixture();
  const v1 = release;
  const tgo1 = v1.rollups[TGO1];
  const tgo = v1.rollups['sectorkamer|TGO'];
  if (!tgo1 || !tgo) throw new Error('fixture rows missing');
  const { b_sum_xy: _published, ...tgo1Suppressed } = tgo1.suppressed;
  const v2 = ReleaseSchema.parse({
    ...v1,
    release_version: 2,
    previous_release_digest: 'a'.repeat(64),
    rollups: {
      ...v1.rollups,
      // b_retained 70 -> 71: changed; b_sum_xy null -> 80.000: newly published;
      // b_early_dropout_1 null in both: nothing.
      [TGO1]: { ...tgo1, slots: { ...tgo1.slots, b_retained: 71, b_sum_xy: 80_000 }, suppressed: tgo1Suppressed },
      // b_progressed 4 -> null: now withheld; a_min_abs_unauth and b_switched null in both: nothing.
      'sectorkamer|TGO': {
        ...tgo,
        slots: { ...tgo.slots, b_progressed: null },
        suppressed: { ...tgo.suppressed, b_progressed: { rule: 'secondary' } },
      },
    },
  });
  const changes = versionChanges(v1, v2);
  t.same(
    [changes.changed, changes.newlyPublished, changes.nowSuppressed],
    [1, 1, 1],
    'one changed value, one newly published, one now withheld; nulls in both versions not counted',
  );
  const same = versionChanges(v1, v1);
  t.same([same.changed, same.newlyPublished, same.nowSuppressed], [0, 0, 0], 'a version against itself: no change');
  const c2 = buildComparison(codebook, own, v2, { institutionId: 'inst-p', ownIncluded: true });
  const r = rowOf(c2.rows, TGO1);
  t.same(r.sector.withheld, { early_dropout_1: 'secondary', pearson_r: 'secondary' }, 'r still needs band 1');
  t.ok(close(figOf(r, 'dropout_share').withoutUs, 13 / 80), 'dropout without us (80 - 59 - 8) / 80');
  const html = await comparisonHtml(
    c2,
    { keyHolderFingerprint: 'ab cd', generatedAt: 'nu', versionHtml: versionChangesHtml(changes) },
    { json: 'benchmark.json', csv: 'benchmark.csv', excel: 'benchmark-excel.csv' },
  );
  t.match(html, /1 cijfer gewijzigd, 1 nieuw gepubliceerd, 1 nu onderdrukt/);
});
