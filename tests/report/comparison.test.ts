// The comparison's numbers: funnel limits against independently computed values, "sector
// without us" against the reference sector sum minus the institution's expected vector,
// Pearson r and Cohen's reading by hand, the institution's place in a distribution, and the
// three download formats.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildComparison } from '../../node/report/comparison.js';
import { comparisonCsv, comparisonExcelCsv, comparisonJson } from '../../node/report/comparison-files.js';
import { comparisonHtml, verdictText } from '../../node/report/comparison-html.js';
import { funnelLimit, funnelLimits, funnelVerdict } from '../../node/report/funnel.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import type { Release } from '../../schemas/release.js';
import { readCodebookFile } from '../../shared/metrics/codebook-file.js';
import { cohenReading, pearsonEarly } from '../../shared/metrics/derived.js';
import { BLOCK_A_SLOTS, BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { vectorFromJson, type VectorJson } from '../../shared/metrics/vector.js';
import { sampleDir } from '../helpers/paths.js';

t.test('funnel limits: exact binomial quantiles with Spiegelhalter interpolation', async (t) => {
  // By hand for n = 10, theta = 0.2: P(R<=4) = 0.967207, P(R<=5) = 0.993631, so r_0.975 = 5,
  // alpha = (0.993631 - 0.975) / 0.026424 = 0.70508 and the limit is (5 - 0.70508) / 10.
  t.equal(Number(funnelLimit(10, 0.2, 0.975)?.toFixed(4)), 0.4295);
  // The lower limit interpolates below 0 there and is clamped to 0.
  t.equal(funnelLimit(10, 0.2, 0.025), 0);
  // Reference values computed independently with scipy.stats.binom (cdf) and the same formula.
  const ref: [number, number, [number, number, number, number]][] = [
    [10, 0.2, [0, 0.429494, 0, 0.597536]],
    [3, 0.2, [0, 0.607639, 0, 0.958333]],
    [50, 0.15, [0.046787, 0.245991, 0.005397, 0.314742]],
    [200, 0.3, [0.235031, 0.362041, 0.200523, 0.400105]],
    [1000, 0.05, [0.036404, 0.063446, 0.029503, 0.072017]],
    [20000, 0.12, [0.115489, 0.124497, 0.112928, 0.12713]],
  ];
  for (const [n, theta, [lo95, hi95, lo998, hi998]] of ref) {
    const l = funnelLimits(n, theta);
    if (!l) throw new Error('no limits');
    t.ok(Math.abs(l.lo95 - lo95) < 1e-6, `n=${n} θ=${theta} lower 95%: ${l.lo95} vs ${lo95}`);
    t.ok(Math.abs(l.hi95 - hi95) < 1e-6, `n=${n} θ=${theta} upper 95%: ${l.hi95} vs ${hi95}`);
    t.ok(Math.abs(l.lo998 - lo998) < 1e-6, `n=${n} θ=${theta} lower 99.8%: ${l.lo998} vs ${lo998}`);
    t.ok(Math.abs(l.hi998 - hi998) < 1e-6, `n=${n} θ=${theta} upper 99.8%: ${l.hi998} vs ${hi998}`);
  }
  // The example: 1 of 3 starters (33 %) against 20 % is no signal.
  const small = funnelLimits(3, 0.2);
  if (!small) throw new Error('no limits');
  t.equal(funnelVerdict(1 / 3, small), 'inside');
  // 45 of 200 against 30 %: 22.5 % is below 0.235 (95 %) but above 0.2005 (99.8 %); 40 of 200 is not.
  const mid = funnelLimits(200, 0.3);
  if (!mid) throw new Error('no limits');
  t.equal(funnelVerdict(45 / 200, mid), 'below95');
  t.equal(funnelVerdict(40 / 200, mid), 'below998');
  t.equal(funnelVerdict(0.37, mid), 'above95');
  t.equal(funnelVerdict(0.41, mid), 'above998');
  t.equal(funnelLimits(0, 0.3), null, 'no population, no limits');
  t.same(funnelLimits(5, 0), { n: 5, lo95: 0, hi95: 0, lo998: 0, hi998: 0 }, 'a target of 0 allows only 0');
});

t.test('Pearson r and Cohen reading', async (t) => {
  // Four starters: x = 600 (dropout), 800 (dropout), 900, 1000. By hand: n=4, Sx=3300,
  // Sxx=2,810,000, Sy=2, Sxy=1400: num = 4*1400 - 3300*2 = -1000;
  // d1 = 4*2,810,000 - 3300^2 = 350,000; d2 = 4*2 - 4 = 4; r = -1000/sqrt(1,400,000) = -0.845154.
  const s = {
    b_early_n: 4,
    b_sum_x: 3300,
    b_sum_x2: 2_810_000,
    b_sum_xy: 1400,
    b_early_dropout_0: 1,
    b_early_dropout_1: 0,
    b_early_dropout_2: 1,
    b_early_dropout_3: 0,
    b_early_dropout_4: 0,
  };
  t.equal(Number(pearsonEarly(s)?.toFixed(6)), -0.845154);
  t.equal(pearsonEarly({ ...s, b_sum_xy: null }), null, 'a suppressed sum gives no r');
  t.equal(pearsonEarly({ ...s, b_early_dropout_0: 0, b_early_dropout_2: 0 }), null, 'no dropouts: undefined');
  t.equal(cohenReading(-0.845154), 'sterk negatief verband');
  t.equal(cohenReading(0.5), 'sterk positief verband');
  t.equal(cohenReading(0.3), 'middelmatig positief verband');
  t.equal(cohenReading(-0.1), 'zwak negatief verband');
  t.equal(cohenReading(0.0999), 'verwaarloosbaar verband');
  t.equal(cohenReading(null), 'niet te berekenen');
});

type Expected = VectorJson & { cells: Record<string, Record<string, number>> };
const readJson = (f: string) => JSON.parse(readFileSync(join(sampleDir, 'expected', f), 'utf8')) as Expected;

t.test('sector without us = reference sector sum minus the institution expected vector', async (t) => {
  const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));
  const sector = readJson('sector.json');
  const thresholds = ThresholdsSchema.parse({});
  // A release with every cell and group published as the reference sum (no suppression).
  const row = (slots: Record<string, number>) => ({
    institutions: { a: slots.c_contrib_a ?? 0, b: slots.c_contrib_b ?? 0 },
    slots: Object.fromEntries([...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS].map((s) => [s, slots[s] ?? 0])),
    suppressed: {},
  });
  const sumGroup = (g: string) => {
    const out: Record<string, number> = { ...(sector.groups[g] ?? {}) };
    for (const i of codebook.groupCells.get(g) ?? []) {
      const c = sector.cells[codebook.cellKeys[i] as string] ?? {};
      for (const s of [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS]) out[s] = (out[s] ?? 0) + (c[s] ?? 0);
    }
    return out;
  };
  const release = {
    round_id: '2024-2025-r1',
    release_version: 1,
    studiejaar: '2024-2025',
    thresholds,
    cells: Object.fromEntries(codebook.cellKeys.map((k) => [k, row(sector.cells[k] ?? {})])),
    rollups: Object.fromEntries(codebook.groupKeys.map((g) => [g, row(sumGroup(g))])),
  } as unknown as Release;
  for (const inst of ['inst-1', 'inst-2', 'inst-3']) {
    const ownJson = readJson(`${inst}.json`);
    const own = vectorFromJson(codebook, ownJson);
    const c = buildComparison(codebook, own, release, { institutionId: inst, ownIncluded: true });
    let checked = 0;
    for (const r of c.rows.filter((x) => x.kind === 'cell')) {
      const exp = sector.cells[r.key] ?? {};
      const mine = ownJson.cells[r.key] ?? {};
      for (const s of [...BLOCK_A_SLOTS, ...BLOCK_B_SLOTS]) {
        if (r.withoutUs.sums[s] !== (exp[s] ?? 0) - (mine[s] ?? 0)) t.fail(`${inst} ${r.key} ${s}`);
        checked++;
      }
      t.equal(
        r.withoutUs.institutions.a,
        (exp.c_contrib_a ?? 0) - ((mine.a_enrolments ?? 0) > 0 ? 1 : 0),
        `${inst} ${r.key}: institutions without us`,
      );
    }
    t.ok(checked > 100, `${inst}: ${checked} cell slots equal sector.json minus ${inst}.json`);
    // The whole institution's absence rate against the sector without it, from the files directly.
    const total = c.rows.find((r) => r.key === 'total');
    const sum = (v: Expected, s: string) => Object.values(v.cells).reduce((a, x) => a + (x[s] ?? 0), 0);
    const absent = (v: Expected) => sum(v, 'a_min_abs_auth') + sum(v, 'a_min_abs_unauth');
    const wo =
      (absent(sector) - absent(ownJson)) / (sum(sector, 'a_min_registered') - sum(ownJson, 'a_min_registered'));
    t.equal(total?.figures.find((f) => f.id === 'absence_rate')?.withoutUs?.toFixed(9), wo.toFixed(9));
    t.notOk(
      c.rows.some((r) => /\|/.test(r.label) || r.label === 'total'),
      'labels are names, never internal keys',
    );
  }
  // Without a receipt the sector does not hold our vector: without us = whole sector.
  const own = vectorFromJson(codebook, readJson('inst-1.json'));
  const c = buildComparison(codebook, own, release, { institutionId: 'inst-1', ownIncluded: false });
  const r0 = c.rows.find((r) => r.kind === 'cell');
  t.same(r0?.withoutUs.sums.a_enrolments, r0?.sector.sums.a_enrolments);
});

