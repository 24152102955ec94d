import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moneyFound } from '../../ingest/src/usage/money.ts';
import { type SeedSummary, seedCalls } from '../support/seed.ts';
import { ADMIN_KEY, createKey, startBudgetService } from './service.ts';
import { rows } from '../support/store.ts';

/**
 * The usage API over seeded calls spanning 12 days, five users, three teams, three features and
 * six models (one unpriced): every figure is checked against a raw sum() over ai_calls.
 */
type Svc = Awaited<ReturnType<typeof startBudgetService>>;
let svc: Svc;
let summary: SeedSummary;
let userKey: string;
let readKey: string;
const TENANT = 'acme';
const HOUR = 3_600_000;

async function get(path: string, key = ADMIN_KEY): Promise<any> {
  const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Raw sums from ai_calls (not the rollups) for a WHERE clause over bound parameters. */
async function raw(where: string, params: Record<string, unknown> = {}) {
  const [r] = await rows<Record<string, string>>(
    svc.store,
    `SELECT count() AS requests, countIf(status = 'error') AS errors, countIf(NOT priced) AS unpriced,
            sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read,
            toString(sum(ifNull(cost_usd, 0))) AS cost
     FROM ${svc.store.database}.ai_calls WHERE tenant = {t:String} AND ${where}`,
    { t: TENANT, ...params },
  );
  return {
    requests: Number(r!.requests),
    errors: Number(r!.errors),
    unpricedRequests: Number(r!.unpriced),
    inputTokens: Number(r!.input),
    outputTokens: Number(r!.output),
    cacheReadTokens: Number(r!.cache_read),
    costUsd: trim(r!.cost!),
  };
}
const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
const pickTotals = (t: any) => ({
  requests: t.requests,
  errors: t.errors,
  unpricedRequests: t.unpricedRequests,
  inputTokens: t.inputTokens,
  outputTokens: t.outputTokens,
  cacheReadTokens: t.cacheReadTokens,
  costUsd: t.costUsd,
});

beforeAll(async () => {
  svc = await startBudgetService('usage_api', { TOKENMETER_DEFAULT_USER_BUDGET_USD: '100' });
  const end = new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR);
  summary = await seedCalls(svc.store, { tenant: TENANT, days: 12, end, seed: 21, callsPerHour: 8 });
  // Another tenant's calls must never show.
  await seedCalls(svc.store, { tenant: 'other', days: 2, end, seed: 22 });
  const mk = (role: string) => createKey(svc, TENANT, role);
  userKey = await mk('user');
  readKey = await mk('read');
});
afterAll(() => svc?.close());

const monthStart = () => {
  const n = new Date();
  return new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), 1));
};
const todayStart = () => {
  const n = new Date();
  return new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate()));
};
const sec = (d: Date) => d.getTime() / 1000;

describe('GET /api/v1/usage/summary', () => {
  it('totals for the period, today and all time equal the raw sums', async () => {
    const body = await get(`/api/v1/usage/summary?tenant=${TENANT}`);
    expect(pickTotals(body.totals.allTime)).toEqual(await raw('1'));
    expect(pickTotals(body.totals.period)).toEqual(
      await raw('timestamp >= toDateTime64({s:Float64}, 3)', { s: sec(monthStart()) }),
    );
    expect(pickTotals(body.totals.today)).toEqual(
      await raw('timestamp >= toDateTime64({s:Float64}, 3)', { s: sec(todayStart()) }),
    );
    expect(body.totals.allTime.requests).toBe(summary.calls);
    expect(body.totals.allTime.costUsd).toBe(summary.costUsd);
  });

  for (const [groupBy, column] of [
    ['model', 'model'],
    ['provider', 'provider'],
    ['service', 'service'],
    ['user', 'user_id'],
    ['team', 'team'],
    ['feature', 'feature'],
  ] as const) {
    it(`group_by=${groupBy}: every group equals the raw sum`, async () => {
      const body = await get(`/api/v1/usage/summary?group_by=${groupBy}`, readKey);
      expect(body.groups.length).toBeGreaterThan(1);
      for (const g of body.groups) {
        expect(pickTotals(g.allTime)).toEqual(await raw(`${column} = {k:String}`, { k: g[groupBy] }));
        expect(pickTotals(g.period)).toEqual(
          await raw(`${column} = {k:String} AND timestamp >= toDateTime64({s:Float64}, 3)`, {
            k: g[groupBy],
            s: sec(monthStart()),
          }),
        );
      }
      const all = await raw('1');
      expect(body.groups.reduce((a: number, g: any) => a + g.allTime.requests, 0)).toBe(all.requests);
      // The totals beside the groups (added up from them, not a second query) are the raw totals.
      expect(pickTotals(body.totals.allTime)).toEqual(all);
      expect(pickTotals(body.totals.period)).toEqual(
        await raw('timestamp >= toDateTime64({s:Float64}, 3)', { s: sec(monthStart()) }),
      );
    });
  }

  it('refuses an unknown group_by, with the field named', async () => {
    const res = await fetch(`${svc.url}/api/v1/usage/summary?group_by=color`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatch(/group_by/);
  });
});

describe('GET /api/v1/usage/daily', () => {
  it('one point per day, zero-filled, each equal to the raw sum; filters apply', async () => {
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 14 * 86_400_000).toISOString().slice(0, 10);
    const body = await get(`/api/v1/usage/daily?from=${from}&to=${to}&feature=chat`, readKey);
    expect(body.series).toHaveLength(15);
    let nonZero = 0;
    for (const p of body.series) {
      const r = await raw(`toDate(timestamp) = {d:Date} AND feature = 'chat'`, { d: p.day });
      expect(pickTotals(p)).toEqual(r);
      if (r.requests > 0) nonZero++;
    }
    expect(nonZero).toBeGreaterThanOrEqual(12);
    expect(body.series[0].requests).toBe(0);
  });

  it('group_by=model gives a series per model, each day equal to the raw sum', async () => {
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    const body = await get(`/api/v1/usage/daily?from=${from}&to=${to}&group_by=model`, readKey);
    expect(body.groups.length).toBe(6);
    for (const g of body.groups) {
      for (const p of g.series) {
        expect(p.costUsd).toBe(
          (await raw(`toDate(timestamp) = {d:Date} AND model = {m:String}`, { d: p.day, m: g.model })).costUsd,
        );
      }
    }
  });
});

