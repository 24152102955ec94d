import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCalls } from '../support/seed.ts';
import { launch, signIn, type WatchedPage, watchedPage } from './browser.ts';
import { ADMIN_KEY, createKey, sql, startWebService } from './support.ts';

/**
 * The web view that acts, in Debian's Chromium against a real service over seeded calls: an
 * admin creates, edits and deletes a budget with the projection shown while typing, creates a
 * key (secret once, copy button) and signs in with it in a second browser context; a `read`
 * key sees no write control and its direct API writes get 403; price overrides set and end;
 * the advice page links each suggestion to its calls.
 */
type Svc = Awaited<ReturnType<typeof startWebService>>;
let svc: Svc;
let chrome: Awaited<ReturnType<typeof launch>>;
let adminKey: string;
const DAY = 86_400_000;

beforeAll(async () => {
  svc = await startWebService('admin_web');
  await seedCalls(svc.store, {
    tenant: 'acme',
    days: 12,
    end: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000),
    callsPerHour: 10,
    seed: 21,
  });
  // A service that runs without anyone waiting: the advice's batch-API rule has something to find.
  await seedCalls(svc.store, {
    tenant: 'acme',
    days: 12,
    end: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000),
    callsPerHour: 3,
    seed: 22,
    services: ['nightly-digest'],
    features: ['digest'],
  });
  adminKey = await createKey(svc, 'acme', 'admin');
  chrome = await launch();
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  await svc?.close();
});

const usd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

async function one(query: string): Promise<number> {
  const [row] = await sql<{ v: number | string }>(svc, query);
  return Number(row?.v ?? 0);
}

/** The projection of team `search`'s monthly spend, computed here from raw calls (not the rollups). */
async function expectedSearchMonth(amount: number): Promise<{ spent: number; projected: number; pct: number }> {
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const where = `tenant = 'acme' AND team = 'search'`;
  const spent = await one(
    `SELECT toFloat64(sum(ifNull(cost_usd, 0))) AS v FROM ai_calls WHERE ${where}
     AND timestamp >= fromUnixTimestamp64Milli(${monthStart}) AND timestamp < fromUnixTimestamp64Milli(${monthEnd})`,
  );
  const trailing = await one(
    `SELECT toFloat64(sum(ifNull(cost_usd, 0))) AS v FROM ai_calls WHERE ${where}
     AND timestamp >= fromUnixTimestamp64Milli(${today - 7 * DAY}) AND timestamp < fromUnixTimestamp64Milli(${today})`,
  );
  const projected = spent + (trailing / 7) * ((monthEnd - Date.now()) / DAY);
  return { spent, projected, pct: (100 * projected) / amount };
}

async function adminPage(key = adminKey): Promise<WatchedPage> {
  const w = await watchedPage(chrome.browser, svc.url);
  await w.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: svc.url });
  await signIn(w.page, svc.url, key);
  return w;
}

const card = (page: Page, name: string) => page.locator(`section.budget[data-name="${name}"]`);
const money = (text: string) => [...text.matchAll(/\$([\d,]+\.\d\d)/g)].map((m) => Number(m[1]!.replace(/,/g, '')));

