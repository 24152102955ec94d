import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertmanagerClient } from '../../ingest/src/alerts/alertmanager.ts';
import { readCostConfig } from '../../ingest/src/reconcile/config.ts';
import { reconcileDay } from '../../ingest/src/reconcile/run.ts';
import { formatScaled, parseUsd } from '../../instrumentation/src/prices/index.ts';
import { activeAlerts, startAlertmanager, startWebhook, until } from '../budgets/alertmanager.ts';
import { seedCalls } from '../support/seed.ts';
import { openTestStore, rows } from '../support/store.ts';
import { FakeBilling } from './fake-billing.ts';

const DAY = 86_400_000;
const END = new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
const D = new Date(END.getTime() - DAY).toISOString().slice(0, 10);

describe('drift alerts through a real Alertmanager', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let am: Awaited<ReturnType<typeof startAlertmanager>>;
  const billing = new FakeBilling(5);
  let deps: Parameters<typeof reconcileDay>[0];
  let tracked: { model: string; cost: string }[];

  beforeAll(async () => {
    store = await openTestStore('reconcile_am');
    await seedCalls(store, { days: 1, end: END, seed: 2, callsPerHour: 4 });
    await billing.start();
    webhook = await startWebhook();
    am = await startAlertmanager(webhook.url);
    deps = {
      store,
      config: readCostConfig({ OPENAI_ADMIN_KEY: 'sk-admin-openai', OPENAI_BILLING_BASE_URL: billing.url }),
      sink: createAlertmanagerClient({ url: am.url }),
      log: pino({ level: 'silent' }),
    };
    tracked = await rows<{ model: string; cost: string }>(
      store,
      `SELECT model, toString(sum(cost_usd)) AS cost FROM ${store.database}.ai_rollup_daily
       WHERE provider = 'openai' GROUP BY model`,
    );
  });
  afterAll(async () => {
    await am?.close();
    await webhook?.close();
    await billing.close();
    await store?.close();
  });

  const bill = (factor100: bigint) =>
    billing.openaiCosts.set(
      D,
      tracked.map((t) => ({
        usd: formatScaled((parseUsd(t.cost) * factor100) / 100n),
        lineItem: `${t.model}, input`,
        projectId: null,
      })),
    );

  it('a 5 % drift pages; a corrected bill resolves it', async () => {
    bill(105n);
    expect((await reconcileDay(deps, D))[0]!.status).toBe('drift');
    const active = await until(
      () => activeAlerts(am.url),
      (a) => a.some((x) => x.labels.alertname === 'ReconciliationDrift'),
    );
    expect(active.find((x) => x.labels.alertname === 'ReconciliationDrift')!.labels).toMatchObject({
      provider: 'openai',
      day: D,
      severity: 'warning',
    });
    const paged = await until(
      async () => webhook.payloads.flatMap((p) => p.alerts),
      (a) => a.some((x) => x.status === 'firing' && x.labels.alertname === 'ReconciliationDrift'),
    );
    expect(paged.find((x) => x.status === 'firing')!.annotations.summary).toContain('+5.00 %');

    bill(100n);
    expect((await reconcileDay(deps, D))[0]!.status).toBe('match');
    const resolved = await until(
      async () => webhook.payloads.flatMap((p) => p.alerts),
      (a) => a.some((x) => x.status === 'resolved' && x.labels.alertname === 'ReconciliationDrift'),
    );
    expect(resolved.some((x) => x.status === 'resolved')).toBe(true);
    const events = await rows<{ state: string }>(
      store,
      `SELECT state FROM ${store.database}.alert_events WHERE alertname = 'ReconciliationDrift' ORDER BY ts`,
    );
    expect(events.map((e) => e.state)).toEqual(['firing', 'resolved']);
  });
});
