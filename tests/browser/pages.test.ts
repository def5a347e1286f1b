// Every page type in a real browser (Debian's chromium via playwright-core): the publication
// site from disk (file://) and served by the coordinator, each institution's comparison from
// disk. No console errors, key figures equal the release and the node's own vector, every link
// resolves, no serious or critical axe-core violation, no page-wide horizontal scroll at 390 px,
// screenshots at 1,400 and 390 px under .tap/browser-screenshots/. The sector is the small
// case of the issue: 3 institutions x 200 students, where most programmes are offered by fewer
// than 3 institutions; no page may say "0 / 0 … onderdrukt".
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { approveAsPrivacyOfficer } from '../../demo/approve.js';
import { renderOfficerView } from '../../node/audit/officer-view.js';
import {
  closeAndRelease,
  savePublishedRelease,
  setupLocalRound,
  submitAll,
  writeAllBenchmarks,
} from '../../demo/local-round.js';
import type { Release } from '../../schemas/release.js';
import { synthesize } from '../../synth/run-synth.js';
import {
  browserMissing,
  context,
  launch,
  linkResolves,
  links,
  open,
  screenshots,
  seriousViolations,
  SHOTS,
} from './browser.js';

// A real browser on a shared 2-core machine: axe-core alone takes up to a minute on the
// comparison page, so this file gets more than tap's default.
t.setTimeout(45 * 60 * 1000);

const missing = browserMissing();
if (missing) {
  t.comment(`SKIP browser tests: ${missing}`);
  t.pass(`skipped: ${missing}`);
} else {
  t.test('every page type in chromium (3 institutions x 200 students)', async (t) => run(t));
}

