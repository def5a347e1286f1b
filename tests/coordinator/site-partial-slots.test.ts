// The coordinator's publication site and CSVs for a release whose published rollup blocks have
// single slots withheld (secondary disclosure control: the `total` row withholds
// `a_min_abs_unauth`, `b_progressed` and `b_sum_xy`; `sectorkamer|TGO` withholds `a_hist_4`,
// `b_early_dropout_1` and `b_sum_xy`). The figures needing only published slots are shown with
// their values, exactly the figures needing a withheld slot say "niet gepubliceerd" with the
// reason (tables, series, Excel CSV; the machine CSV per slot), and a row whose population slot is
// null is still withheld as a whole. Every expected value is computed by hand in the comments.
import t from 'tap';
import { renderReleaseCsv, renderReleaseExcelCsv } from '../../coordinator/release/render-csv.js';
import { namesOfManifest, renderReleaseSite, SITE_FILES, sectorkamerFile } from '../../coordinator/release/site.js';
import { blockRule } from '../../coordinator/release/site-rows.js';
import { type RoundManifest, RoundManifestSchema, ThresholdsSchema } from '../../schemas/manifest.js';
import { type Release, ReleaseSchema } from '../../schemas/release.js';
import { BLOCK_B_SLOTS } from '../../shared/metrics/slots.js';
import { BLOCK_A_125, band, hist, type Slots } from '../helpers/slot-rows.js';

type Rule = 'min_institutions' | 'min_population' | 'secondary';

// The reasons in Dutch with the default thresholds (3 institutions, 10 students), written out.
const SEC = 'weggelaten zodat een ander weggelaten cijfer niet uit totalen terug te rekenen is';
const MINPOP = 'minder dan 10 studenten, dus te klein om iets over studenten te zeggen zonder ze herkenbaar te maken';
const MININST = 'minder dan 3 instellingen bieden dit aan, dus één instelling zou herkenbaar zijn';

/** Block A of niveau 1 and its one cell, published whole (its figures by hand: `BLOCK_A_125`). */
const A_N1: Slots = BLOCK_A_125;

/**
 * Block B of niveau 1: the population slot null (min_population), the other slots still carry
 * values. The block is withheld as a whole: startersresultaat (5 + 1) / 8 = 75,0% is never shown.
 */
const B_N1: Slots = {
  b_starters: null,
  b_retained: 5,
  b_left_diploma: 1,
  b_switched: 0,
  b_progressed: 0,
  b_early_n: 8,
  ...band('total', [1, 1, 2, 2, 2]),
  ...band('dropout', [1, 0, 1, 0, 0]),
  b_sum_x: 6_500,
  b_sum_x2: 5_400_000,
  b_sum_xy: 1_500,
};

/**
 * The whole sector, 8 institutions, `a_min_abs_unauth` and `b_progressed` withheld singly (and
 * `b_sum_xy`, which no column needs). Shown: chronic (20 + 20 + 10 + 6 + 4) / 400 = 15,0%;
 * signal 20 / 400 = 5,0%; dropout (300 - 210 - 30) / 300 = 20,0%; startersresultaat
 * (210 + 30) / 300 = 80,0%. Withheld: absence and unauthorised absence (a_min_abs_unauth; read as
 * 0 it would be 120.000 / 1.600.000 = 7,5% and 0,0%), progression (b_progressed; as 0: 0,0%).
 */
const TOTAL: Slots = {
  a_enrolments: 400,
  a_rated: 400,
  a_min_planned: 2_000_000,
  a_min_registered: 1_600_000,
  a_min_present: 1_400_000,
  a_min_abs_auth: 120_000,
  a_min_abs_unauth: null,
  a_obs_registered: 40_000,
  a_late: 800,
  a_signal16: 20,
  a_age_known: 400,
  a_enrolments_u18: 200,
  a_signal16_u18: 8,
  ...hist([200, 100, 40, 20, 20, 10, 6, 4]),
  b_starters: 300,
  b_retained: 210,
  b_left_diploma: 30,
  b_switched: 12,
  b_progressed: null,
  b_early_n: 300,
  ...band('total', [30, 45, 75, 90, 60]),
  ...band('dropout', [12, 15, 15, 12, 6]),
  b_sum_x: 255_000,
  b_sum_x2: 222_000_000,
  b_sum_xy: null,
};

