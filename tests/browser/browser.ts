/**
 * Real-browser helpers for the page tests: Debian's chromium driven by playwright-core, axe-core
 * injected into each page, console errors collected, links checked, screenshots written.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { repoRoot } from '../helpers/paths.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests; .ci/run installs it`;
}

/** Where screenshots go (tap's output folder, not committed). */
export const SHOTS = join(repoRoot, '.tap', 'browser-screenshots');

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A context for one page type; CSP bypassed only so axe can be injected into served pages. */
export async function context(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 900 } });
}

export interface Opened {
  page: Page;
  errors: string[];
}

/** Open a URL and collect console errors and page errors. */
export async function open(ctx: BrowserContext, url: string): Promise<Opened> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const res = await page.goto(url, { waitUntil: 'load' });
  if (res && !res.ok() && !url.startsWith('file:')) errors.push(`HTTP ${res.status()} for ${url}`);
  return { page, errors };
}

/** axe-core violations of impact serious or critical (WCAG 2.x A/AA and best practices). */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  await page.addScriptTag({ content: axe.source });
  const result = (await page.evaluate(async () => {
    const w = globalThis as unknown as { axe: { run: (o: unknown) => Promise<unknown> } };
    return w.axe.run({ resultTypes: ['violations'] });
  })) as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}

/** Every link's href resolved against the page, with its fragment. */
export async function links(page: Page): Promise<string[]> {
  return page.$$eval('a[href]', (as) => as.map((a) => (a as unknown as { href: string }).href));
}

/** Whether a link resolves: a fragment to an element on its page, a file on disk, a 200 when served. */
export async function linkResolves(ctx: BrowserContext, page: Page, href: string): Promise<boolean> {
  const u = new URL(href);
  const here = new URL(page.url());
  const samePage = u.origin === here.origin && u.pathname === here.pathname;
  if (samePage && u.hash) {
    const id = decodeURIComponent(u.hash.slice(1));
    return page
      .locator(`[id="${id.replace(/"/g, '\\"')}"]`)
      .count()
      .then((n) => n > 0);
  }
  if (u.protocol === 'file:') return existsSync(fileURLToPath(u));
  const r = await ctx.request.get(href);
  return r.ok();
}

/** Screenshots at 1,400 and 390 px; returns the page's scroll width at 390 px. */
export async function screenshots(
  page: Page,
  name: string,
): Promise<{ wide: string; narrow: string; narrowScroll: number }> {
  mkdirSync(SHOTS, { recursive: true });
  const wide = join(SHOTS, `${name}-1400.png`);
  const narrow = join(SHOTS, `${name}-390.png`);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.screenshot({ path: wide });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: narrow });
  const narrowScroll = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  await page.setViewportSize({ width: 1400, height: 900 });
  mkdirSync(dirname(wide), { recursive: true });
  return { wide, narrow, narrowScroll };
}