t.test('position among institutions, suppression and downloads', async (t) => {
  const codebook = await readCodebookFile(join(sampleDir, 'codebook.csv'));
  const own = vectorFromJson(codebook, readJson('inst-1.json'));
  const ownTotal = readJson('inst-1.json').groups.total ?? {};
  const ownAbsBin = [...Array(10).keys()].find((k) => ownTotal[`c_abs_bin_${k}`] === 1);
  t.ok(ownAbsBin !== undefined, 'inst-1 is in the absence histogram of total');
  const k = ownAbsBin as number;
  const hist = [2, 1, 0, 3, 1, 0, 2, 0, 1, 0];
  hist[k] = (hist[k] ?? 0) + 1; // ourselves
  const release = {
    round_id: 'r',
    release_version: 2,
    studiejaar: '2024-2025',
    thresholds: ThresholdsSchema.parse({}),
    cells: {},
    rollups: {
      total: {
        institutions: { a: 11, b: 11 },
        slots: Object.fromEntries(BLOCK_A_SLOTS.map((s) => [s, null])),
        suppressed: Object.fromEntries(BLOCK_A_SLOTS.map((s) => [s, { rule: 'min_institutions' }])),
        distributions: {
          c_abs_bin: hist,
          c_drop_bin: null,
          suppressed: { c_drop_bin: { rule: 'min_institutions_distribution' } },
        },
      },
    },
  } as unknown as Release;
  const c = buildComparison(codebook, own, release, {
    institutionId: 'inst-1',
    institutionName: 'ROC De Proef',
    ownIncluded: true,
  });
  const total = c.rows.find((r) => r.key === 'total');
  const lower = hist.slice(0, k).reduce((a, b) => a + b, 0);
  t.same(total?.positions.absence?.lower, lower, 'lower = institutions in lower bins');
  t.same(total?.positions.absence?.sameBin, (hist[k] as number) - 1, 'same bin, without ourselves');
  t.same(total?.positions.absence?.inHistogram, 11);
  t.equal(total?.positions.dropout, null);
  t.equal(total?.distributionRules.c_drop_bin, 'min_institutions_distribution');
  const absence = total?.figures.find((f) => f.id === 'absence_rate');
  t.equal(absence?.withoutUs, null, 'a suppressed block gives no sector without us');
  t.equal(absence?.verdict, null, 'and no verdict');
  t.equal(c.rows.find((r) => r.kind === 'cell')?.sector.suppressed.A, 'not_released');

  const html = await comparisonHtml(
    c,
    { keyHolderFingerprint: 'ab cd', generatedAt: 'nu' },
    {
      json: 'benchmark.json',
      csv: 'benchmark.csv',
      excel: 'benchmark-excel.csv',
    },
  );
  t.match(html, `${lower} van 11 instellingen hebben een lager verzuimpercentage`);
  t.match(html, /minder dan 3 instellingen bieden dit aan/);
  t.match(html, /Kijk bij de sectorkamer/);
  t.notMatch(html, /min_institutions|not_released|sectorkamer_niveau\||>total</, 'no rule codes or keys on the page');
  t.equal(html.match(/<h1[ >]/g)?.length, 1, 'one h1');
  t.match(html, /<html lang="nl">/);
  t.notMatch(html, /<script/i);
  t.match(html, /Benchmark verzuim en uitval: ROC De Proef/);

  const csv = comparisonCsv(c);
  t.match(csv, /^kind,key,figure,own,without_us,sector,own_population,/);
  const line = csv.split('\r\n').find((l) => l.startsWith('rollup,total,absence_rate,'));
  const ownAbs = total?.figures.find((f) => f.id === 'absence_rate')?.own as number;
  t.equal(line?.split(',')[3], String(Number(ownAbs.toFixed(6))), 'decimal point, 6 decimals');
  const xl = comparisonExcelCsv(c);
  t.ok(xl.startsWith('\ufeffsoort;sleutel;cijfer;eigen;'), 'BOM and ; separator');
  const xlLine = xl.split('\r\n').find((l) => l.startsWith('rollup;total;absence_rate;'));
  t.equal(xlLine?.split(';')[3], String(Number(ownAbs.toFixed(6))).replace('.', ','), 'decimal comma');
  const json = JSON.parse(comparisonJson(c));
  t.equal(json.type, 'sectorbench.comparison');
  t.equal(json.rows.length, c.rows.length);
  // Symbol and words, never colour alone.
  const v = verdictText({ ...(absence as NonNullable<typeof absence>), verdict: 'above998', higherIsBetter: false });
  t.same([v?.sym, v?.words], ['▲▲', 'duidelijk hoger (boven de 99,8%-grens), ongunstig']);
});