/**
 * Sectorkamer TGO, 6 institutions: `a_hist_4` withheld (chronic absence; read as 0 it would be
 * (20 + 0 + 10 + 10 + 0) / 240 = 16,7%), and `b_early_dropout_1` and `b_sum_xy` as in the brief
 * (no site column needs them). Shown: absence (60.000 + 27.000) / 900.000 = 9,7%; unauthorised
 * 27.000 / 900.000 = 3,0%; signal 15 / 250 = 6,0%; dropout (200 - 150 - 20) / 200 = 15,0%;
 * startersresultaat 170 / 200 = 85,0%; progression 9 / 200 = 4,5%.
 */
const TGO: Slots = {
  a_enrolments: 250,
  a_rated: 240,
  a_min_planned: 1_000_000,
  a_min_registered: 900_000,
  a_min_present: 800_000,
  a_min_abs_auth: 60_000,
  a_min_abs_unauth: 27_000,
  a_obs_registered: 20_000,
  a_late: 600,
  a_signal16: 15,
  a_age_known: 250,
  a_enrolments_u18: 100,
  a_signal16_u18: 10,
  ...hist([100, 50, 30, 20, null, 10, 10, 0]),
  b_starters: 200,
  b_retained: 150,
  b_left_diploma: 20,
  b_switched: 8,
  b_progressed: 9,
  b_early_n: 200,
  ...band('total', [20, 30, 50, 60, 40]),
  ...band('dropout', [6, null, 10, 6, 2]),
  b_sum_x: 170_000,
  b_sum_x2: 148_000_000,
  b_sum_xy: null,
};

const nullBlock = (slots: readonly string[]): Slots => Object.fromEntries(slots.map((s) => [s, null]));

/** A release row: every null slot gets `rule` (with a note for `secondary`). */
function releaseRow(slots: Slots, inst: { a: number; b: number }, rule: Rule) {
  const suppressed: Record<string, { rule: Rule; note?: string }> = {};
  for (const [k, v] of Object.entries(slots))
    if (v === null) suppressed[k] = rule === 'secondary' ? { rule, note: 'een 0 zou een cel vastpinnen' } : { rule };
  return { institutions: inst, slots, suppressed };
}

const CELL = '98767|1|BOL';

/** The fixture release, checked by the release schema (every null slot has its entry). */
function release(): Release {
  return ReleaseSchema.parse({
    type: 'sectorbench.release',
    version: 1,
    round_id: '2024-2025-r1',
    release_version: 1,
    previous_release_digest: null,
    studiejaar: '2024-2025',
    metric_spec: 'v1',
    codebook_digest: '0'.repeat(64),
    institutions: 8,
    thresholds: ThresholdsSchema.parse({}),
    published_at: '2025-10-01T10:00:00Z',
    cells: {
      // Block B withheld as a whole, the existing way: every B slot null.
      [CELL]: releaseRow({ ...A_N1, ...nullBlock(BLOCK_B_SLOTS) }, { a: 4, b: 2 }, 'min_institutions'),
    },
    rollups: {
      total: releaseRow(TOTAL, { a: 8, b: 8 }, 'secondary'),
      'niveau|1': releaseRow({ ...A_N1, ...B_N1 }, { a: 4, b: 4 }, 'min_population'),
      'sectorkamer|TGO': releaseRow(TGO, { a: 6, b: 6 }, 'secondary'),
    },
    key_holder_signature: Buffer.alloc(64).toString('base64'),
  });
}

