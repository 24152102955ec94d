import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launch, panelsSettled, signIn, type WatchedPage, watchedPage } from './browser.ts';
import { seedWeb, type WebSeed } from './seed-web.ts';
import { ADMIN_KEY, createKey, sql, startWebService } from './support.ts';

/**
 * The web view in Debian's Chromium against a real service over seeded data: every generated
 * dashboard drawn panel by panel, numbers on screen against raw SQL over the same range,
 * variables and time range, a user key without money, a wrong key.
 */
type Svc = Awaited<ReturnType<typeof startWebService>>;
let svc: Svc;
let seed: WebSeed;
let chrome: Awaited<ReturnType<typeof launch>>;
let userKey: string;
let dashboards: { uid: string; title: string; panels: number }[];
/** The range every check uses: 7 days ending now, starting on the hour (rollups are hourly). */
let from: number;
let to: number;

const usd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

beforeAll(async () => {
  svc = await startWebService('browser');
  seed = await seedWeb(svc);
  userKey = await createKey(svc, 'acme', 'user');
  to = Math.floor(Date.now() / 60_000) * 60_000;
  from = Math.floor((to - 7 * 86_400_000) / 3_600_000) * 3_600_000;
  const res = await fetch(`${svc.url}/api/v1/dashboards`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  dashboards = ((await res.json()) as { dashboards: typeof dashboards }).dashboards;
  chrome = await launch();
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  await svc?.close();
});

async function adminPage(): Promise<WatchedPage> {
  const w = await watchedPage(chrome.browser, svc.url);
  await signIn(w.page, svc.url, ADMIN_KEY);
  return w;
}

async function openDashboard(page: Page, uid: string, params = `from=${from}&to=${to}`): Promise<void> {
  await page.goto('about:blank');
  await page.goto(`${svc.url}/#/d/${uid}?${params}`);
  await page.locator('.grid').waitFor();
  await panelsSettled(page);
}

const panel = (page: Page, title: string) =>
  page.locator('section.panel', { has: page.locator(`header:text-is("${title}")`) });
const statText = (page: Page, title: string) => panel(page, title).locator('.stat-value').innerText();
async function cell(page: Page, title: string, keyCol: string, key: string, col: string): Promise<string> {
  const row = panel(page, title).locator('tbody tr', {
    has: page.locator(`td[data-col="${keyCol}"]:text-is("${key}")`),
  });
  return row.locator(`td[data-col="${col}"]`).innerText();
}

/** Raw SQL over ai_calls for the same range as the hourly rollup's $__timeFilter(hour). */
const inRange = (f: number, t: number) =>
  `toStartOfHour(timestamp) >= fromUnixTimestamp64Milli(${f}) AND toStartOfHour(timestamp) <= fromUnixTimestamp64Milli(${t})`;

async function one(query: string): Promise<number> {
  const [row] = await sql<{ v: number | string }>(svc, query.replace(/^SELECT /, 'SELECT ').trim());
  return Number(row?.v ?? 0);
}

describe('every generated dashboard in Chromium', () => {
  it('lists all the generated dashboards', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual([
      'tokenmeter-alerts',
      'tokenmeter-anomalies',
      'tokenmeter-budgets',
      'tokenmeter-models',
      'tokenmeter-overview',
      'tokenmeter-pipeline',
      'tokenmeter-reconciliation',
      'tokenmeter-users',
    ]);
  });

  it('draws every panel of every dashboard with no console error or failed request, and screenshots it', async () => {
    const w = await adminPage();
    const empty: string[] = [];
    for (const d of dashboards) {
      await openDashboard(w.page, d.uid);
      const states = await w.page.locator('section.panel').evaluateAll((els) =>
        els.map((e) => ({
          title: e.querySelector('header')?.textContent ?? '',
          type: e.getAttribute('data-panel-type'),
          state: e.getAttribute('data-state'),
          rows: Number(e.getAttribute('data-rows')),
          drawn: !!e.querySelector('.uplot canvas, .stat-value, table, .bar-row, .pie, .no-data'),
          error: e.querySelector('.panel-error')?.textContent ?? '',
        })),
      );
      expect(states, d.uid).toHaveLength(d.panels);
      for (const s of states) {
        expect({ dash: d.uid, ...s }).toMatchObject({ state: 'drawn', drawn: true, error: '' });
        if (s.rows === 0) empty.push(`${d.uid}: ${s.title}`);
      }
      await w.page.screenshot({ path: `${ARTIFACTS}${d.uid}.png`, fullPage: true });
    }
    // Seeded data reaches every panel: only the band-excess table may be empty (no hour above 3 sigma).
    expect(empty.filter((e) => !e.endsWith('Hours above the band'))).toEqual([]);
    expect(w.problems).toEqual([]);
    expect(w.external).toEqual([]);
    await w.context.close();
  });
});

