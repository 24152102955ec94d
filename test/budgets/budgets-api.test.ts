import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryAlertSink } from '../../ingest/src/alerts/alertmanager.ts';
import { AlertEvaluator } from '../../ingest/src/alerts/evaluator.ts';
import { periodBounds } from '../../ingest/src/budgets/period.ts';
import { createKey, startBudgetService } from './service.ts';
import { spend } from './spend.ts';

/** /api/v1/budgets: CRUD, validation, tenant isolation, status against raw spend, and a changed budget resolving its alerts. */
let svc: Awaited<ReturnType<typeof startBudgetService>>;
let acmeAdmin: string;
let acmeRead: string;
let otherAdmin: string;

async function call(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  svc = await startBudgetService('budgets_api', { TOKENMETER_DEFAULT_USER_BUDGET_USD: '2' });
  acmeAdmin = await createKey(svc, 'acme', 'admin');
  acmeRead = await createKey(svc, 'acme', 'read');
  otherAdmin = await createKey(svc, 'other', 'admin');
  const now = new Date();
  await spend(svc.store, [
    { at: now, usd: '3.5', user: 'alice', team: 'search', feature: 'chat' },
    { at: now, usd: '1.25', user: 'bob', team: 'search', feature: 'summarize' },
    { at: now, usd: '0.5', user: 'carol', team: 'growth', feature: 'chat' },
    { at: now, usd: '9', tenant: 'other', team: 'search' },
  ]);
});
afterAll(() => svc?.close());

describe('/api/v1/budgets', () => {
  let id: string;

  it('creates with defaults (soft, 75/90/100) and lists with spend from the rollups', async () => {
    const created = await call('POST', '/api/v1/budgets', acmeAdmin, {
      name: 'search',
      scope: { team: 'search' },
      period: 'month',
      amountUsd: '10',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenant: 'acme', mode: 'soft', thresholds: [75, 90, 100], amountUsd: '10' });
    id = created.body.id;
    const list = await call('GET', '/api/v1/budgets', acmeRead);
    expect(list.status).toBe(200);
    const [b] = list.body.budgets;
    const { start, end } = periodBounds('month', new Date());
    expect(b.status).toMatchObject({
      spendUsd: '4.75',
      percent: 47.5,
      crossed: [],
      remainingUsd: '5.25',
      periodStart: start.toISOString(),
      periodEnd: end.toISOString(),
    });
    expect(list.body.defaultUserBudget).toMatchObject({ amountUsd: '2', period: 'month', mode: 'soft' });
  });

  it("turns projections off for its own spend query only: the reader's later queries keep them", async () => {
    // Embedded chdb runs clickhouse_settings as SETs that outlive the query; the spend query says
    // optimize_use_projections = 0 in its SETTINGS clause, which ends with it.
    expect((await call('GET', '/api/v1/budgets', acmeRead)).status).toBe(200);
    const rs = await svc.store.reader.query({
      query: "SELECT getSetting('optimize_use_projections') AS v",
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ v: true }]);
  });

  it('refuses bad input with the field named', async () => {
    const cases: [unknown, RegExp][] = [
      [{ period: 'year', amountUsd: '1' }, /period/],
      [{ period: 'day', amountUsd: '-1' }, /amountUsd/],
      [{ period: 'day', amountUsd: 'ten' }, /amountUsd/],
      [{ period: 'day', amountUsd: '1', mode: 'strict' }, /mode/],
      [{ period: 'day', amountUsd: '1', thresholds: [0] }, /thresholds/],
      [{ period: 'day', amountUsd: '1', scope: { region: 'eu' } }, /scope\.region/],
      [{ period: 'day', amountUsd: '1', colour: 'red' }, /colour/],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', '/api/v1/budgets', acmeAdmin, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(message);
    }
  });

  it('a read key may not write; another tenant neither sees nor changes it', async () => {
    expect((await call('POST', '/api/v1/budgets', acmeRead, { period: 'day', amountUsd: '1' })).status).toBe(403);
    expect((await call('GET', '/api/v1/budgets', otherAdmin)).body.budgets).toEqual([]);
    expect((await call('GET', `/api/v1/budgets/${id}`, otherAdmin)).status).toBe(404);
    expect((await call('PUT', `/api/v1/budgets/${id}`, otherAdmin, { amountUsd: '1' })).status).toBe(404);
    expect((await call('DELETE', `/api/v1/budgets/${id}`, otherAdmin)).status).toBe(404);
    expect(
      (await call('POST', '/api/v1/budgets', acmeAdmin, { tenant: 'other', period: 'day', amountUsd: '1' })).status,
    ).toBe(403);
  });

  it('update keeps what is not sent; delete removes; versions never depend on merges', async () => {
    const up = await call('PUT', `/api/v1/budgets/${id}`, acmeAdmin, { amountUsd: '5', mode: 'hard' });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ id, name: 'search', scope: { team: 'search' }, amountUsd: '5', mode: 'hard' });
    const got = await call('GET', `/api/v1/budgets/${id}`, acmeRead);
    expect(got.body.status).toMatchObject({ spendUsd: '4.75', percent: 95, crossed: [75, 90] });
    // The ingest key's enforcement view: not yet over 100 %.
    const ingest = await createKey(svc, 'acme', 'ingest');
    const view = (await call('GET', '/api/v1/budgets/enforcement', ingest)).body;
    expect(view.hard).toEqual([]);
    // alice's default per-user budget ($2, soft) is past 100 %: a soft entry.
    expect(view.soft.map((s: any) => [s.budgetId, s.scope.user, s.percent])).toEqual([['default-user', 'alice', 175]]);
    expect((await call('DELETE', `/api/v1/budgets/${id}`, acmeAdmin)).status).toBe(204);
    expect((await call('GET', `/api/v1/budgets/${id}`, acmeRead)).status).toBe(404);
    expect((await call('GET', '/api/v1/budgets', acmeRead)).body.budgets).toEqual([]);
  });

  it('changing a budget resolves its alerts and raises them anew for the new version', async () => {
    const sink = memoryAlertSink();
    const evaluator = new AlertEvaluator({
      store: svc.store,
      log: pino({ level: 'silent' }),
      sink,
      intervalMs: 60_000,
      defaultUserBudget: undefined,
      anomalies: false,
    });
    const b = (
      await call('POST', '/api/v1/budgets', acmeAdmin, {
        scope: { team: 'search' },
        period: 'day',
        amountUsd: '5',
      })
    ).body;
    const first = await evaluator.evaluateOnce();
    expect(first.fired.map((a) => a.labels.threshold)).toEqual(['75', '90']);
    await call('PUT', `/api/v1/budgets/${b.id}`, acmeAdmin, { amountUsd: '6' });
    const second = await evaluator.evaluateOnce();
    expect(second.resolved.map((a) => a.labels.threshold).sort()).toEqual(['75', '90']);
    expect(second.fired.map((a) => a.labels.threshold)).toEqual(['75']);
    const lastPush = sink.sent.at(-1)!;
    const resolvedSent = lastPush.filter((a) => a.endsAt && a.endsAt.getTime() <= Date.now());
    expect(resolvedSent).toHaveLength(2);
    await call('DELETE', `/api/v1/budgets/${b.id}`, acmeAdmin);
    const third = await evaluator.evaluateOnce();
    expect(third.resolved.map((a) => a.labels.threshold)).toEqual(['75']);
    expect(third.firing).toEqual([]);
  });
});
