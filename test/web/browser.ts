import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run), driven by playwright-core: nothing downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/web/', import.meta.url));

export async function launch(): Promise<{ browser: Browser; close(): Promise<void> }> {
  // launch() gives Chromium a fresh temporary profile of its own (no --user-data-dir allowed here).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
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
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** A page whose console errors, failed requests and HTTP errors are collected. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  problems: string[];
  /** Every request the page made that left 127.0.0.1 (must stay empty: nothing from the internet). */
  external: string[];
}

export async function watchedPage(browser: Browser, baseUrl: string): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  const external: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A panel request aborted because a newer one replaced it is not a failure.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(baseUrl) && !r.url().startsWith('data:')) external.push(r.url());
  });
  return { page, context, problems, external };
}

/** Sign in through the sign-in form. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.locator('input[name="key"]').fill(key);
  await page.locator('form.signin button[type="submit"]').click();
  await page.locator('nav.top').waitFor();
}

/** Wait until every panel of the dashboard on screen has finished (drawn or failed). */
export async function panelsSettled(page: Page): Promise<void> {
  await page.locator('.grid[data-pending="0"]').waitFor({ timeout: 60_000 });
}