const TGO_NAME = 'Techniek en gebouwde omgeving';
const ENTREE = 'Entree, assistent bouwen en wonen (synthetisch)';

/** A round manifest with one TGO programme; the site reads its codebook and the key holder's key. */
function manifest(): RoundManifest {
  const key = (b: number) => Buffer.alloc(32, b).toString('base64');
  return RoundManifestSchema.parse({
    type: 'sectorbench.round-manifest',
    version: 1,
    round_id: '2024-2025-r1',
    studiejaar: '2024-2025',
    metric_spec: 'v1',
    slot_layout: 'sb-layout-v1',
    he_params: 'bfv-n4096-t40-tc128-v1',
    codebook: {
      digest: '0'.repeat(64),
      entries: [{ crebo: '98767', name: ENTREE, niveau: 1, sectorkamer_code: 'TGO', sectorkamer_name: TGO_NAME }],
    },
    thresholds: ThresholdsSchema.parse({}),
    participants: [{ institution_id: 'inst-1', name: 'ROC Een', brin: '25LX', ed25519_public_key: key(1) }],
    max_participants: 10,
    deadline: '2025-09-01T00:00:00Z',
    he_public_key: { digest: '1'.repeat(64), base64: 'AAAA' },
    key_holder_endorsement: { ed25519_public_key: key(2), signature: Buffer.alloc(64).toString('base64') },
    coordinator_signature: Buffer.alloc(64).toString('base64'),
  });
}

async function site(): Promise<Map<string, string>> {
  return renderReleaseSite(release(), manifest(), { digest: 'a'.repeat(64), versions: [1], json: '{}' });
}

function page(files: Map<string, string>, name: string): string {
  const html = files.get(name);
  if (html === undefined) throw new Error(`no site file ${name}`);
  return html;
}

/** A table cell as read: its colspan (1 when absent), class and text. */
interface Cell {
  span: number;
  cls: string;
  text: string;
}

/** The `<tr>` whose row header starts with `th` (HTML as on the page). */
function rowHtml(html: string, th: string): string {
  const rows = [...html.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => m[1] ?? '');
  const hits = rows.filter((r) => r.startsWith(`<th scope="row">${th}`));
  if (hits.length !== 1) throw new Error(`${hits.length} rows with header ${th}`);
  return hits[0] ?? '';
}

/** The data cells of a row, in order. */
function cells(row: string): Cell[] {
  return [...row.matchAll(/<td(?: colspan="(\d+)")?(?: class="([^"]*)")?>([\s\S]*?)<\/td>/g)].map((m) => ({
    span: Number(m[1] ?? 1),
    cls: m[2] ?? '',
    text: m[3] ?? '',
  }));
}

const num = (text: string): Cell => ({ span: 1, cls: 'num', text });
const withheld = (reason: string, span = 1): Cell => ({ span, cls: 'sup', text: `niet gepubliceerd: ${reason}` });
const count = (s: string, needle: string) => s.split(needle).length - 1;

/** The figures of niveau 1 and its cell: block A shown whole. */
const A_N1_CELLS = [num('4'), num('125'), num('11,1%'), num('4,4%'), num('25,0%'), num('8,0%')];
/** Sectorkamer TGO: chronic absence withheld, everything else shown. */
const TGO_CELLS = [
  num('6'),
  num('250'),
  num('9,7%'),
  num('3,0%'),
  withheld(SEC),
  num('6,0%'),
  num('6'),
  num('200'),
  num('15,0%'),
  num('85,0%'),
  num('4,5%'),
];

t.test('a block is withheld only when its population slot is null', async (t) => {
  const r = release();
  const row = (k: string) => {
    const x = r.rollups[k];
    if (!x) throw new Error(`no rollup ${k}`);
    return x;
  };
  t.same([blockRule(row('total'), 'A'), blockRule(row('total'), 'B')], [null, null], 'total: both published');
  t.same([blockRule(row('sectorkamer|TGO'), 'A'), blockRule(row('sectorkamer|TGO'), 'B')], [null, null]);
  t.same([blockRule(row('niveau|1'), 'A'), blockRule(row('niveau|1'), 'B')], [null, 'min_population']);
});

