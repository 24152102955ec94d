import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertmanagerClient } from '../../ingest/src/alerts/alertmanager.ts';
import { readCostConfig } from '../../ingest/src/reconcile/config.ts';
import { ReconcileJob } from '../../ingest/src/reconcile/job.ts';
import { reconcileDay } from '../../ingest/src/reconcile/run.ts';
import { readReconciliation } from '../../ingest/src/reconcile/store.ts';
import { formatScaled, parseUsd } from '../../instrumentation/src/prices/index.ts';
import { buildSeedRows, seedCalls } from '../support/seed.ts';
import { openTestStore, rows } from '../support/store.ts';
import { FakeBilling } from './fake-billing.ts';
import { FakeClock } from './fake-clock.ts';

const DAY = 86_400_000;
const END = new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
const dayOf = (n: number) => new Date(END.getTime() - (5 - n) * DAY).toISOString().slice(0, 10);
const [D1, D2, D3, D4] = [dayOf(1), dayOf(2), dayOf(3), dayOf(4)] as [string, string, string, string];
const SEED = { days: 4, end: END, seed: 5, callsPerHour: 6 } as const;

/** Tracked cost per day, provider and model, computed from the seeded rows themselves. */
function trackedCosts(): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const r of buildSeedRows(SEED).rows) {
    if (r.cost_usd === null) continue;
    const k = `${r.timestamp.slice(0, 10)}/${r.provider}/${r.model}`;
    m.set(k, (m.get(k) ?? 0n) + parseUsd(r.cost_usd));
  }
  return m;
}

/** An Alertmanager stand-in that keeps every POST /api/v2/alerts body. */
async function alertReceiver(): Promise<{ url: string; bodies: unknown[]; server: Server }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/v2/alerts') bodies.push(JSON.parse(data));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
}

