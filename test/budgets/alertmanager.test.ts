import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertmanagerClient } from '../../ingest/src/alerts/alertmanager.ts';
import { AlertEvaluator } from '../../ingest/src/alerts/evaluator.ts';
import { recordAlertEvent } from '../../ingest/src/alerts/events.ts';
import type { DesiredAlert } from '../../ingest/src/alerts/types.ts';
import { putBudget } from '../../ingest/src/budgets/store.ts';
import { openTestStore, rows } from '../support/store.ts';
import { activeAlerts, startAlertmanager, startWebhook, until, type WebhookAlert } from './alertmanager.ts';
import { spend } from './spend.ts';

/**
 * A real Alertmanager (Debian's prometheus-alertmanager) on loopback, routing to a webhook
 * receiver: spend is driven across 75, 90 and 100 % of a daily budget, then the evaluator's
 * clock crosses midnight.
 */
describe('budget alerts through a real Alertmanager', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let am: Awaited<ReturnType<typeof startAlertmanager>>;
  let evaluator: AlertEvaluator;
  // The evaluator's clock (periods); Alertmanager's timestamps stay on the wall clock.
  const today = new Date();
  const day = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  let now = new Date(day + 12 * 3_600_000);
  let resolvedAtPeriodEnd: DesiredAlert[] = [];

  beforeAll(async () => {
    store = await openTestStore('alertmanager');
    webhook = await startWebhook();
    am = await startAlertmanager(webhook.url);
    evaluator = new AlertEvaluator({
      store,
      log: pino({ level: 'silent' }),
      sink: createAlertmanagerClient({ url: am.url }),
      intervalMs: 60_000,
      defaultUserBudget: undefined,
      anomalies: false,
      now: () => now,
    });
    await putBudget(store, 'acme', {
      name: 'search daily',
      scope: { team: 'search', user: '', feature: '', model: '' },
      period: 'day',
      amountUsd: '10',
      mode: 'hard',
      thresholds: [75, 90, 100],
    });
    // Spend outside the scope (another team, another tenant) must not count.
    await spend(store, [
      { at: new Date(day + 3_600_000), usd: '50', team: 'growth' },
      { at: new Date(day + 3_600_000), usd: '50', tenant: 'other', team: 'search' },
    ]);
  });
  afterAll(async () => {
    await am?.close();
    await webhook?.close();
    await store?.close();
  });

  const thresholdsIn = (alerts: { labels: Record<string, string> }[]) =>
    alerts.map((a) => a.labels.threshold).sort((a, b) => Number(a) - Number(b));
  const delivered = (status: 'firing' | 'resolved'): WebhookAlert[] =>
    webhook.payloads.flatMap((p) => p.alerts).filter((a) => a.status === status);

  it('75 %: one alert, recorded once, shown by Alertmanager and delivered', async () => {
    await spend(store, [{ at: new Date(day + 2 * 3_600_000), usd: '7.5' }]);
    const r = await evaluator.evaluateOnce();
    expect(r.fired.map((a) => a.labels.threshold)).toEqual(['75']);
    expect(r.pushed).toBe(true);
    const shown = await until(
      () => activeAlerts(am.url),
      (a) => a.length === 1,
    );
    expect(thresholdsIn(shown)).toEqual(['75']);
    expect(shown[0]?.labels).toMatchObject({
      alertname: 'BudgetThreshold',
      severity: 'info',
      tenant: 'acme',
      scope: 'team=search',
      threshold: '75',
    });
    await until(
      async () => delivered('firing'),
      (d) => d.length === 1,
    );
    expect(delivered('firing').map((a) => a.labels.threshold)).toEqual(['75']);
  });

  it('90 % then 100 %: exactly those alerts; the page reaches the webhook', async () => {
    await spend(store, [{ at: new Date(day + 3 * 3_600_000), usd: '1.5' }]);
    expect((await evaluator.evaluateOnce()).fired.map((a) => a.labels.threshold)).toEqual(['90']);
    expect(
      thresholdsIn(
        await until(
          () => activeAlerts(am.url),
          (a) => a.length === 2,
        ),
      ),
    ).toEqual(['75', '90']);

    await spend(store, [{ at: new Date(day + 4 * 3_600_000), usd: '1.25' }]);
    const r = await evaluator.evaluateOnce();
    expect(r.fired.map((a) => a.labels.threshold)).toEqual(['100']);
    expect(r.fired[0]?.observed).toBeCloseTo(10.25, 9);
    const shown = await until(
      () => activeAlerts(am.url),
      (a) => a.length === 3,
    );
    expect(thresholdsIn(shown)).toEqual(['75', '90', '100']);
    const page = await until(
      async () => delivered('firing').filter((a) => a.labels.severity === 'page'),
      (d) => d.length === 1,
    );
    expect(page[0]?.labels).toMatchObject({ threshold: '100', scope: 'team=search', tenant: 'acme' });
    expect(page[0]?.annotations.summary).toMatch(/102\.5%/);
  });

  it('re-sent every round, but nothing recorded or delivered twice in the period', async () => {
    for (let i = 0; i < 3; i++) {
      now = new Date(now.getTime() + 60_000);
      const r = await evaluator.evaluateOnce();
      expect(r.fired).toEqual([]);
      expect(r.firing).toHaveLength(3);
      expect(r.pushed).toBe(true);
    }
    // Longer than group_wait + group_interval: a second notification would have arrived by now.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(
      delivered('firing')
        .map((a) => a.labels.threshold)
        .sort(),
    ).toEqual(['100', '75', '90']);
    const events = await rows<{ fingerprint: string; n: string }>(
      store,
      `SELECT fingerprint, count() AS n FROM alert_events WHERE state = 'firing' GROUP BY fingerprint`,
    );
    expect(events).toHaveLength(3);
    expect(events.every((e) => Number(e.n) === 1)).toBe(true);
    expect(thresholdsIn(await activeAlerts(am.url))).toEqual(['75', '90', '100']);
  });

  it('at period end every alert resolves: endsAt sent, Alertmanager clears them, the webhook hears it', async () => {
    now = new Date(day + 24 * 3_600_000 + 5 * 60_000);
    const r = await evaluator.evaluateOnce();
    expect(r.fired).toEqual([]);
    expect(r.resolved.map((a) => a.labels.threshold).sort()).toEqual(['100', '75', '90']);
    expect(r.firing).toEqual([]);
    resolvedAtPeriodEnd = r.resolved;
    expect(
      await until(
        () => activeAlerts(am.url),
        (a) => a.length === 0,
      ),
    ).toEqual([]);
    const resolved = await until(
      async () => delivered('resolved'),
      (d) => d.length === 3,
    );
    expect(resolved.map((a) => a.labels.threshold).sort()).toEqual(['100', '75', '90']);
    const history = await rows<{ state: string; n: string }>(
      store,
      `SELECT state, count() AS n FROM alert_events GROUP BY state ORDER BY state`,
    );
    expect(history.map((h) => [h.state, Number(h.n)])).toEqual([
      ['firing', 3],
      ['resolved', 3],
    ]);
    // A further round in the new period: spend is 0 there, nothing fires again.
    expect((await evaluator.evaluateOnce()).fired).toEqual([]);
  });

  it('a second replica recording the same transitions stores them once (insert tokens deduplicate)', async () => {
    const count = async () => Number((await rows<{ n: string }>(store, 'SELECT count() AS n FROM alert_events'))[0]?.n);
    const before = await count();
    for (const a of resolvedAtPeriodEnd) {
      await recordAlertEvent(store, a, 'firing', new Date());
      await recordAlertEvent(store, a, 'resolved', new Date());
    }
    expect(await count()).toBe(before);
  });

  it('a restarted evaluator resumes from alert_events: no second firing, resolutions still sent', async () => {
    now = new Date(day + 36 * 3_600_000);
    await spend(store, [{ at: new Date(day + 25 * 3_600_000), usd: '8' }]);
    const first = await evaluator.evaluateOnce();
    expect(first.fired.map((a) => a.labels.threshold)).toEqual(['75']);
    const restarted = new AlertEvaluator({
      store,
      log: pino({ level: 'silent' }),
      sink: createAlertmanagerClient({ url: am.url }),
      intervalMs: 60_000,
      defaultUserBudget: undefined,
      anomalies: false,
      now: () => now,
    });
    const again = await restarted.evaluateOnce();
    expect(again.fired).toEqual([]);
    expect(again.firing.map((a) => a.labels.threshold)).toEqual(['75']);
    now = new Date(day + 48 * 3_600_000 + 60_000);
    expect((await restarted.evaluateOnce()).resolved.map((a) => a.labels.threshold)).toEqual(['75']);
  });
});
