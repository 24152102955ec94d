import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { mentions } from '../../ingest/src/retention/forget.ts';
import { parseUsd } from '../../instrumentation/src/prices/index.ts';
import { expectRollupsEqualRaw } from '../prices/consistency.ts';
import { seedCalls } from '../support/seed.ts';
import { ADMIN_KEY, startCostService } from './service.ts';
import { rows } from '../support/store.ts';
import { FakeBilling } from './fake-billing.ts';

const DAY = 86_400_000;
const END = new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
const START = new Date(END.getTime() - DAY);
const D = START.toISOString().slice(0, 10);

/** The real CLI entry with the service's URL and key. */
function cli(url: string, ...argv: string[]) {
  return runCli(argv, { TOKENMETER_URL: url, TOKENMETER_KEY: ADMIN_KEY });
}

/** One OTLP/JSON span of a call without a cost on it (the ingest prices it). */
function otlpCall(model: string, startMs: number, input: number, output: number, spanId: string) {
  const attr = (key: string, value: string | number) => ({
    key,
    value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value },
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'finetune-api')] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: [
              {
                traceId: `${spanId}${spanId}`,
                spanId,
                name: `chat ${model}`,
                kind: 3,
                startTimeUnixNano: `${startMs}000000`,
                endTimeUnixNano: `${startMs + 800}000000`,
                attributes: [
                  attr('gen_ai.provider.name', 'openai'),
                  attr('gen_ai.operation.name', 'chat'),
                  attr('gen_ai.request.model', model),
                  attr('gen_ai.usage.input_tokens', input),
                  attr('gen_ai.usage.output_tokens', output),
                  attr('tokenmeter.tenant', 'acme'),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('the running service: prices, reprice, reconcile, forget-user, advice through HTTP and the CLI', () => {
  let svc: Awaited<ReturnType<typeof startCostService>>;
  const billing = new FakeBilling(3);

  beforeAll(async () => {
    await billing.start();
    svc = await startCostService('cost', {
      OPENAI_ADMIN_KEY: 'sk-admin-openai',
      OPENAI_BILLING_BASE_URL: billing.url,
      TOKENMETER_PRICES_REFRESH_SECONDS: '3600',
    });
    await seedCalls(svc.store, { days: 1, end: END, seed: 9, callsPerHour: 6 });
  });
  afterAll(async () => {
    await svc?.close();
    await billing.close();
  });

  it('prices set: a fine-tuned model is priced at ingest at once, without a restart', async () => {
    const set = await cli(
      svc.url,
      'prices',
      'set',
      '--provider',
      'openai',
      '--model',
      'ft:gpt-4o-mini:acme:support',
      '--from',
      '2026-01-01',
      '--input',
      '0.3',
      '--output',
      '1.2',
      '--note',
      'fine-tune price',
    );
    expect(set.code).toBe(0);
    expect(set.out).toContain('price override');
    const list = await cli(svc.url, 'prices', 'list', '--format', 'json');
    expect(JSON.parse(list.out)).toMatchObject([
      { provider: 'openai', model: 'ft:gpt-4o-mini:acme:support', prices: { input_mtok: 0.3, output_mtok: 1.2 } },
    ]);
    const res = await fetch(`${svc.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(otlpCall('ft:gpt-4o-mini:acme:support', Date.now() - 5000, 1000, 100, 'ab12cd34ef56ab78')),
    });
    expect(res.status).toBe(200);
    const [call] = await rows<{ cost: string; price_id: string; cost_source: string }>(
      svc.store,
      `SELECT toString(cost_usd) AS cost, price_id, cost_source FROM ${svc.store.database}.ai_calls WHERE span_id = 'ab12cd34ef56ab78'`,
    );
    // 1000 × 0.30e-6 + 100 × 1.20e-6 = $0.00042
    expect(call).toMatchObject({ cost: '0.00042', cost_source: 'ingest' });
    expect(call!.price_id).toMatch(/^override:/);
    const bad = await fetch(`${svc.url}/api/v1/prices`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        provider: 'openai',
        model: 'x',
        effective_from: '2026-01-01',
        prices: { input_per_mtok: 1 },
      }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('prices.input_per_mtok');
  });

  it('reprice from the CLI, with a progress bar, leaves rollups equal to raw sums', async () => {
    const mid = new Date(START.getTime() + 12 * 3_600_000).toISOString();
    expect(
      (
        await cli(
          svc.url,
          'prices',
          'set',
          '--provider',
          'openai',
          '--model',
          'gpt-4o-mini',
          '--from',
          mid,
          '--input',
          '1',
          '--output',
          '2',
        )
      ).code,
    ).toBe(0);
    const r = await cli(svc.url, 'reprice', '--from', START.toISOString(), '--to', END.toISOString());
    expect(r.err).toContain('reprice: 100%');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^re-priced [1-9]\d* of \d+ calls/);
    await expectRollupsEqualRaw(svc.store);
    const refused = await cli(
      svc.url,
      'reprice',
      '--from',
      START.toISOString(),
      '--to',
      new Date(Date.now() + DAY).toISOString(),
    );
    // The service refused the range (400): a user error, exit 2, one line.
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('current hour');
    expect(refused.err.trim().split('\n')).toHaveLength(1);
  });

  it('price change over OTLP ingest: a day of calls, an override from mid-day, reprice; hand-checked', async () => {
    // 24 calls of gpt-4.1-nano, one at hh:10 each hour of the day before START, ingested over OTLP/JSON.
    const day0 = START.getTime() - DAY;
    const D0 = new Date(day0).toISOString().slice(0, 10);
    const spans = Array.from({ length: 24 }, (_, h) => {
      const id = `00d0${String(h).padStart(2, '0')}00000000aa`;
      return otlpCall('gpt-4.1-nano', day0 + h * 3_600_000 + 600_000, 1000, 100, id).resourceSpans[0]!.scopeSpans[0]!
        .spans[0]!;
    });
    const body = otlpCall('gpt-4.1-nano', 0, 0, 0, '0000000000000000');
    body.resourceSpans[0]!.scopeSpans[0]!.spans = spans;
    const res = await fetch(`${svc.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const mid = new Date(day0 + 12 * 3_600_000).toISOString();
    const set = await cli(
      svc.url,
      'prices',
      'set',
      '--provider',
      'openai',
      '--model',
      'gpt-4.1-nano',
      '--from',
      mid,
      '--input',
      '1',
      '--output',
      '2',
    );
    expect(set.code).toBe(0);
    const r = await cli(
      svc.url,
      'reprice',
      '--from',
      new Date(day0).toISOString(),
      '--to',
      START.toISOString(),
      '--model',
      'gpt-4.1-nano',
    );
    expect(r.out).toMatch(/^re-priced 12 of 24 calls/);
    const costs = await rows<{ h: string; cost: string }>(
      svc.store,
      `SELECT toString(toHour(timestamp)) AS h, toString(cost_usd) AS cost FROM ${svc.store.database}.ai_calls
       WHERE model = 'gpt-4.1-nano' ORDER BY timestamp`,
    );
    // Catalogue: 1000 × $0.10/1M + 100 × $0.40/1M = $0.00014; override: 1000 × $1/1M + 100 × $2/1M = $0.0012.
    expect(costs.map((c) => c.cost)).toEqual([...Array(12).fill('0.00014'), ...Array(12).fill('0.0012')]);
    const [daily] = await rows<{ cost: string; requests: string }>(
      svc.store,
      `SELECT toString(sum(cost_usd)) AS cost, sum(requests) AS requests FROM ${svc.store.database}.ai_rollup_daily
       WHERE day = {d:Date} AND model = 'gpt-4.1-nano'`,
      { d: D0 },
    );
    // 12 × 0.00014 + 12 × 0.0012 = 0.01608
    expect(daily!.cost).toBe('0.01608');
    expect(Number(daily!.requests)).toBe(24);
    await expectRollupsEqualRaw(svc.store);
  });

  it('reconcile --date from the CLI, with a progress bar: a matching day', async () => {
    const tracked = await rows<{ model: string; cost: string }>(
      svc.store,
      `SELECT model, toString(sum(cost_usd)) AS cost FROM ${svc.store.database}.ai_rollup_daily
       WHERE day = {d:Date} AND provider = 'openai' GROUP BY model`,
      { d: D },
    );
    billing.openaiCosts.set(
      D,
      tracked.map((t) => ({ usd: t.cost, lineItem: `${t.model}, input`, projectId: 'proj_1' })),
    );
    const r = await cli(svc.url, 'reconcile', '--date', D, '--provider', 'openai');
    expect(r.err).toContain('reconcile: 100%');
    expect(r.out).toContain(`openai ${D}: match`);
    expect(r.code).toBe(0);
    const res = await fetch(`${svc.url}/api/v1/reconciliation?from=${D}&to=${D}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const body = (await res.json()) as {
      rows: { dimension: string; status: string; billed_usd: string }[];
      nextRun: string;
    };
    const total = body.rows.find((x) => x.dimension === 'total')!;
    expect(total.status).toBe('match');
    expect(parseUsd(total.billed_usd)).toBe(tracked.reduce((a, t) => a + parseUsd(t.cost), 0n));
    expect(body.nextRun).toMatch(/T02:00:00.000Z$/);
    const metrics = await (
      await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).text();
    expect(metrics).toContain('tokenmeter_reconciliations_total{provider="openai",status="match"} 1');
    const early = await cli(svc.url, 'reconcile', '--date', new Date().toISOString().slice(0, 10));
    expect(early.code).toBe(2);
    expect(early.err).toContain('has not ended yet');
  });

  it('forget-user from the CLI: the id is nowhere in the database afterwards', async () => {
    expect(Object.keys(await mentions(svc.store, 'alice')).length).toBeGreaterThan(0);
    const r = await cli(svc.url, 'forget-user', 'alice');
    expect(r.code).toBe(0);
    expect(r.out).toContain('removed');
    expect(await mentions(svc.store, 'alice')).toEqual({});
  });

  it('forget-user --hashed: finds a user the apps stored hashed (TOKENMETER_HASH_USER_IDS)', async () => {
    // The instrumentation's hash with salt 'pepper' (instrumentation/src/core/config.ts).
    const stored = createHash('sha256').update('pepper').update('zoe@example.com').digest('hex').slice(0, 32);
    await seedCalls(svc.store, { days: 1, end: END, seed: 77, callsPerHour: 1, users: [stored], unpricedRate: 0 });
    expect(Object.keys(await mentions(svc.store, stored))).toContain('ai_calls');
    const r = await cli(svc.url, 'forget-user', 'zoe@example.com', '--hashed', '--salt', 'pepper');
    expect(r.code).toBe(0);
    expect(await mentions(svc.store, stored)).toEqual({});
    expect(await mentions(svc.store, 'zoe@example.com')).toEqual({});
  });

  it('tenant-bound keys: advice and reconciliation of their own tenant only; prices and forget-user need more', async () => {
    const key = async (tenant: string, role: string) => {
      const res = await fetch(`${svc.url}/api/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant, role, name: `cost ${tenant} ${role}` }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { key: string }).key;
    };
    const acmeRead = await key('acme', 'read');
    const otherAdmin = await key('other', 'admin');
    const as = (k: string, path: string, init: RequestInit = {}) =>
      fetch(`${svc.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
      });
    const advice = (await (await as(acmeRead, '/api/v1/advice?tenant=other')).json()) as { tenant: string };
    expect(advice.tenant).toBe('acme');
    // Bills are compared with every tenant together (TOKENMETER_BILLING_TENANT=*): not a tenant's to read.
    const rec = (await (await as(acmeRead, `/api/v1/reconciliation?from=${D}&to=${D}`)).json()) as { rows: unknown[] };
    expect(rec.rows).toEqual([]);
    expect((await as(acmeRead, '/api/v1/prices')).status).toBe(403);
    // A tenant's admin sets its own tenant's prices only (test/prices/tenant-prices.test.ts), never another's.
    const put = await as(otherAdmin, '/api/v1/prices', {
      method: 'PUT',
      body: JSON.stringify({
        tenant: 'acme',
        provider: 'openai',
        model: 'x',
        effective_from: '2026-01-01',
        prices: { input_mtok: 1 },
      }),
    });
    expect(put.status).toBe(403);
    expect((await as(acmeRead, '/api/v1/users/forget', { method: 'POST', body: '{"user_id":"bob"}' })).status).toBe(
      403,
    );
    // A tenant's admin forgets only within its tenant: acme's bob stays.
    const before = await mentions(svc.store, 'bob');
    const r = await as(otherAdmin, '/api/v1/users/forget', { method: 'POST', body: '{"user_id":"bob"}' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { removed: Record<string, number> }).removed.ai_calls).toBe(0);
    expect(await mentions(svc.store, 'bob')).toEqual(before);
  });

  it('advice is per tenant', async () => {
    const get = (q: string) =>
      fetch(`${svc.url}/api/v1/advice${q}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect((await get('')).status).toBe(400);
    const res = await get('?tenant=acme&days=7');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tenant: string; window: { daysObserved: number }; advice: unknown[] };
    expect(body.tenant).toBe('acme');
    expect(body.window.daysObserved).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(body.advice)).toBe(true);
    const c = await cli(svc.url, 'advice', '--tenant', 'acme', '--days', '7');
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/^monthly_usd\s+kind\s+advice/);
  });

  it('an override removed is out of force at once', async () => {
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    const list = async () =>
      (
        (await (await fetch(`${svc.url}/api/v1/prices`, { headers: auth })).json()) as {
          overrides: { id: string; model: string }[];
        }
      ).overrides;
    const ft = (await list()).find((o) => o.model === 'ft:gpt-4o-mini:acme:support')!;
    const del = await fetch(`${svc.url}/api/v1/prices/${ft.id}`, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(200);
    expect((await list()).some((o) => o.id === ft.id)).toBe(false);
    expect(svc.pricer.getOverrides().some((o) => o.id === ft.id)).toBe(false);
    expect((await fetch(`${svc.url}/api/v1/prices/${ft.id}`, { method: 'DELETE', headers: auth })).status).toBe(404);
  });
});