t.test('overview: ordinary figures shown, exactly the figures needing a withheld slot not published', async (t) => {
  const index = page(await site(), SITE_FILES.index);
  t.same(
    cells(rowHtml(index, 'Hele sector')),
    [
      num('8'),
      num('400'),
      withheld(SEC),
      withheld(SEC),
      num('15,0%'),
      num('5,0%'),
      num('8'),
      num('300'),
      num('20,0%'),
      num('80,0%'),
      withheld(SEC),
    ],
    'sector: absence, unauthorised absence and progression withheld',
  );
  t.same(
    cells(rowHtml(index, 'Niveau 1')),
    [...A_N1_CELLS, num('4'), withheld(MINPOP, 4)],
    'niveau 1: block B withheld as a whole though its other slots carry values',
  );
  t.same(cells(rowHtml(index, `<a href="sectorkamer-TGO.html">${TGO_NAME}</a>`)), TGO_CELLS, 'sectorkamer TGO');
  t.equal(count(index, 'niet gepubliceerd: '), 5, 'three in the sector row, one for TGO, one for niveau 1');
  for (const wrong of ['7,5%', '0,0%', '16,7%', '75,0%'])
    t.notOk(index.includes(`>${wrong}<`), `no figure from a withheld slot read as 0 (${wrong})`);

  // The series (one studiejaar): the same figures, withheld in the table's words.
  t.same(
    cells(rowHtml(index, '2024-2025')),
    [
      { span: 1, cls: 'sup', text: 'niet gepubliceerd' },
      { span: 1, cls: 'sup', text: 'niet gepubliceerd' },
      num('15,0%'),
      num('5,0%'),
      num('20,0%'),
      num('80,0%'),
      { span: 1, cls: 'sup', text: 'niet gepubliceerd' },
    ],
    'series of the sector',
  );
  t.match(index, 'of om een ander weggelaten cijfer te beschermen', 'the note on gaps names secondary withholding');

  // Bescherming: 8 blocks with data (cell A and B, total A and B, niveau 1 A and B, TGO A and B),
  // withheld as a whole: cell B (min_institutions) and niveau 1 B (min_population).
  t.match(index, 'Van de 8 blokken met gegevens');
  t.match(index, 'zijn er 6 gepubliceerd en 2 weggelaten:');
  t.match(index, `<li>1 omdat ${MININST}</li>`);
  t.match(index, `<li>1 omdat ${MINPOP}</li>`);
  t.match(index, 'In 4 gepubliceerde blokken zijn daarnaast losse deelcijfers weggelaten', 'total A, B and TGO A, B');
});

t.test('sectorkamer page: group and programme rows', async (t) => {
  const sk = page(await site(), sectorkamerFile('TGO'));
  t.same(cells(rowHtml(sk, 'Hele sectorkamer')), TGO_CELLS, 'the sectorkamer row');
  t.match(sk, '<tr id="g-TGO"><th scope="row">Hele sectorkamer</th>');
  t.same(
    cells(rowHtml(sk, `${ENTREE}, niveau 1, BOL`)),
    [...A_N1_CELLS, num('2'), withheld(MININST, 4)],
    'the programme: block B withheld whole (all its slots null)',
  );
  t.same(
    cells(rowHtml(sk, '2024-2025')),
    [
      num('9,7%'),
      num('3,0%'),
      { span: 1, cls: 'sup', text: 'niet gepubliceerd' },
      num('6,0%'),
      num('15,0%'),
      num('85,0%'),
      num('4,5%'),
    ],
    'series of the sectorkamer: chronic absence withheld',
  );
  t.equal(count(sk, 'niet gepubliceerd: '), 2, 'TGO chronic absence and the programme block B');
});

