import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUsageContext } from '../../instrumentation/src/core/usage-context.ts';
import {
  BudgetExceededError,
  budgetGuardFromEnv,
  BudgetUnavailableError,
  installBudgetGuard,
  SOFT_BUDGET_EVENT,
  uninstallBudgetGuard,
} from '../../instrumentation/src/guard/index.ts';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.ts';
import { setupTracing, settle } from '../../instrumentation/src/test-support/tracing.ts';
import { type ReplayServer, startReplayServer } from '../replay/server.ts';
import { ADMIN_KEY, createKey, startBudgetService } from './service.ts';
import { spend } from './spend.ts';

/**
 * Hard budgets enforced in the calling service: the real openai SDK, instrumented, against the
 * local replay server, with the budget guard fed by the running tokenmeter service.
 */
const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);

let svc: Awaited<ReturnType<typeof startBudgetService>>;
let replay: ReplayServer;
let ingestKey: string;
/** Every request the guard makes to the tokenmeter service. */
const guardRequests: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  guardRequests.push(String(input));
  return fetch(input, init);
};

const client = () => new OpenAI({ apiKey: 'sk-test', baseURL: `${replay.url}/v1`, maxRetries: 0 });
const ask = () =>
  client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

async function budget(body: Record<string, unknown>) {
  const res = await fetch(`${svc.url}/api/v1/budgets?tenant=acme`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

beforeAll(async () => {
  svc = await startBudgetService('enforcement', { TOKENMETER_ENFORCEMENT_CACHE_MS: '0' });
  replay = await startReplayServer();
  ingestKey = await createKey(svc, 'acme', 'ingest');
  const hard = await budget({ scope: { user: 'alice' }, period: 'month', amountUsd: '5', mode: 'hard' });
  await budget({ scope: { team: 'growth' }, period: 'month', amountUsd: '10', mode: 'soft' });
  await budget({ scope: { model: 'gpt-4o-mini', team: 'support' }, period: 'day', amountUsd: '1', mode: 'hard' });
  const now = new Date();
  await spend(svc.store, [
    { at: now, usd: '5.25', user: 'alice', team: 'search' },
    { at: now, usd: '8', user: 'bob', team: 'growth' },
    // Spent on a dated snapshot: counts against the alias's budget.
    { at: now, usd: '1.5', user: 'carol', team: 'support', model: 'gpt-4o-mini-2024-07-18' },
  ]);
  expect(hard.id).toMatch(/^b_/);
});
afterAll(async () => {
  uninstallBudgetGuard();
  await replay?.close();
  await svc?.close();
});

describe('budget guard', () => {
  it('the enforcement view lists the hard-exceeded scopes of the key’s tenant only', async () => {
    const res = await fetch(`${svc.url}/api/v1/budgets/enforcement`, {
      headers: { authorization: `Bearer ${ingestKey}` },
    });
    const view = (await res.json()) as any;
    expect(view.tenant).toBe('acme');
    expect(view.hard.map((h: any) => [h.scope.user || h.scope.model, h.spendUsd, h.limitUsd]).sort()).toEqual([
      ['alice', '5.25', '5'],
      ['gpt-4o-mini', '1.5', '1'],
    ]);
    expect(view.soft.map((s: any) => [s.scope.team, s.percent])).toEqual([['growth', 80]]);
  });

  it('a call under an exhausted hard budget throws BudgetExceededError; the provider gets zero requests', async () => {
    const guard = await installBudgetGuard({ url: svc.url, key: ingestKey, fetch: countingFetch, refreshMs: 60_000 });
    expect(guard.stats.lastRefreshAt).toBeGreaterThan(0);
    const fetchesAfterStart = guardRequests.length;
    replay.reset();
    tracing.reset();

    const err = await withUsageContext({ userId: 'alice', team: 'search', feature: 'chat' }, async () => {
      try {
        await ask();
        return undefined;
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(BudgetExceededError);
    const e = err as BudgetExceededError;
    expect(e.scope).toEqual({ team: '', user: 'alice', feature: '', model: '' });
    expect(e.spendUsd).toBe('5.25');
    expect(e.limitUsd).toBe('5');
    expect(replay.requests).toHaveLength(0);
    // No network round-trip: the guard made no request for this call (speed is bench/'s job, not a timed test).
    expect(guardRequests.length).toBe(fetchesAfterStart);
    // The blocked call still leaves a span, ended with the error.
    await settle();
    const [span] = tracing.ours();
    expect(span?.attributes['error.type']).toBe('BudgetExceededError');

    // A dated-snapshot spend blocks the alias in its scope; the same model elsewhere passes.
    await expect(withUsageContext({ userId: 'carol', team: 'support' }, async () => ask())).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    expect(replay.requests).toHaveLength(0);
    // A rejection, as an API error would be: a bare .then() chain and the APIPromise's
    // withResponse() see it; nothing is thrown synchronously from create().
    const pending = withUsageContext({ userId: 'alice', team: 'search' }, () => ask());
    const viaThen = await pending.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(viaThen).toBeInstanceOf(BudgetExceededError);
    await expect(withUsageContext({ userId: 'alice' }, () => ask().withResponse())).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    expect(replay.requests).toHaveLength(0);
    const ok = await withUsageContext({ userId: 'dave', team: 'search' }, async () => ask());
    expect(ok.choices[0]?.message).toBeDefined();
    expect(replay.requests).toHaveLength(1);
    expect(guardRequests.length).toBe(fetchesAfterStart);
    expect(guard.stats.blocked).toBe(4);
  });

  it('a soft budget past a threshold adds a span event and lets the call through', async () => {
    await installBudgetGuard({ url: svc.url, key: ingestKey, refreshMs: 60_000 });
    replay.reset();
    tracing.reset();
    await withUsageContext({ userId: 'bob', team: 'growth' }, async () => ask());
    expect(replay.requests).toHaveLength(1);
    await settle();
    const [span] = tracing.ours();
    const event = span?.events.find((ev) => ev.name === SOFT_BUDGET_EVENT);
    expect(event?.attributes).toMatchObject({
      'tokenmeter.budget.scope': 'team=growth',
      'tokenmeter.budget.percent': 80,
    });
  });

  it('a raised budget unblocks at the next refresh', async () => {
    const guard = await installBudgetGuard({ url: svc.url, key: ingestKey, refreshMs: 60_000 });
    const list = (await (
      await fetch(`${svc.url}/api/v1/budgets?tenant=acme`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).json()) as any;
    const alice = list.budgets.find((b: any) => b.scope.user === 'alice');
    const res = await fetch(`${svc.url}/api/v1/budgets/${alice.id}?tenant=acme`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amountUsd: '50' }),
    });
    expect(res.status).toBe(200);
    await guard.refresh();
    replay.reset();
    await withUsageContext({ userId: 'alice', team: 'search' }, async () => ask());
    expect(replay.requests).toHaveLength(1);
  });

  it('register/start installs it from the environment (TOKENMETER_BUDGET_GUARD=true)', async () => {
    uninstallBudgetGuard();
    budgetGuardFromEnv({ TOKENMETER_BUDGET_GUARD: 'true', TOKENMETER_URL: svc.url, TOKENMETER_KEY: ingestKey });
    await new Promise((r) => setTimeout(r, 300));
    replay.reset();
    await expect(withUsageContext({ userId: 'carol', team: 'support' }, async () => ask())).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    expect(replay.requests).toHaveLength(0);
  });

  it('service unreachable: fails open by default and counts it; fails closed when configured', async () => {
    class Reader extends MetricReader {
      protected async onForceFlush() {}
      protected async onShutdown() {}
    }
    const reader = new Reader();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    const down = 'http://127.0.0.1:9';
    const open = await installBudgetGuard({ url: down, key: ingestKey, timeoutMs: 500 });
    replay.reset();
    await withUsageContext({ userId: 'alice' }, async () => ask());
    expect(replay.requests).toHaveLength(1);
    expect(open.stats.failOpen).toBe(1);
    expect(open.stats.refreshFailures).toBe(1);

    const closed = await installBudgetGuard({ url: down, key: ingestKey, timeoutMs: 500, failOpen: false });
    await expect(withUsageContext({ userId: 'alice' }, async () => ask())).rejects.toBeInstanceOf(
      BudgetUnavailableError,
    );
    expect(replay.requests).toHaveLength(1);
    expect(closed.stats.failClosed).toBe(1);
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics
      .flatMap((m) => m.metrics)
      .filter((m) => m.descriptor.name === 'tokenmeter.budget_guard.calls')
      .flatMap((m) => m.dataPoints.map((p) => [p.attributes.outcome, p.value]));
    expect(points).toEqual([
      ['fail_open', 1],
      ['fail_closed', 1],
    ]);
  });
});