describe('reconciliation against the providers’ bills', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  const billing = new FakeBilling(2);
  let receiver: Awaited<ReturnType<typeof alertReceiver>>;
  let deps: Parameters<typeof reconcileDay>[0];
  const tracked = trackedCosts();
  const cost = (day: string, provider: string, model: string) => tracked.get(`${day}/${provider}/${model}`) ?? 0n;

  beforeAll(async () => {
    store = await openTestStore('reconcile');
    await seedCalls(store, SEED);
    await billing.start();
    receiver = await alertReceiver();
    const config = readCostConfig({
      OPENAI_ADMIN_KEY: 'sk-admin-openai',
      ANTHROPIC_ADMIN_KEY: 'sk-ant-admin',
      OPENAI_BILLING_BASE_URL: billing.url,
      ANTHROPIC_BILLING_BASE_URL: billing.url,
    });
    deps = {
      store,
      config,
      sink: createAlertmanagerClient({ url: receiver.url }),
      log: pino({ level: 'silent' }),
    };
    // OpenAI: each model's cost split in an input and an output line item of two projects,
    // one amount as a JSON number, one as a string; the dated snapshot name, as OpenAI bills it.
    const openaiLines = (day: string, factor: (c: bigint) => bigint) =>
      (
        [
          ['gpt-4o', 'gpt-4o-2024-08-06'],
          ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
        ] as const
      ).flatMap(([model, snapshot]) => {
        const c = factor(cost(day, 'openai', model));
        const input = (c * 3n) / 5n;
        return [
          { usd: Number(formatScaled(input)), lineItem: `${snapshot}, input`, projectId: 'proj_a' },
          { usd: formatScaled(c - input), lineItem: `${snapshot}, output`, projectId: 'proj_b' },
        ];
      });
    billing.openaiCosts.set(
      D1,
      openaiLines(D1, (c) => c),
    );
    billing.openaiCosts.set(
      D2,
      openaiLines(D2, (c) => (c * 105n) / 100n),
    );
    // D3: OpenAI has no cost line at all (a missing day).
    billing.openaiCosts.set(
      D4,
      openaiLines(D4, (c) => c),
    );
    billing.openaiUsage.set(D1, [
      {
        model: 'gpt-4o-mini-2024-07-18',
        input_tokens: 1000,
        output_tokens: 200,
        input_cached_tokens: 0,
        num_model_requests: 3,
      },
    ]);
    // Anthropic: cents as decimal strings (USD × 100), by workspace.
    // Sonnet's cost in two workspaces, so three lines: two pages.
    for (const day of [D1, D2, D3, D4]) {
      const sonnet = cost(day, 'anthropic', 'claude-sonnet-4-5');
      const half = sonnet / 2n;
      billing.anthropicCosts.set(day, [
        { cents: formatScaled(half * 100n), model: 'claude-sonnet-4-5-20250929', workspaceId: 'wrkspc_1' },
        { cents: formatScaled((sonnet - half) * 100n), model: 'claude-sonnet-4-5-20250929', workspaceId: null },
        {
          cents: formatScaled(cost(day, 'anthropic', 'claude-haiku-4-5') * 100n),
          model: 'claude-haiku-4-5-20251001',
          workspaceId: null,
        },
      ]);
    }
  });
  afterAll(async () => {
    await billing.close();
    receiver.server.close();
    await store.close();
  });

  it('a matching day: totals and models equal to the cent and beyond, following next_page', async () => {
    const out = await reconcileDay(deps, D1);
    expect(out.map((o) => [o.provider, o.status])).toEqual([
      ['openai', 'match'],
      ['anthropic', 'match'],
    ]);
    const stored = await readReconciliation(store, { tenant: '*', from: D1, to: D1 });
    const total = (p: string) => stored.find((r) => r.provider === p && r.dimension === 'total')!;
    const openaiTotal = cost(D1, 'openai', 'gpt-4o') + cost(D1, 'openai', 'gpt-4o-mini');
    expect(parseUsd(total('openai').billed_usd!)).toBe(openaiTotal);
    expect(parseUsd(total('openai').tracked_usd)).toBe(openaiTotal);
    expect(total('openai').drift_pct).toBe(0);
    const anthropicTotal = cost(D1, 'anthropic', 'claude-sonnet-4-5') + cost(D1, 'anthropic', 'claude-haiku-4-5');
    expect(parseUsd(total('anthropic').billed_usd!)).toBe(anthropicTotal);
    expect(total('anthropic').status).toBe('match');
    const models = stored.filter((r) => r.provider === 'openai' && r.dimension === 'model');
    expect(models.map((r) => [r.key, r.status])).toEqual([
      ['gpt-4o', 'match'],
      ['gpt-4o-mini', 'match'],
    ]);
    expect(JSON.parse(models[1]!.details).billedUsage).toEqual({
      requests: 3,
      inputTokens: 1000,
      outputTokens: 200,
      cacheReadTokens: 0,
    });
    const projects = JSON.parse(total('openai').details).projects;
    expect(Object.keys(projects).sort()).toEqual(['proj_a', 'proj_b']);
    // 4 OpenAI lines at 2 a page: the client followed next_page.
    expect(billing.requests.some((r) => r.path === '/v1/organization/costs' && r.query.get('page') === '1')).toBe(true);
    expect(
      billing.requests.some((r) => r.path === '/v1/organizations/cost_report' && r.query.get('page') === 'page_1'),
    ).toBe(true);
    expect(receiver.bodies).toEqual([]);
  });

  it('a day with 5 % drift alerts: an alert_events row and an Alertmanager alert', async () => {
    const out = await reconcileDay(deps, D2, { providers: ['openai'] });
    expect(out[0]!.status).toBe('drift');
    const [total] = await rows<{ drift_pct: number; status: string }>(
      store,
      `SELECT drift_pct, status FROM ${store.database}.reconciliation FINAL
       WHERE day = {d:Date} AND provider = 'openai' AND dimension = 'total'`,
      { d: D2 },
    );
    // Billed 105 for 100 tracked: drift = (billed − tracked) / tracked = +5 %.
    expect(total!.drift_pct).toBeCloseTo(5, 3);
    const events = await rows<{ alertname: string; state: string; scope: string; observed: number }>(
      store,
      `SELECT alertname, state, scope, observed FROM ${store.database}.alert_events`,
    );
    expect(events).toEqual([
      {
        alertname: 'ReconciliationDrift',
        state: 'firing',
        scope: `provider=openai,day=${D2}`,
        observed: total!.drift_pct,
      },
    ]);
    expect(receiver.bodies).toHaveLength(1);
    const [alert] = receiver.bodies[0] as { labels: Record<string, string>; annotations: Record<string, string> }[];
    expect(alert!.labels).toMatchObject({
      alertname: 'ReconciliationDrift',
      provider: 'openai',
      day: D2,
      severity: 'warning',
    });
    expect(alert!.annotations.summary).toContain('+5.00 %');
  });

  it('a missing day: the bill has no line while tokenmeter tracked cost', async () => {
    const out = await reconcileDay(deps, D3, { providers: ['openai'] });
    expect(out[0]!.status).toBe('missing');
    const stored = await readReconciliation(store, { tenant: '*', from: D3, to: D3, provider: 'openai' });
    // The provider answered with no line: a known $0 bill, drift −100 %.
    expect(stored[0]).toMatchObject({ dimension: 'total', status: 'missing', billed_usd: '0', drift_pct: -100 });
    expect(JSON.parse(stored[0]!.details).missing).toBe('billed');
    expect(parseUsd(stored[0]!.tracked_usd)).toBeGreaterThan(0n);
    expect(receiver.bodies).toHaveLength(1);
  });

  it('a provider outage: recorded as an error (never $0), retried later by the daily job until it answers', async () => {
    billing.down.add('anthropic');
    const clock = new FakeClock(new Date(END.getTime() + 2 * 3_600_000 - 1000));
    const job = new ReconcileJob({ ...deps, clock });
    job.start();
    expect(job.nextRun().toISOString()).toBe(new Date(END.getTime() + 2 * 3_600_000).toISOString());
    await clock.advance(1000); // 02:00 UTC: the daily run for yesterday (D4)
    let latest = await readReconciliation(store, { tenant: '*', from: D4, to: D4 });
    const anthropic = () => latest.find((r) => r.provider === 'anthropic' && r.dimension === 'total')!;
    expect(latest.find((r) => r.provider === 'openai' && r.dimension === 'total')!.status).toBe('match');
    expect(anthropic().status).toBe('error');
    expect(JSON.parse(anthropic().details)).toMatchObject({ billed: 'unknown', retryable: true });
    // Unknown, not $0: NULL wherever a number would be summed.
    expect(anthropic()).toMatchObject({ billed_usd: null, drift_pct: null });
    expect(latest.filter((r) => r.provider === 'anthropic')).toHaveLength(1);
    // D4, and the week's days nobody checked yet (the seeded days before D1), wait for a retry.
    expect(job.pendingRetries()).toContain(`anthropic/${D4}`);
    expect(job.pendingRetries().every((k) => k.startsWith('anthropic/'))).toBe(true);

    await clock.advance(15 * 60_000); // first retry: still down
    latest = await readReconciliation(store, { tenant: '*', from: D4, to: D4 });
    expect(anthropic().status).toBe('error');
    billing.down.delete('anthropic');
    await clock.advance(60 * 60_000); // second retry: answers
    latest = await readReconciliation(store, { tenant: '*', from: D4, to: D4 });
    expect(anthropic().status).toBe('match');
    expect(parseUsd(anthropic().billed_usd!)).toBe(
      cost(D4, 'anthropic', 'claude-sonnet-4-5') + cost(D4, 'anthropic', 'claude-haiku-4-5'),
    );
    expect(job.pendingRetries()).toEqual([]);
    // No 'match', 'drift' or 'missing' was ever written with the unknown bill.
    const [zeroes] = await rows<{ n: string }>(
      store,
      `SELECT count() AS n FROM ${store.database}.reconciliation
       WHERE provider = 'anthropic' AND day = {d:Date} AND status != 'error' AND billed_usd = 0`,
      { d: D4 },
    );
    expect(Number(zeroes!.n)).toBe(0);
    // The next daily slot is armed for tomorrow 02:00.
    expect(clock.pending()).toContain(new Date(END.getTime() + DAY + 2 * 3_600_000).toISOString());
    await job.stop();
  });

  it('a service started after the slot catches up on days never checked', async () => {
    const yesterday = END.toISOString().slice(0, 10);
    const clock = new FakeClock(new Date(END.getTime() + DAY + 10 * 3_600_000));
    const job = new ReconcileJob({ ...deps, clock });
    job.start();
    expect(await readReconciliation(store, { tenant: '*', from: yesterday, to: yesterday })).toEqual([]);
    await clock.advance(2 * 60_000);
    const rows = await readReconciliation(store, { tenant: '*', from: yesterday, to: yesterday });
    // Nothing tracked and nothing billed that day: checked, and a match at $0 on both sides.
    expect(rows.filter((r) => r.dimension === 'total').map((r) => [r.provider, r.status])).toEqual([
      ['anthropic', 'match'],
      ['openai', 'match'],
    ]);
    await job.stop();
  });
});