t.test('tables stay whole: every row fills the columns, no empty cell, no code or NaN', async (t) => {
  const files = await site();
  for (const name of [SITE_FILES.index, sectorkamerFile('TGO')]) {
    const html = page(files, name);
    t.notMatch(html, /NaN|undefined|Infinity|null|secondary|min_population|min_institutions|a_hist|b_sum_xy/, name);
    for (const table of html.matchAll(/<table[^>]*>([\s\S]*?)<\/table>/g)) {
      const body = table[1] ?? '';
      const head = body.slice(0, body.indexOf('</thead>'));
      const caption = body.match(/<caption>([^<]*)<\/caption>/)?.[1] ?? '';
      t.ok(caption.length > 0, `${name}: the table has a caption`);
      const ths = head.match(/<th[\s>]/g)?.length ?? 0;
      t.ok(ths > 0 && ths === count(head, '<th scope="col'), `${caption}: every header cell has a column scope`);
      // The figure tables have 11 data columns; the series table one per figure of the site.
      const columns = head.includes('Instellingen') ? 11 : 7;
      for (const row of body.slice(body.indexOf('<tbody>')).matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)) {
        const r = row[1] ?? '';
        t.equal(count(r, '<th scope="row">'), 1, `${caption}: one row header`);
        const cs = cells(r);
        t.equal(
          cs.reduce((a, c) => a + c.span, 0),
          columns,
          `${caption}: ${r.slice(16, 60)} fills ${columns} columns`,
        );
        t.ok(
          cs.every((c) => c.text.trim() !== ''),
          `${caption}: no empty cell for a screen reader to skip`,
        );
      }
    }
  }
});

t.test('machine CSV: header unchanged, a withheld slot empty with its rule', async (t) => {
  const csv = renderReleaseCsv(release());
  t.ok(csv.endsWith('\r\n'));
  const lines = csv.slice(0, -2).split('\r\n');
  t.equal(lines[0], 'row_type,key,slot,value,suppressed_rule,institutions_a,institutions_b', 'header as before');
  // 4 rows (1 cell, 3 rollups) of 21 block A and 19 block B slots, no distributions.
  t.equal(lines.length, 1 + 4 * 40, 'one line per slot');
  const has = (line: string) => t.ok(lines.includes(line), line);
  has('group,total,a_min_abs_unauth,,secondary,8,8');
  has('group,total,b_progressed,,secondary,8,8');
  has('group,total,b_sum_xy,,secondary,8,8');
  has('group,total,a_min_abs_auth,120000,,8,8');
  has('group,total,b_starters,300,,8,8');
  has('group,sectorkamer|TGO,a_hist_4,,secondary,6,6');
  has('group,sectorkamer|TGO,b_early_dropout_1,,secondary,6,6');
  has('group,sectorkamer|TGO,b_sum_xy,,secondary,6,6');
  has('group,sectorkamer|TGO,a_hist_3,20,,6,6');
  has('group,sectorkamer|TGO,b_early_dropout_0,6,,6,6');
  has('group,niveau|1,a_enrolments,125,,4,4');
  has('group,niveau|1,b_starters,,min_population,4,4');
  has('group,niveau|1,b_retained,,min_population,4,4');
  has('cell,98767|1|BOL,b_starters,,min_institutions,4,2');
  // Empty values: total 3 + TGO 3 + niveau 1 block B 19 + the cell's block B 19.
  const empty = lines.slice(1).filter((l) => l.split(',')[3] === '');
  t.equal(empty.length, 44, 'exactly the withheld slots are empty');
  t.ok(
    empty.every((l) => (l.split(',')[4] ?? '') !== ''),
    'each with its rule',
  );
  t.ok(
    lines.slice(1).every((l) => l.split(',').length === 7 && !/NaN|undefined|null/.test(l)),
    '7 fields, no NaN',
  );
});