const pct = new Intl.NumberFormat('nl-NL', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const int = new Intl.NumberFormat('nl-NL');
const P = (x: number) => pct.format(x).replace(/\u00a0/g, '');

type Row = Record<string, number>;

/** A released round of 3 synthetic institutions x 200 students: its published site and each comparison. */
async function releasedRound(t: Test) {
  const out = t.testdir();
  const s = await synthesize({
    out: join(out, 'data'),
    institutions: 3,
    students: 200,
    seed: '1',
    year: 2024,
    progress: false,
  });
  const round = await setupLocalRound({
    out,
    codebook: s.codebook,
    institutions: s.institutions.map((inst, i) => ({
      id: `inst-${i + 1}`,
      enrolments: inst.enrolments,
      attendance: inst.attendance,
    })),
    year: 2024,
    log: () => {},
  });
  t.teardown(() => round.stop());
  await submitAll(round, approveAsPrivacyOfficer);
  await closeAndRelease(round);
  const published = await savePublishedRelease(round);
  const comparisons = await writeAllBenchmarks(round);
  const release = JSON.parse(readFileSync(published.json, 'utf8')) as Release;
  const served = `${round.coordinator.url}/v1/rounds/${encodeURIComponent(round.roundId)}/site/`;
  const siteFiles = readdirSync(published.site).filter((f) => f.endsWith('.html'));
  t.ok(siteFiles.length >= 2, `site pages: ${siteFiles.join(', ')}`);
  return { out, round, published, comparisons, release, served, siteFiles };
}

type Released = Awaited<ReturnType<typeof releasedRound>>;
type Check = ReturnType<typeof makeCheck>;

/**
 * Open a page and check what every page must hold (no console errors, one h1, lang, no script,
 * scoped th, links resolve; optionally axe-core and screenshots at 1,400 and 390 px).
 */
function makeCheck(ctx: Awaited<ReturnType<typeof context>>) {
  return async (t: Test, url: string, name: string, shots: boolean, scan = true) => {
    const { page, errors } = await open(ctx, url);
    t.same(errors, [], `${name}: no console errors`);
    t.equal(await page.locator('h1').count(), 1, `${name}: one h1`);
    t.equal(await page.getAttribute('html', 'lang'), 'nl', `${name}: lang="nl"`);
    t.equal(await page.locator('script').count(), 0, `${name}: no script needed`);
    const unscoped = await page.locator('th:not([scope])').count();
    t.equal(unscoped, 0, `${name}: every th has a scope`);
    const bad: string[] = [];
    for (const href of await links(page)) if (!(await linkResolves(ctx, page, href))) bad.push(href);
    t.same(bad, [], `${name}: every link resolves`);
    if (scan) t.same(await seriousViolations(page), [], `${name}: no serious or critical axe-core violation`);
    if (shots) {
      const sh = await screenshots(page, name);
      t.ok(sh.narrowScroll <= 390, `${name}: no page-wide horizontal scroll at 390 px (${sh.narrowScroll})`);
    }
    return page;
  };
}

/** The vector a node sent (its acknowledged submission), from its database. */
function sentVector(home: string): { cells: Record<string, Row> } {
  const db = new Database(join(home, 'node.sqlite'), { readonly: true });
  const sent = db.prepare('SELECT vector_json FROM submission WHERE receipt_json IS NOT NULL').get() as {
    vector_json: string;
  };
  db.close();
  return JSON.parse(sent.vector_json) as { cells: Record<string, Row> };
}

/** Every site page from disk and served: no "0 / 0", no rule codes; the sector row equals the release. */
async function checkSite(t: Test, { release, published, served, siteFiles }: Released, check: Check): Promise<void> {
  const total = release.rollups.total as Release['rollups'][string];
  for (const [where, base] of [
    ['disk', pathToFileURL(`${published.site}/`).href],
    ['served', served],
  ] as const) {
    for (const f of siteFiles) {
      // axe-core on every page from disk, and on the overview and one sectorkamer page as served
      // (the served bytes are the same files; the scan is slow on this machine).
      const scan = where === 'disk' || f === 'index.html' || f === siteFiles.find((x) => x !== 'index.html');
      const page = await check(t, base + f, `site-${where}-${f.replace('.html', '')}`, where === 'disk', scan);
      const text = (await page.textContent('main')) ?? '';
      t.notMatch(text, /0\s*\/\s*0/, `${where} ${f}: no "0 / 0"`);
      t.notMatch(
        text,
        /onderdrukt|min_institutions|min_population|secondary\b|\|/,
        `${where} ${f}: no rule codes, keys or "onderdrukt"`,
      );
      if (f === 'index.html') {
        const row = page.locator('tr', { has: page.locator('th[scope=row]', { hasText: /^Hele sector$/ }) });
        const cells = (await row.first().locator('td').allTextContents()).map((x) => x.trim());
        t.equal(cells[0], int.format(total.institutions.a), `${where}: institutions behind the sector = release`);
        if (total.slots.a_enrolments !== null && total.slots.a_enrolments !== undefined) {
          t.equal(cells[1], int.format(total.slots.a_enrolments), `${where}: enrolments = release`);
          const abs =
            ((total.slots.a_min_abs_auth as number) + (total.slots.a_min_abs_unauth as number)) /
            (total.slots.a_min_registered as number);
          t.equal(cells[2], P(abs), `${where}: sector absence rate = release`);
        }
        t.match(text, /worden door geen enkele deelnemende instelling aangeboden/);
      }
      await page.close();
    }
  }
  // Every offered programme of the release has its row; programmes nobody offers read as such.
  const notOffered = Object.values(release.cells).filter((r) => r.institutions.a === 0 && r.institutions.b === 0);
  const pages = siteFiles.map((f) => readFileSync(join(published.site, f), 'utf8')).join('\n');
  const listed = pages.match(/<h2 id="niet-aangeboden">/g)?.length ?? 0;
  t.ok(notOffered.length === 0 || listed > 0, `${notOffered.length} programmes nobody offers are listed as such`);
}

/** Each institution's comparison: own figures equal its own vector, the sector without it the release minus it. */
async function checkComparisons(t: Test, { release, round, comparisons }: Released, check: Check): Promise<void> {
  for (const [id, files] of comparisons) {
    const home = round.nodes.find((n) => n.id === id)?.home as string;
    const own = sentVector(home);
    const sum = (s: string) => Object.values(own.cells).reduce((a, r) => a + (r[s] ?? 0), 0);
    const ownAbs = (sum('a_min_abs_auth') + sum('a_min_abs_unauth')) / sum('a_min_registered');
    const first = id === 'inst-1';
    const page = await check(t, pathToFileURL(files.html).href, `comparison-${id}`, first, first);
    const row = page.locator('#overzicht ~ div table tbody tr').first();
    const cells = (await row.locator('td').allTextContents()).map((x) => x.trim());
    t.equal(cells[0], int.format(sum('a_enrolments')), `${id}: own enrolments = own vector`);
    t.equal(cells[1], P(ownAbs), `${id}: own absence rate = own vector`);
    const total = release.rollups.total as Release['rollups'][string];
    if (total.slots.a_min_registered != null) {
      const s = total.slots as Row;
      const wo =
        ((s.a_min_abs_auth ?? 0) + (s.a_min_abs_unauth ?? 0) - sum('a_min_abs_auth') - sum('a_min_abs_unauth')) /
        ((s.a_min_registered ?? 0) - sum('a_min_registered'));
      t.equal(cells[2], P(wo), `${id}: sector without us = release minus own vector`);
    }
    t.match(cells[3] ?? '', /^(●|▲|▼)/, `${id}: verdict with a symbol`);
    const text = (await page.textContent('main')) ?? '';
    t.notMatch(
      text,
      /sectorkamer_niveau\||\btotal\b|onderdrukt|min_institutions/,
      `${id}: no internal keys or rule codes`,
    );
    t.ok((await page.locator('figure.chart svg').count()) > 0, `${id}: charts rendered as SVG`);
    await page.close();
  }
}

/** The privacy officer's audit view: a figure that left equals the sent vector, with approval and times. */
async function checkOfficerView(t: Test, { round, out }: Released, check: Check): Promise<void> {
  const node = round.nodes[0] as (typeof round.nodes)[number];
  const file = join(out, `audit-${node.id}.html`);
  writeFileSync(file, await renderOfficerView({ home: node.home }));
  const own = sentVector(node.home);
  const page = await check(t, pathToFileURL(file).href, `audit-${node.id}`, true);
  const [key, row] = Object.entries(own.cells)[0] as [string, Row];
  const table = page.locator('table', { has: page.locator('caption', { hasText: `Cel ${key}` }) });
  const enrol = table
    .locator('tr', { has: page.locator('code', { hasText: /^a_enrolments$/ }) })
    .locator('td')
    .first();
  t.equal(
    (await enrol.textContent())?.trim(),
    int.format(row.a_enrolments ?? 0),
    'a figure that left = the sent vector',
  );
  t.match((await page.textContent('aside.proof')) ?? '', /✓ voor precies deze cijfers/, 'approval beside the figures');
  t.match((await page.textContent('aside.proof')) ?? '', /Nederlandse tijd/, 'times in Europe/Amsterdam');
  await page.close();
}

async function run(t: Test) {
  const r = await releasedRound(t);
  const browser = await launch();
  t.teardown(() => browser.close());
  const ctx = await context(browser);

  const check = makeCheck(ctx);
  t.test('publication site, from disk and served', async (t) => checkSite(t, r, check));
  t.test('comparison of each institution, from disk', async (t) => checkComparisons(t, r, check));
  t.test("privacy officer's audit view, from disk", async (t) => checkOfficerView(t, r, check));
  t.comment(`screenshots in ${SHOTS}`);
}