describe('GET /api/v1/usage/users/:id', () => {
  it('period, today and all time with budget, percent used and remaining uses', async () => {
    const body = await get('/api/v1/usage/users/alice', readKey);
    const period = await raw(`user_id = 'alice' AND timestamp >= toDateTime64({s:Float64}, 3)`, {
      s: sec(monthStart()),
    });
    const all = await raw(`user_id = 'alice'`);
    expect(body.period.costUsd).toBe(period.costUsd);
    expect(body.period.requests).toBe(period.requests);
    expect(body.period.inputTokens).toBe(period.inputTokens);
    expect(body.allTime.costUsd).toBe(all.costUsd);
    expect(body.allTime.totalTokens).toBe(all.inputTokens + all.outputTokens);
    expect(body.period.budget).toMatchObject({ id: 'default-user', amountUsd: '100', mode: 'soft' });
    expect(body.period.percentUsed).toBeCloseTo((Number(period.costUsd) / 100) * 100, 1);
    const uses = body.period.remainingUses;
    expect(uses.min).toBeLessThanOrEqual(uses.expected);
    expect(uses.expected).toBeLessThanOrEqual(uses.max);
    expect(uses.min).toBeGreaterThan(0);
    expect(['high', 'medium', 'low']).toContain(uses.confidence);
  });

  it('view=user and a user key: no dollar amount anywhere in the JSON', async () => {
    const viaParam = await get('/api/v1/usage/users/alice?view=user', readKey);
    const viaKey = await get('/api/v1/usage/users/alice', userKey);
    for (const body of [viaParam, viaKey]) {
      expect(moneyFound(body)).toEqual([]);
      expect(JSON.stringify(body)).not.toMatch(/\$|usd|cost|spend|amount|price/i);
      expect(body.period.percentUsed).toBeGreaterThan(0);
      expect(body.period.remainingUses.max).toBeGreaterThan(0);
    }
    expect(viaKey).toEqual(viaParam);
    for (const path of [
      '/api/v1/usage/summary?group_by=model',
      '/api/v1/usage/daily',
      '/api/v1/usage/estimate?user=bob',
    ]) {
      const body = await get(path, userKey);
      expect(moneyFound(body)).toEqual([]);
      expect(JSON.stringify(body)).not.toMatch(/\$|usd|cost|spend|amount|price/i);
    }
  });

  it('a user key may not read money endpoints', async () => {
    for (const path of ['/api/v1/budgets', '/api/v1/export?format=csv']) {
      const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${userKey}` } });
      expect(res.status).toBe(403);
    }
  });
});

describe('GET /api/v1/usage/estimate and /projection', () => {
  it('estimate: median and variance of tokens per call equal the raw figures', async () => {
    const body = await get('/api/v1/usage/estimate?feature=chat&model=gpt-4o', readKey);
    const [r] = await rows<Record<string, number | string>>(
      svc.store,
      `SELECT count() AS n, quantileExact(0.5)(input_tokens + output_tokens) AS med,
              varPop(toFloat64(input_tokens + output_tokens)) AS v
       FROM ${svc.store.database}.ai_calls
       WHERE tenant = 'acme' AND feature = 'chat' AND model = 'gpt-4o' AND status != 'error'`,
    );
    expect(body.calls).toBe(Number(r!.n));
    expect(body.tokensPerCall.median).toBe(Number(r!.med));
    expect(body.tokensPerCall.variance).toBeCloseTo(Number(r!.v), 1);
    expect(body.confidence).toBe(Number(r!.n) >= 100 ? 'high' : 'medium');
  });

  it("estimate for one user: the user's calls (ai_user_calls) give the raw figures", async () => {
    const body = await get('/api/v1/usage/estimate?user=bob&feature=chat', readKey);
    const [r] = await rows<Record<string, number | string>>(
      svc.store,
      `SELECT count() AS n, quantileExact(0.5)(input_tokens + output_tokens) AS med,
              varPop(toFloat64(input_tokens + output_tokens)) AS v
       FROM ${svc.store.database}.ai_calls
       WHERE tenant = 'acme' AND user_id = 'bob' AND feature = 'chat' AND status != 'error'`,
    );
    expect(Number(r!.n)).toBeGreaterThan(10);
    expect(body.calls).toBe(Number(r!.n));
    expect(body.tokensPerCall.median).toBe(Number(r!.med));
    expect(body.tokensPerCall.variance).toBeCloseTo(Number(r!.v), 1);
  });

  it('estimate: reads the trailing whole days holding 2,000 calls when there are that many, and says so', async () => {
    const body = await get('/api/v1/usage/estimate', readKey);
    // The raw calls that did not fail, per UTC day, newest first: the window starts at the day
    // where their running count reaches 2,000 (this seed has ~2,300 over 12 days).
    const days = await rows<{ d: string; n: string }>(
      svc.store,
      `SELECT toString(toDate(timestamp)) AS d, count() AS n FROM ${svc.store.database}.ai_calls
       WHERE tenant = 'acme' AND status != 'error' AND timestamp >= now64(3) - INTERVAL 30 DAY
       GROUP BY d ORDER BY d DESC`,
    );
    let n = 0;
    const start = days.find((r) => (n += Number(r.n)) >= 2000)?.d;
    expect(start, 'the seed holds 2,000 calls').toBeDefined();
    expect(start).not.toBe(days.at(-1)?.d);
    expect(body.window.from).toBe(`${start}T00:00:00.000Z`);
    const [r] = await rows<Record<string, number | string>>(
      svc.store,
      `SELECT count() AS n, quantileExact(0.5)(input_tokens + output_tokens) AS med FROM ${svc.store.database}.ai_calls
       WHERE tenant = 'acme' AND status != 'error' AND toDate(timestamp) >= {d:Date}
         AND timestamp < parseDateTime64BestEffort({to:String}, 3)`,
      { d: start, to: body.window.to },
    );
    expect(body.calls).toBe(Number(r!.n));
    expect(body.calls).toBeGreaterThanOrEqual(2000);
    expect(body.tokensPerCall.median).toBe(Number(r!.med));
  });

  it('estimate: a filter no call matches reads nothing raw and says so (no calls, no confidence)', async () => {
    const before = Date.now();
    const body = await get('/api/v1/usage/estimate?feature=no-such-feature', readKey);
    expect(body.calls).toBe(0);
    expect(body.tokensPerCall.median).toBe(0);
    expect(body.costPerCallUsd.p90).toBe(0);
    expect(body.confidence).toBe('none');
    // The whole trailing window: the rollups hold no matching call in it.
    expect(Date.parse(body.window.from)).toBeLessThanOrEqual(before - 30 * 86_400_000 + 60_000);
  });

  it('projection: spend so far equals the raw month-to-date, forecast states its method', async () => {
    const body = await get('/api/v1/usage/projection', readKey);
    const mtd = await raw('timestamp >= toDateTime64({s:Float64}, 3)', { s: sec(monthStart()) });
    expect(body.spentUsd).toBeCloseTo(Number(mtd.costUsd), 6);
    expect(body.method).toMatch(/run-rate/);
    expect(body.basedOnDays).toBe(7);
    expect(body.projectedUsd).toBeGreaterThanOrEqual(body.spentUsd);
    expect(body.lowUsd).toBeLessThanOrEqual(body.projectedUsd);
    expect(body.highUsd).toBeGreaterThanOrEqual(body.projectedUsd);
    // The forecast adds the trailing daily mean for each remaining day.
    expect(body.projectedUsd).toBeCloseTo(body.spentUsd + body.dailyMeanUsd * body.daysRemaining, 2);
  });

  it('tenant isolation: a tenant key never sees another tenant; the operator key must name one', async () => {
    const body = await get('/api/v1/usage/summary', readKey);
    expect(body.tenant).toBe(TENANT);
    expect(body.totals.allTime.requests).toBe(summary.calls);
    const res = await fetch(`${svc.url}/api/v1/usage/summary`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(400);
  });
});