t.test('Excel CSV: a derived figure needing a withheld slot is empty with the reason', async (t) => {
  const names = namesOfManifest(manifest());
  const xl = renderReleaseExcelCsv(release(), names);
  const lines = xl
    .replace(/^\ufeff/, '')
    .slice(0, -2)
    .split('\r\n');
  t.equal(
    lines[0],
    'soort;sleutel;naam;cijfer;waarde;niet gepubliceerd omdat;instellingen verzuim;instellingen uitval',
    'header as before',
  );
  const fig = (key: string, label: string) => {
    const hit = lines.filter((l) => l.split(';')[1] === key && l.split(';')[3] === label);
    if (hit.length !== 1) throw new Error(`${hit.length} lines for ${key} ${label}`);
    return (hit[0] ?? '').split(';').slice(4, 6);
  };
  t.same(fig('total', 'Verzuim (geoorloofd en ongeoorloofd)'), ['', SEC]);
  t.same(fig('total', 'Ongeoorloofd verzuim'), ['', SEC]);
  t.same(fig('total', 'Doorstroom naar een hoger niveau'), ['', SEC]);
  // 120.000 / 1.600.000 = 0,075 needs a_min_abs_auth only; 1.400.000 / 1.600.000 = 0,875.
  t.same(fig('total', 'Geoorloofd verzuim'), ['0,075', '']);
  t.same(fig('total', 'Aanwezigheid (van geregistreerde minuten)'), ['0,875', '']);
  t.same(fig('total', 'Aandeel met ≥ 10% verzuim'), ['0,15', '']);
  t.same(fig('total', 'Uitval jaar 1'), ['0,2', '']);
  t.same(fig('total', 'Overstap binnen de instelling'), ['0,04', ''], '12 / 300');
  t.same(fig('sectorkamer|TGO', 'Aandeel met ≥ 10% verzuim'), ['', SEC]);
  t.same(fig('sectorkamer|TGO', 'Doorstroom naar een hoger niveau'), ['0,045', ''], '9 / 200');
  t.same(fig('niveau|1', 'Startersresultaat'), ['', MINPOP], 'block withheld as a whole, not 0,75');
  t.same(fig('niveau|1', 'Verzuim (geoorloofd en ongeoorloofd)'), ['0,111111', ''], '50.000 / 450.000');
  t.same(fig(CELL, 'Uitval jaar 1'), ['', MININST]);

  // Derived figures withheld: total 3 (above), TGO 1 (chronic; band 1 and r are not in the CSV),
  // niveau 1 and the cell the 4 of block B each.
  const labels = new Set([
    'Aanwezigheid (van geregistreerde minuten)',
    'Verzuim (geoorloofd en ongeoorloofd)',
    'Geoorloofd verzuim',
    'Ongeoorloofd verzuim',
    'Registratiegraad',
    'Aandeel met ≥ 10% verzuim',
    'Aandeel met 16-uurssignaal',
    'Startersresultaat',
    'Uitval jaar 1',
    'Overstap binnen de instelling',
    'Doorstroom naar een hoger niveau',
    'Te laat per 100 lessen',
    'Aandeel met 16-uurssignaal, jonger dan 18',
  ]);
  const derived = lines.slice(1).filter((l) => labels.has(l.split(';')[3] ?? ''));
  t.equal(derived.length, 4 * 13, '13 derived figures per row');
  const withheldLines = derived.filter((l) => l.split(';')[5] !== '');
  t.equal(withheldLines.length, 3 + 1 + 4 + 4, 'exactly the figures needing a withheld slot');
  t.ok(
    withheldLines.every((l) => l.split(';')[4] === ''),
    'withheld figures have no value',
  );
  // Slots: a withheld slot empty with its reason; niveau 1's B slots with the block's.
  t.ok(lines.includes(`groep;total;Hele sector;b_progressed;;${SEC};8;8`));
  t.ok(lines.includes(`groep;niveau|1;Niveau 1;b_retained;;${MINPOP};4;4`));
  t.notMatch(xl, /NaN|undefined|null/);
});
