/** The benchmark page and CSV show the key holder's disclosure outcome and the distributions. */
import t from 'tap';
import { renderReleaseCsv } from '../../coordinator/release/render-csv.js';
import { binLabel, ABS_BIN_EDGES, DROP_BIN_EDGES } from '../../coordinator/release/render-disclosure.js';
import { renderReleaseHtml } from '../../coordinator/release/render-html.js';
import type { RoundManifest } from '../../schemas/manifest.js';
import { ReleaseRowSchema, DisclosureOutcomeSchema, type Release } from '../../schemas/release.js';
import { ThresholdsSchema } from '../../schemas/manifest.js';
import { generateIdentity } from '../../shared/crypto/identity.js';

const thresholds = ThresholdsSchema.parse({});
const A = {
  a_enrolments: 90,
  a_min_present: 2700,
  a_min_registered: 3000,
  a_min_abs_unauth: 100,
  b_starters: 30,
  b_retained: 24,
  b_left_diploma: 2,
};
const disclosure = DisclosureOutcomeSchema.parse({
  protection: { min_width: 3, ratio_num: 1, ratio_den: 2, rules: ['min_institutions', 'min_population', 'dominance'] },
  blocks: { published: 6, suppressed: 4 },
  rules: { min_institutions: 2, secondary: 1, dominance: 1 },
  distributions: { published: 2, withheld: { min_institutions_distribution: 3 } },
  audit: {
    verdict: 'passed',
    method: 'exact rank test …',
    checked_blocks: 4,
    determined: 0,
    rank: { A: 1, B: 1 },
    intervals: { checked: 3, lp_solved: 0, min_width_ratio_permille: 1000 },
    versions: { compared: [], differences_checked: 0 },
  },
  summary_nl: 'Een cijfer wordt alleen gepubliceerd als <genoeg> instellingen erachter staan.',
});
const rows = {
  total: ReleaseRowSchema.parse({
    institutions: { a: 6, b: 6 },
    slots: A,
    suppressed: {},
    distributions: {
      c_abs_bin: [0, 1, 3, 1, 1, 0, 0, 0, 0, 0],
      c_drop_bin: [0, 2, 3, 1, 0, 0, 0, 0, 0, 0],
      suppressed: {},
    },
  }),
  'niveau|2': ReleaseRowSchema.parse({
    institutions: { a: 6, b: 4 },
    slots: A,
    suppressed: {},
    distributions: {
      c_abs_bin: [0, 3, 0, 1, 2, 0, 0, 0, 0, 0],
      c_drop_bin: null,
      suppressed: { c_drop_bin: { rule: 'min_institutions_distribution', note: '4 institutions' } },
    },
  }),
};
const kh = generateIdentity();
const manifest = {
  codebook: { entries: [] },
  key_holder_endorsement: { ed25519_public_key: Buffer.from(kh.publicKey).toString('base64') },
} as unknown as RoundManifest;
const release = {
  type: 'sectorbench.release',
  version: 1,
  round_id: 'r1',
  release_version: 1,
  previous_release_digest: null,
  studiejaar: '2024-2025',
  metric_spec: 'v1',
  codebook_digest: 'x',
  institutions: 6,
  thresholds,
  published_at: '2025-11-03T10:00:00.000Z',
  cells: {},
  rollups: rows,
  disclosure,
  key_holder_signature: 'x',
} as unknown as Release;

t.test('bins follow METRICS.md block C', async (t) => {
  t.equal(binLabel(ABS_BIN_EDGES, 0), '0–5%');
  t.equal(binLabel(ABS_BIN_EDGES, 1), '5–7,5%');
  t.equal(binLabel(ABS_BIN_EDGES, 9), '30–100%');
  t.equal(binLabel(DROP_BIN_EDGES, 8), '40–50%');
  t.equal(binLabel(DROP_BIN_EDGES, 9), '50–100%');
});

t.test('the page has a Bescherming section and the distributions', async (t) => {
  const page = renderReleaseHtml(release, manifest, { digest: 'd', versions: [1] });
  t.match(page, /<h2 id="bescherming">Bescherming<\/h2>/);
  t.match(page, /Een cijfer wordt alleen gepubliceerd als &lt;genoeg&gt; instellingen/, 'summary_nl, escaped');
  t.match(page, /<td>minder dan 3 instellingen<\/td><td class="num">2<\/td>/, 'counts per rule in plain Dutch');
  t.match(page, /één instelling heeft meer dan 85\s?% van de studenten/);
  t.match(page, /weggelaten zodat een ander weggelaten cijfer niet terug te rekenen is/);
  t.match(page, /Controle: geslaagd\.<\/strong> De sleutelhouder heeft/, 'verdict');
  t.match(page, /exacte rekenkunde/, 'method in one sentence');
  t.match(page, /3 wegens minder dan 5 instellingen in de verdeling/);
  t.match(page, /Verdeling van instellingen naar verzuimpercentage/);
  t.match(page, /Verdeling van instellingen naar uitvalpercentage/);
  t.match(page, /<th scope="col">Totaal sector<\/th><th scope="col">Niveau 2<\/th>/);
  t.match(
    page,
    /<th scope="row">7,5–10%<\/th><td class="num">3<\/td><td class="num">0<\/td>/,
    'absence bin 2: total 3, niveau 2 0',
  );
  t.match(
    page,
    /niet gepubliceerd \(minder dan 5 instellingen in de verdeling\)/,
    'withheld dropout distribution of niveau 2 with its reason',
  );
  t.notMatch(page, /<script/i);
  const old = renderReleaseHtml(
    {
      ...release,
      disclosure: undefined,
      rollups: { total: { ...rows.total, distributions: undefined } },
    } as unknown as Release,
    manifest,
    { digest: 'd', versions: [1] },
  );
  t.notMatch(old, /Bescherming/, 'a release without a disclosure outcome has no such section');
  t.match(old, /niet gepubliceerd \(niet beschikbaar in deze versie\)/);
});

t.test('the CSV carries the distributions', async (t) => {
  const csv = renderReleaseCsv(release);
  t.match(csv, /group,total,c_abs_bin_2,3,,6,6\r\n/);
  t.match(csv, /group,niveau\|2,c_drop_bin_0,,min_institutions_distribution,6,4\r\n/);
});