describe('an admin key acts from the web view', () => {
  it('creates a budget with the projection shown while typing, sees it on the Budgets page, edits and deletes it', async () => {
    const { page, problems } = await adminPage();
    // A tenant's admin manages budgets and keys; price overrides are the installation's, so no Prices link.
    const nav = await page.locator('nav.top').innerText();
    expect(nav).toContain('API keys');
    expect(nav).not.toContain('Prices');
    await page.goto(`${svc.url}/#/budgets`);
    await page.locator('button[data-action="new-budget"]').click();
    const form = page.locator('form[data-form="budget"]');
    const preview = form.locator('[data-field="preview"]');
    // Before an amount is typed the preview says what is missing (the service's own 400).
    await form.locator('input[name="name"]').fill('Search monthly');
    await expect.poll(() => preview.getAttribute('data-state')).toBe('invalid');
    expect(await preview.innerText()).toMatch(/amountUsd must be a positive decimal/);
    await form.locator('input[name="team"]').fill('search');
    await form.locator('input[name="amountUsd"]').pressSequentially('50');
    await expect.poll(async () => (await preview.innerText()).includes('of $50.00')).toBe(true);
    expect(await preview.getAttribute('data-state')).toBe('ready');
    const want = await expectedSearchMonth(50);
    expect(want.spent).toBeGreaterThan(0);
    const [spent, amount, projected] = money(await preview.innerText());
    expect(spent).toBeCloseTo(want.spent, 2);
    expect(amount).toBe(50);
    expect(Math.abs(projected! - want.projected)).toBeLessThanOrEqual(0.011);
    // Typing changes the projection's percentage at once (before anything is saved).
    await form.locator('input[name="amountUsd"]').fill('100');
    await expect.poll(async () => (await preview.innerText()).includes('of $100.00')).toBe(true);
    expect(await preview.innerText()).toContain(`(${((100 * want.projected) / 100).toFixed(0)}%)`);
    await form.locator('input[name="amountUsd"]').fill('50');
    await expect.poll(async () => (await preview.innerText()).includes('of $50.00')).toBe(true);
    const previewed = await preview.innerText();
    await form.locator('button[type="submit"]').click();

    // On the Budgets page, with the projection the preview showed.
    const c = card(page, 'Search monthly');
    await c.waitFor();
    const spendShown = /^(.+) of \$50\.00 \(([\d.]+)%\)$/.exec(await c.locator('[data-field="spend"]').innerText());
    expect(spendShown?.[1]).toBe(usd(want.spent));
    // One decimal of the percent the service gives to two (truncated): within 0.06 of the exact
    // one, either neighbour at a boundary (12.955 % is shown 12.9 %).
    expect(Math.abs(Number(spendShown?.[2]) - (100 * want.spent) / 50)).toBeLessThanOrEqual(0.06 + 1e-9);
    const projection = await c.locator('[data-field="projection"]').innerText();
    expect(previewed).toContain(projection);
    expect(projection).toContain(`(${want.pct.toFixed(0)}%)`);
    const stored = await api<{
      budgets: { id: string; name: string; scope: { team: string }; amountUsd: string; mode: string }[];
    }>(adminKey, 'GET', '/api/v1/budgets');
    const created = stored.body.budgets.find((b) => b.name === 'Search monthly')!;
    expect(created).toMatchObject({ scope: { team: 'search' }, amountUsd: '50', mode: 'soft' });

    // Edit: amount and mode.
    await c.locator('button[data-action="edit"]').click();
    await form.locator('input[name="amountUsd"]').fill('80');
    await form.locator('select[name="mode"]').selectOption('hard');
    await expect.poll(async () => (await preview.innerText()).includes('of $80.00')).toBe(true);
    await form.locator('button[type="submit"]').click();
    await expect
      .poll(async () => (await c.locator('[data-field="spend"]').innerText()).includes('of $80.00'))
      .toBe(true);
    expect(await c.locator('.badge').innerText()).toBe('hard');
    const edited = await api<{ amountUsd: string; mode: string }>(adminKey, 'GET', `/api/v1/budgets/${created.id}`);
    expect(edited.body).toMatchObject({ amountUsd: '80', mode: 'hard' });

    // Delete: the first click asks, the second deletes.
    await c.locator('button[data-action="delete"]').click();
    expect(await c.locator('button[data-action="delete"]').innerText()).toBe('Really delete?');
    await c.locator('button[data-action="delete"]').click();
    await c.waitFor({ state: 'detached' });
    expect((await api(adminKey, 'GET', `/api/v1/budgets/${created.id}`)).status).toBe(404);
    // The only errors: the preview's 400s while the form was not yet valid (shown as such).
    expect(
      problems.filter((p) => !p.includes('/api/v1/budgets/preview') && !p.includes('status of 400 (Bad Request)')),
    ).toEqual([]);
    await page.context().close();
  });

  it('creates a key (secret once, copy button), signs in with it in a second context, and revokes it', async () => {
    const { page, context, problems } = await adminPage();
    await page.goto(`${svc.url}/#/keys`);
    const form = page.locator('form[data-form="key"]');
    await form.locator('input[name="name"]').fill('dashboard reader');
    await form.locator('select[name="role"]').selectOption('read');
    // A tenant admin makes keys of its own tenant only: there is no tenant field to fill.
    expect(await form.locator('input[name="tenant"]').count()).toBe(0);
    await form.locator('button[type="submit"]').click();
    const secret = page.locator('[data-field="secret"]');
    await secret.waitFor();
    const key = await secret.inputValue();
    expect(key).toMatch(/^tm_[A-Za-z0-9_-]{40,}$/);
    await page.locator('button[data-action="copy"]').click();
    await expect.poll(() => page.locator('[data-field="copied"]').innerText()).toBe('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    const keyId = (await page.locator('section.secret').getAttribute('data-key'))!;
    const row = page.locator('table[data-table="keys"] tr', { has: page.locator(`td:text-is("${keyId}")`) });
    expect(await row.innerText()).toContain('read');

    // Sign in with it in a second context (its own storage): a read key of tenant acme.
    const second = await watchedPage(chrome.browser, svc.url);
    await signIn(second.page, svc.url, key);
    expect(await second.page.locator('.who').innerText()).toBe('read key · tenant acme');
    // After a reload the secret is gone for good: the list never shows one.
    await page.reload();
    await page.locator('table[data-table="keys"]').waitFor();
    expect(await page.locator('[data-field="secret"]').count()).toBe(0);
    expect(await page.content()).not.toContain(key);

    // Revoke (asks first); the second context's key stops working.
    const revoke = page
      .locator('table[data-table="keys"] tr', { has: page.locator(`td:text-is("${keyId}")`) })
      .locator('button[data-action="revoke"]');
    await revoke.click();
    await revoke.click();
    await expect
      .poll(() =>
        page.locator('table[data-table="keys"] tr', { has: page.locator(`td:text-is("${keyId}")`) }).innerText(),
      )
      .toContain('revoked');
    expect((await api(key, 'GET', '/api/v1/budgets')).status).toBe(401);
    expect(problems).toEqual([]);
    await second.context.close();
    await context.close();
  });
});

describe('a read key', () => {
  let readKey: string;
  beforeAll(async () => {
    readKey = await createKey(svc, 'acme', 'read');
    // A budget to look at (made by the admin), so its card is on the page.
    const made = await api(adminKey, 'POST', '/api/v1/budgets', {
      name: 'acme monthly',
      period: 'month',
      amountUsd: '40',
    });
    expect(made.status).toBe(201);
  });

  it('sees no write control on any page, and no link to pages it cannot use', async () => {
    const w = await watchedPage(chrome.browser, svc.url);
    await signIn(w.page, svc.url, readKey);
    const nav = await w.page.locator('nav.top').innerText();
    expect(nav).toContain('Budgets');
    expect(nav).toContain('Advice');
    expect(nav).not.toContain('API keys');
    expect(nav).not.toContain('Prices');
    await w.page.goto(`${svc.url}/#/budgets`);
    await card(w.page, 'acme monthly').waitFor();
    expect(await card(w.page, 'acme monthly').locator('[data-field="projection"]').innerText()).toMatch(/^\$/);
    const controls = 'form[data-form], button[data-action], input:not([aria-label="Tenant"])';
    expect(await w.page.locator(`main ${controls}`).count()).toBe(0);
    for (const page of ['keys', 'prices']) {
      await w.page.goto(`${svc.url}/#/${page}`);
      await w.page.locator('main[data-page]').waitFor();
      await w.page.locator('ul.dash-list').waitFor(); // the home page, not the admin one
      expect(await w.page.locator(`main ${controls}`).count()).toBe(0);
    }
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('gets 403 for every write through the API, and nothing changes', async () => {
    const before = await api<{ budgets: { id: string }[] }>(adminKey, 'GET', '/api/v1/budgets');
    const id = before.body.budgets[0]!.id;
    const writes: [string, string, unknown?][] = [
      ['POST', '/api/v1/budgets', { name: 'x', period: 'day', amountUsd: '1' }],
      ['POST', '/api/v1/budgets/preview', { name: 'x', period: 'day', amountUsd: '1' }],
      ['PUT', `/api/v1/budgets/${id}`, { amountUsd: '1' }],
      ['DELETE', `/api/v1/budgets/${id}`],
      ['POST', '/api/v1/keys', { role: 'admin', name: 'escalate' }],
      ['DELETE', '/api/v1/keys/key_0123456789abcdef'],
      [
        'PUT',
        '/api/v1/prices',
        { provider: 'openai', model: 'gpt-4o', effective_from: '2026-01-01', prices: { input_mtok: 0 } },
      ],
      ['DELETE', '/api/v1/prices/x'],
    ];
    for (const [method, path, body] of writes) {
      const r = await api<{ error: string }>(readKey, method, path, body);
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error, `${method} ${path}`).toMatch(/may not/);
    }
    const after = await api<{ budgets: unknown[] }>(adminKey, 'GET', '/api/v1/budgets');
    expect(after.body.budgets).toHaveLength(before.body.budgets.length);
  });
});

describe('the installation admin key', () => {
  it('picks the tenant, and creates a budget in it with the preview', async () => {
    const { page, problems, context } = await adminPage(ADMIN_KEY);
    await page.goto(`${svc.url}/#/budgets`);
    // The tenants come from GET /api/v1/tenants; acme is the only one with calls.
    expect(await page.locator('select[aria-label="Tenant"]').inputValue()).toBe('acme');
    await page.locator('button[data-action="new-budget"]').click();
    const form = page.locator('form[data-form="budget"]');
    await form.locator('input[name="name"]').fill('operator weekly');
    await form.locator('select[name="period"]').selectOption('week');
    await form.locator('input[name="amountUsd"]').fill('7.5');
    await expect
      .poll(async () => (await form.locator('[data-field="preview"]').innerText()).includes('of $7.50'))
      .toBe(true);
    await form.locator('button[type="submit"]').click();
    await card(page, 'operator weekly').waitFor();
    const acme = await api<{ budgets: { name: string; period: string; tenant: string }[] }>(
      adminKey,
      'GET',
      '/api/v1/budgets',
    );
    expect(acme.body.budgets.find((b) => b.name === 'operator weekly')).toMatchObject({
      period: 'week',
      tenant: 'acme',
    });
    // Its key form may name any tenant (or * for an operator key).
    await page.goto(`${svc.url}/#/keys`);
    await page.locator('form[data-form="key"] input[name="tenant"]').waitFor();
    expect(problems.filter((p) => !p.includes('status of 400') && !p.includes('/budgets/preview'))).toEqual([]);
    await context.close();
  });

  it('sets and ends a price override from the Prices page', async () => {
    const { page, problems, context } = await adminPage(ADMIN_KEY);
    await page.goto(`${svc.url}/#/prices`);
    const form = page.locator('form[data-form="price"]');
    await form.locator('input[name="provider"]').fill('openai');
    await form.locator('input[name="model"]').fill('gpt-4o-mini');
    await form.locator('input[name="input_mtok"]').fill('0.1');
    await form.locator('input[name="output_mtok"]').fill('0.4');
    await form.locator('input[name="note"]').fill('negotiated');
    await form.locator('button[type="submit"]').click();
    const row = page.locator('table[data-table="prices"] tbody tr', { has: page.locator('td:text-is("gpt-4o-mini")') });
    await row.waitFor();
    expect(await row.innerText()).toContain('input_mtok 0.1, output_mtok 0.4');
    const listed = await api<{ overrides: { model: string; prices: Record<string, number>; note: string }[] }>(
      ADMIN_KEY,
      'GET',
      '/api/v1/prices',
    );
    expect(listed.body.overrides).toMatchObject([
      { model: 'gpt-4o-mini', prices: { input_mtok: 0.1, output_mtok: 0.4 }, note: 'negotiated' },
    ]);
    // A bad value is refused by the service, and the page says which field.
    await form.locator('input[name="provider"]').fill('openai');
    await form.locator('input[name="model"]').fill('gpt-4o');
    await form.locator('input[name="input_mtok"]').fill('-1');
    await form.locator('button[type="submit"]').click();
    await expect
      .poll(() => form.locator('.form-error').innerText())
      .toMatch(/prices\.input_mtok must be a non-negative/);
    await row.locator('button[data-action="end"]').click();
    await row.locator('button[data-action="end"]').click();
    await page.locator('table[data-table="prices"]').waitFor({ state: 'detached' });
    expect((await api<{ overrides: unknown[] }>(ADMIN_KEY, 'GET', '/api/v1/prices')).body.overrides).toEqual([]);
    expect(problems.filter((p) => !p.startsWith('HTTP 400') && !p.includes('status of 400'))).toEqual([]);
    await context.close();
  });

  it('an Advice page: each suggestion with its monthly saving and a link to the calls behind it', async () => {
    const { page, problems, context } = await adminPage();
    const api30 = await api<{ advice: { title: string; monthlySavings: number; model: string }[] }>(
      adminKey,
      'GET',
      '/api/v1/advice?days=30',
    );
    expect(api30.body.advice.length).toBeGreaterThan(0);
    await page.goto(`${svc.url}/#/advice`);
    const cards = page.locator('section.advice');
    await cards.first().waitFor();
    expect(await cards.count()).toBe(api30.body.advice.length);
    const first = api30.body.advice[0]!;
    expect(await cards.first().locator('h2').innerText()).toBe(first.title);
    expect(await cards.first().locator('[data-field="saving"]').innerText()).toBe(
      `saves about ${usd(first.monthlySavings)} a month`,
    );
    await cards.first().locator('a[data-action="calls"]').click();
    await page.locator('.calls-panel tbody tr').first().waitFor();
    const models = await page.locator('.calls-panel td[data-col="model"]').allInnerTexts();
    expect(models.length).toBeGreaterThan(0);
    expect(new Set(models)).toEqual(new Set([first.model]));
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('custom properties on the Calls page', () => {
  it('lists each call with its properties and filters by one typed as name=value', async () => {
    const { page, problems, context } = await adminPage();
    const to = Date.now();
    const from = to - 2 * DAY;
    await page.goto(`${svc.url}/#/calls?from=${from}&to=${to}`);
    await page.locator('.calls-panel tbody tr').first().waitFor();
    const all = await page.locator('.calls-panel td[data-col="properties"]').allInnerTexts();
    expect(all.length).toBeGreaterThan(0);
    for (const p of all) expect(p).toMatch(/^arm=[ab], plan=(free|pro|team)$/);
    await page.locator('form[data-form="property-filter"] input').fill('plan=team');
    await page.locator('form[data-form="property-filter"] button').click();
    await expect.poll(() => page.url()).toContain('property.plan=team');
    await page.locator('.chip', { hasText: 'property.plan = team' }).waitFor();
    const team = await page.locator('.calls-panel td[data-col="properties"]').allInnerTexts();
    const expected = await one(
      `SELECT least(count(), 200) AS v FROM ai_calls WHERE tenant = 'acme' AND properties['plan'] = 'team'
       AND timestamp >= fromUnixTimestamp64Milli(${from}) AND timestamp <= fromUnixTimestamp64Milli(${to})`,
    );
    expect(team).toHaveLength(expected);
    for (const p of team) expect(p).toMatch(/, plan=team$/);
    expect(problems).toEqual([]);
    await context.close();
  });
});

async function api<T = unknown>(
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}
