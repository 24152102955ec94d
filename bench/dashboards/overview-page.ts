import { chromium } from 'playwright-core';

/**
 * The Overview drawn by Debian's Chromium in the built-in view, as bench/ui/overview.ts measures
 * it: a run is the time from the refresh click to the last panel drawn (requests, JSON, uPlot),
 * as the page itself records it (`data-drawn-ms`). One warm-up run first.
 */
export async function drawOverview(
  svc: { url: string },
  key: string,
  o: { from: number; to: number; runs: number },
): Promise<{ medianMs: number; runsMs: number[] }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1600, height: 1000 } })).newPage();
    await page.goto(`${svc.url}/`);
    await page.locator('input[name="key"]').fill(key);
    await page.locator('form.signin button[type="submit"]').click();
    await page.locator('nav.top').waitFor();
    await page.goto(`${svc.url}/#/d/tokenmeter-overview?from=${o.from}&to=${o.to}&refresh=`);
    await page.locator('.grid[data-pending="0"]').waitFor({ timeout: 300_000 });
    const errors = await page.locator('section.panel[data-state="error"]').count();
    if (errors > 0) throw new Error(`${errors} Overview panels failed to draw`);
    const runsMs: number[] = [];
    for (let i = 0; i <= o.runs; i++) {
      await page.locator('button[title="Refresh now"]').click();
      await page.locator('.grid[data-pending="0"]').waitFor({ timeout: 300_000 });
      if (i > 0) runsMs.push(Number(await page.locator('.grid').getAttribute('data-drawn-ms')));
    }
    const sorted = [...runsMs].sort((a, b) => a - b);
    return { medianMs: sorted[Math.floor(sorted.length / 2)] as number, runsMs };
  } finally {
    await browser.close();
  }
}
