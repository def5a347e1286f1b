// Issue 16, item 1 (Trends) in a real browser (Debian's chromium via playwright-core): after
// three studiejaren on one coordinator, the publication site (the overview and a sectorkamer
// page, saved from the coordinator) and an institution's comparison each have the series
// section with a chart per figure and the series table (a row per studiejaar), no serious or
// critical axe-core violation, and no page-wide horizontal scroll at 390 px.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { runTrendDemo } from '../helpers/trend-demo.js';
import { browserMissing, context, launch, open, screenshots, seriousViolations } from './browser.js';

t.setTimeout(45 * 60 * 1000);

const missing = browserMissing();
if (missing) {
  t.comment(`SKIP browser tests: ${missing}`);
  t.pass(`skipped: ${missing}`);
} else {
  t.test('series over three studiejaren in chromium', async (t) => {
    const demo = await runTrendDemo(t.testdir({}));
    const siteDir = join(demo.out, 'site');
    const sectorkamer = readdirSync(siteDir).find((f) => f.startsWith('sectorkamer-')) as string;
    const pages: [string, string, number][] = [
      ['trend-site-index', join(siteDir, 'index.html'), 7],
      ['trend-site-sectorkamer', join(siteDir, sectorkamer), 7],
      ['trend-comparison', join(demo.out, 'nodes', 'inst-1', 'benchmark', 'benchmark.html'), 7],
    ];
    const browser = await launch();
    t.teardown(() => browser.close());
    const ctx = await context(browser);
    for (const [name, file, charts] of pages) {
      const { page, errors } = await open(ctx, pathToFileURL(file).href);
      t.same(errors, [], `${name}: no console errors`);
      t.equal(await page.locator('h2#reeks').count(), 1, `${name}: the series section`);
      t.equal(
        await page.locator('.charts.trend figure.chart svg').count(),
        charts,
        `${name}: a chart per figure in the series section`,
      );
      t.equal(
        await page.locator('table#reeks-tabel tbody tr').count(),
        3,
        `${name}: the series table, a row per studiejaar`,
      );
      t.same(
        await page.locator('table#reeks-tabel tbody th[scope=row]').allTextContents(),
        ['2022-2023', '2023-2024', '2024-2025'],
        `${name}: the studiejaren as row headers`,
      );
      t.ok(
        (await page.locator('table#reeks-tabel caption').textContent())?.startsWith('Reeks per studiejaar'),
        `${name}: the table has a caption`,
      );
      const v = await seriousViolations(page);
      t.same(v, [], `${name}: no serious or critical axe-core violation`);
      const sh = await screenshots(page, name);
      t.ok(sh.narrowScroll <= 390, `${name}: no page-wide horizontal scroll at 390 px (${sh.narrowScroll})`);
      await page.close();
    }
  });
}
