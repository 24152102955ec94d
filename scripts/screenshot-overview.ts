/**
 * Makes docs/overview.png, the README's picture of the web view, from a real run:
 * `tokenmeter serve` (startServer) on a fresh embedded store with the demo `npm start` runs
 * (30 days of history through the ingest path, then live traffic from the real SDKs,
 * ingest/src/demo), and Debian's Chromium drawing the Overview dashboard over 7 days.
 *
 *   npm run build && npx tsx scripts/screenshot-overview.ts [--out docs/overview.png]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { readConfig } from '../ingest/src/config.ts';
import { startServer } from '../ingest/src/server.ts';
import { startDemo } from '../ingest/src/demo/start.ts';

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'docs/overview.png' } } });
const KEY = 'screenshot-admin-key';
const dataDir = mkdtempSync(join(tmpdir(), 'tm-screenshot-'));
const config = readConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  TOKENMETER_DATA_DIR: dataDir,
  TOKENMETER_ADMIN_KEY: KEY,
  TOKENMETER_DEMO: 'true',
  LOG_LEVEL: 'warn',
});
const svc = await startServer(config);
const demo = await startDemo(config, svc);
try {
  if (!demo) throw new Error('the demo did not start');
  await demo.ready;
  // Wait for the live traffic's first burst to land too.
  for (let i = 0; i < 60; i++) {
    const rs = await svc.store.reader.query({
      query: "SELECT count() AS n FROM ai_calls WHERE tenant = 'demo' AND scope_name != 'tokenmeter-demo-history'",
      format: 'JSONEachRow',
    });
    const [{ n } = { n: '0' }] = await rs.json<{ n: string }>();
    if (Number(n) >= 100) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await page.goto(`${svc.url}/`);
  await page.locator('input[name="key"]').fill(KEY);
  await page.locator('form.signin button[type="submit"]').click();
  await page.locator('nav.top').waitFor();
  await page.goto(`${svc.url}/#/d/tokenmeter-overview?from=now-7d&to=now`);
  await page.locator('.grid[data-pending="0"]').waitFor({ timeout: 60_000 });
  const failed = await page.locator('section.panel[data-state="error"]').count();
  if (failed > 0) throw new Error(`${failed} panels failed to draw`);
  mkdirSync(dirname(args.out as string), { recursive: true });
  await page.screenshot({ path: args.out as string, fullPage: true });
  await browser.close();
  console.log(`wrote ${args.out}`);
} finally {
  demo?.stop();
  await svc.close();
  rmSync(dataDir, { recursive: true, force: true });
}