describe('numbers on screen equal raw SQL over the same range', () => {
  let w: WatchedPage;
  beforeAll(async () => {
    w = await adminPage();
  });
  afterAll(async () => {
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('overview: cost in range, unpriced calls and spend today', async () => {
    await openDashboard(w.page, 'tokenmeter-overview');
    const cost = await one(`SELECT sum(cost_usd) AS v FROM ai_calls WHERE ${inRange(from, to)}`);
    expect(cost).toBeGreaterThan(0);
    expect(await statText(w.page, 'Cost in range')).toBe(usd(cost));
    const unpriced = await one(`SELECT countIf(cost_usd IS NULL) AS v FROM ai_calls WHERE ${inRange(from, to)}`);
    expect(unpriced).toBeGreaterThan(0);
    expect(await statText(w.page, 'Unpriced calls')).toBe(count(unpriced));
    const dayStart = Date.UTC(new Date(to).getUTCFullYear(), new Date(to).getUTCMonth(), new Date(to).getUTCDate());
    const today = await one(`SELECT sum(cost_usd) AS v FROM ai_calls WHERE ${inRange(dayStart, to)}`);
    expect(await statText(w.page, 'Spend today')).toBe(usd(today));
  });

  it('models: calls and cost per model in the table, cost share in the pie', async () => {
    await openDashboard(w.page, 'tokenmeter-models');
    const rows = await sql<{ model: string; calls: string; cost: number }>(
      svc,
      `SELECT model, count() AS calls, toFloat64(sum(cost_usd)) AS cost FROM ai_calls WHERE ${inRange(from, to)} GROUP BY model`,
    );
    expect(rows.length).toBeGreaterThan(3);
    for (const r of rows) {
      expect(await cell(w.page, 'Models in range', 'model', r.model, 'calls')).toBe(count(Number(r.calls)));
      if (r.cost > 0) expect(await cell(w.page, 'Models in range', 'model', r.model, 'cost')).toBe(usd(r.cost));
    }
    const openai = await one(
      `SELECT sum(cost_usd) AS v FROM ai_calls WHERE provider = 'openai' AND ${inRange(from, to)}`,
    );
    const slice = panel(w.page, 'Cost share by provider').locator('li', {
      has: w.page.locator('.pie-label:text-is("openai")'),
    });
    expect(await slice.locator('.pie-value').innerText()).toBe(usd(openai));
  });

  it('users: calls and all-time cost per user in the table, top spender in the bar gauge', async () => {
    await openDashboard(w.page, 'tokenmeter-users');
    const rows = await sql<{ user_id: string; calls: string; cost: number }>(
      svc,
      `SELECT user_id, count() AS calls, toFloat64(sum(cost_usd)) AS cost FROM ai_calls
       WHERE toDate(timestamp) <= toDate(fromUnixTimestamp64Milli(${to})) GROUP BY user_id ORDER BY cost DESC`,
    );
    for (const r of rows) {
      expect(await cell(w.page, 'Per user: today, month, all time', 'user_id', r.user_id, 'calls')).toBe(
        count(Number(r.calls)),
      );
      expect(await cell(w.page, 'Per user: today, month, all time', 'user_id', r.user_id, 'all_time')).toBe(
        usd(r.cost),
      );
    }
    const top = await sql<{ user_id: string; cost: number }>(
      svc,
      // Top spenders reads the per-user daily rollup: the range counts in whole UTC days.
      `SELECT user_id, toFloat64(sum(cost_usd)) AS cost FROM ai_calls
       WHERE toDate(timestamp) BETWEEN toDate(fromUnixTimestamp64Milli(${from})) AND toDate(fromUnixTimestamp64Milli(${to}))
       GROUP BY user_id ORDER BY cost DESC LIMIT 1`,
    );
    const bar = panel(w.page, 'Top spenders').locator('.bar-row').first();
    expect(await bar.locator('.bar-label').innerText()).toBe(top[0]?.user_id);
    expect(await bar.locator('.bar-value').innerText()).toBe(usd(top[0]?.cost ?? 0));
  });

  it('budgets: spend of the hard monthly budget in the hard-limited table, percent in the gauge', async () => {
    await openDashboard(w.page, 'tokenmeter-budgets');
    const month = Date.UTC(new Date(to).getUTCFullYear(), new Date(to).getUTCMonth(), 1);
    const spent = await one(
      `SELECT sum(cost_usd) AS v FROM ai_calls WHERE tenant = 'acme' AND timestamp >= fromUnixTimestamp64Milli(${month})
       AND toDate(timestamp) <= toDate(fromUnixTimestamp64Milli(${to}))`,
    );
    expect(await cell(w.page, 'Hard-limited scopes', 'name', 'acme monthly', 'spent_usd')).toBe(usd(spent));
    const pct = (100 * spent) / 40;
    const gauge = panel(w.page, 'Percent used').locator('.bar-row', {
      has: w.page.locator('.bar-label:text-is("acme monthly")'),
    });
    expect(Number((await gauge.locator('.bar-value').innerText()).replace('%', ''))).toBeCloseTo(pct, 1);
  });

  it('alerts, anomalies, reconciliation and pipeline: stats and tables against their tables', async () => {
    await openDashboard(w.page, 'tokenmeter-alerts');
    const firing = await one(
      `SELECT countIf(s = 'firing') AS v FROM (SELECT argMax(state, ts) AS s FROM alert_events GROUP BY tenant, fingerprint)`,
    );
    expect(firing).toBe(3);
    expect(await statText(w.page, 'Firing now')).toBe(count(firing));
    expect(await panel(w.page, 'History').locator('tbody tr').count()).toBe(
      await one(`SELECT count() AS v FROM (SELECT 1 FROM alert_events GROUP BY tenant, fingerprint, state)`),
    );
    expect(await cell(w.page, 'History', 'scope', 'user=alice', 'observed')).toBe('1.80');

    await openDashboard(w.page, 'tokenmeter-anomalies');
    expect(await cell(w.page, 'Anomaly alerts raised', 'alertname', 'CostSpike', 'observed')).toBe(usd(3.2));

    await openDashboard(w.page, 'tokenmeter-reconciliation');
    const drift = await one(
      `SELECT count() AS v FROM reconciliation WHERE status = 'drift' AND dimension = 'total'
       AND day >= toDate(fromUnixTimestamp64Milli(${from})) AND day <= toDate(fromUnixTimestamp64Milli(${to}))`,
    );
    expect(drift).toBe(2);
    expect(await statText(w.page, 'Days with drift')).toBe(count(drift));
    const billed = await one(`SELECT toFloat64(sum(billed_usd)) AS v FROM reconciliation WHERE provider = 'openai'`);
    const shown = await panel(w.page, 'Latest checks')
      .locator('tbody tr', { has: w.page.locator('td[data-col="provider"]:text-is("openai")') })
      .locator('td[data-col="billed_usd"]')
      .allInnerTexts();
    const sumShown = shown.reduce((a, t) => a + Number(t.replace(/[$,]/g, '')), 0);
    expect(sumShown).toBeCloseTo(billed, 1);

    await openDashboard(w.page, 'tokenmeter-pipeline');
    const share = await one(
      `SELECT round(100 * sumIf(value, metric = 'spans_rejected') / sumIf(value, metric = 'spans_received'), 2) AS v
       FROM ingest_stats WHERE ts >= toDateTime(${Math.floor(from / 1000)}) AND ts <= toDateTime(${Math.floor(to / 1000)})`,
    );
    expect(await statText(w.page, 'Rejected share')).toBe(`${share.toFixed(2)}%`);
  });

  it('a variable and the time range change the numbers accordingly', async () => {
    await openDashboard(w.page, 'tokenmeter-overview');
    const all = await statText(w.page, 'Cost in range');
    // Pick model gpt-4o in the dropdown filled by the variable's own query.
    await w.page.locator('[data-var="model"] .var-button').click();
    const options = await w.page.locator('[data-var="model"] .var-option').allInnerTexts();
    expect(options).toEqual([
      'All',
      'acme-llm-7b',
      'claude-haiku-4-5',
      'claude-sonnet-4-5',
      'gemini-2.5-flash',
      'gpt-4o',
      'gpt-4o-mini',
    ]);
    await w.page.locator('[data-var="model"] .var-option[data-value="gpt-4o"] input').check();
    await panelsSettled(w.page);
    const gpt4o = await one(`SELECT sum(cost_usd) AS v FROM ai_calls WHERE model = 'gpt-4o' AND ${inRange(from, to)}`);
    expect(await statText(w.page, 'Cost in range')).toBe(usd(gpt4o));
    expect(usd(gpt4o)).not.toBe(all);
    expect(w.page.url()).toContain('var-model=gpt-4o');

    // Last 24 hours: the page resolves now-24h when it asks; read the range it used from its request.
    const asked = w.page.waitForRequest((r) => /\/api\/v1\/dashboards\/[\w-]+\/data\?/.test(r.url()));
    await w.page.locator('.time-select').selectOption('now-24h');
    const url = new URL((await asked).url());
    await panelsSettled(w.page);
    const f = Number(url.searchParams.get('from'));
    const t = Number(url.searchParams.get('to'));
    expect(t - f).toBe(86_400_000);
    const day = await one(`SELECT sum(cost_usd) AS v FROM ai_calls WHERE model = 'gpt-4o' AND ${inRange(f, t)}`);
    expect(await statText(w.page, 'Cost in range')).toBe(usd(day));
    expect(day).toBeLessThan(gpt4o);

    // Custom range: two days, ending a day ago.
    const cf = from + 2 * 86_400_000;
    const ct = cf + 2 * 86_400_000;
    await w.page.locator('.time-select').selectOption('custom');
    await w.page.locator('.time-from').fill(new Date(cf).toISOString().slice(0, 16));
    await w.page.locator('.time-to').fill(new Date(ct).toISOString().slice(0, 16));
    await w.page.locator('.time-apply').click();
    await panelsSettled(w.page);
    const custom = await one(`SELECT sum(cost_usd) AS v FROM ai_calls WHERE model = 'gpt-4o' AND ${inRange(cf, ct)}`);
    expect(await statText(w.page, 'Cost in range')).toBe(usd(custom));

    // Back to All: the first number again.
    await w.page.locator('[data-var="model"] .var-button').click();
    await w.page.locator('[data-var="model"] .var-option[data-value="All"] input').check();
    await panelsSettled(w.page);
    await openDashboard(w.page, 'tokenmeter-overview');
    expect(await statText(w.page, 'Cost in range')).toBe(all);
  });

  it('auto-refresh redraws the panels on its own', async () => {
    const r = await watchedPage(chrome.browser, svc.url);
    await r.page.clock.install();
    await signIn(r.page, svc.url, ADMIN_KEY);
    await openDashboard(r.page, 'tokenmeter-overview', `from=${from}&to=${to}&refresh=1m`);
    expect(await r.page.locator('.refresh-select').inputValue()).toBe('1m');
    const again = r.page.waitForRequest((q) => /\/api\/v1\/dashboards\/[\w-]+\/data\?/.test(q.url()), {
      timeout: 10_000,
    });
    await r.page.clock.runFor(61_000);
    expect((await again).url()).toContain('/api/v1/dashboards/tokenmeter-overview/data?');
    await panelsSettled(r.page);
    expect(r.problems).toEqual([]);
    await r.context.close();
  });

  it('a table row opens its calls, and a call opens in full', async () => {
    await openDashboard(w.page, 'tokenmeter-models');
    await panel(w.page, 'Models in range')
      .locator('tbody tr', { has: w.page.locator('td[data-col="model"]:text-is("gpt-4o")') })
      .click();
    await w.page.locator('main[data-page="calls"] tbody tr').first().waitFor();
    const models = await w.page.locator('main[data-page="calls"] td[data-col="model"]').allInnerTexts();
    expect(new Set(models)).toEqual(new Set(['gpt-4o']));
    const trace = await w.page.locator('main[data-page="calls"] td[data-col="trace_id"]').first().innerText();
    await w.page.locator('main[data-page="calls"] tbody tr').first().click();
    await w.page.locator('main[data-page="call"] .cards[data-page="call"]').waitFor();
    const [raw] = await sql<Record<string, string | number | null>>(
      svc,
      `SELECT input_tokens, output_tokens, toString(cost_usd) AS cost, price_id, trace_id FROM ai_calls WHERE trace_id = '${trace}'`,
    );
    expect(await w.page.locator('dd[data-field="trace id"]').innerText()).toBe(trace);
    expect(await w.page.locator('dd[data-field="input"]').innerText()).toBe(count(Number(raw?.input_tokens)));
    expect(await w.page.locator('dd[data-field="price"]').innerText()).toBe(String(raw?.price_id));
    expect(await w.page.locator('dd[data-field="estimated"]').innerText()).toBe('no');
    expect(await w.page.locator('dd[data-field="cost"]').innerText()).toBe(
      `$${Number(raw?.cost).toLocaleString('en-US', { minimumFractionDigits: 6, maximumFractionDigits: 6 })}`,
    );
    await w.page.screenshot({ path: `${ARTIFACTS}call.png`, fullPage: true });
  });

  it('the budgets page shows each budget with spend, bar, projection and alert history', async () => {
    await w.page.goto(`${svc.url}/#/budgets?tenant=acme`);
    await w.page.locator('.card.budget').first().waitFor();
    expect(await w.page.locator('.card.budget').count()).toBe(3);
    const alice = w.page.locator(`.card.budget[data-budget="${seed.budgetIds[2]}"]`);
    expect(await alice.locator('ul.alerts li').allInnerTexts()).toEqual([expect.stringContaining('90% · firing')]);
    // The service's projection (run-rate of the trailing days, with its band): test/web/admin.test.ts checks the figures.
    expect(await alice.locator('dd[data-field="projection"]').innerText()).toMatch(
      /^\$[\d,.]+ \(\d+%\)(, likely \$[\d,.]+–\$[\d,.]+)?, from 7 days$/,
    );
    await w.page.screenshot({ path: `${ARTIFACTS}budgets.png`, fullPage: true });
  });
});

describe('keys', () => {
  it('a user key sees tokens and counts on every page, and never a dollar sign', async () => {
    const w = await watchedPage(chrome.browser, svc.url);
    await signIn(w.page, svc.url, userKey);
    const res = await fetch(`${svc.url}/api/v1/dashboards`, { headers: { authorization: `Bearer ${userKey}` } });
    const visible = ((await res.json()) as { dashboards: { uid: string }[] }).dashboards.map((d) => d.uid);
    expect(visible.length).toBeGreaterThanOrEqual(4);
    expect(visible).not.toContain('tokenmeter-pipeline'); // spans every tenant
    const pages: string[] = ['#/', '#/calls?from=now-7d', ...visible.map((uid) => `#/d/${uid}?from=${from}&to=${to}`)];
    for (const p of pages) {
      await w.page.goto(`${svc.url}/${p}`);
      if (p.startsWith('#/d/')) await panelsSettled(w.page);
      else await w.page.locator('main h1').waitFor();
      const text = await w.page.locator('body').innerText();
      expect(text, p).not.toContain('$');
      expect(await w.page.content(), p).not.toContain('$');
      expect(await w.page.locator('section.panel[data-state="error"]').count(), p).toBe(0);
    }
    // One call, from the calls list: tokens, no cost.
    await w.page.goto(`${svc.url}/#/calls?from=now-7d`);
    await w.page.locator('main[data-page="calls"] tbody tr').first().click();
    await w.page.locator('main[data-page="call"] .cards[data-page="call"]').waitFor();
    expect(await w.page.locator('body').innerText()).not.toContain('$');
    expect(await w.page.locator('dd[data-field="input"]').innerText()).toMatch(/^[\d,]+$/);
    await w.page.goto(`${svc.url}/#/d/tokenmeter-overview?from=${from}&to=${to}`);
    await panelsSettled(w.page);
    await w.page.screenshot({ path: `${ARTIFACTS}overview-user-key.png`, fullPage: true });
    // An acme key counts acme's calls only, whatever the tenant variable says.
    const unpriced = await one(
      `SELECT countIf(cost_usd IS NULL) AS v FROM ai_calls WHERE tenant = 'acme' AND ${inRange(from, to)}`,
    );
    expect(await statText(w.page, 'Unpriced calls')).toBe(count(unpriced));
    expect(await w.page.locator('[data-var="tenant"] .var-option').allInnerTexts()).toEqual(['All', 'acme']);
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('a wrong key gets the sign-in page, and the panel endpoint answers 401/403', async () => {
    const w = await watchedPage(chrome.browser, svc.url);
    await w.page.goto(`${svc.url}/`);
    await w.page.locator('input[name="key"]').fill('not-a-key');
    await w.page.locator('form.signin button[type="submit"]').click();
    await expect.poll(() => w.page.locator('.signin-error').innerText()).toBe('That key was not accepted.');
    expect(await w.page.locator('nav.top').count()).toBe(0);
    // A key that was good and is wrong now (revoked, mistyped in storage): back to sign-in.
    await w.page.evaluate(() => sessionStorage.setItem('tokenmeter.key', 'stale-key'));
    await w.page.goto(`${svc.url}/#/d/tokenmeter-overview`);
    await w.page.locator('[data-page="signin"]').waitFor();
    await w.context.close();

    const url = `${svc.url}/api/v1/dashboards/tokenmeter-overview/panels/4/data?from=${from}&to=${to}`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ingestKey = await createKey(svc, 'acme', 'ingest');
    expect((await fetch(url, { headers: { authorization: `Bearer ${ingestKey}` } })).status).toBe(403);
    expect((await fetch(url, { headers: { authorization: `Bearer ${userKey}` } })).status).toBe(403); // money
  });
});
