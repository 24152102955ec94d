import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEvaluator } from '../../ingest/src/alerts/evaluator.ts';
import { alertOnDrift } from '../../ingest/src/reconcile/alerts.ts';
import { openTestStore, rows } from '../support/store.ts';

/**
 * A drift alert stays firing until a re-check of its day resolves it. The budget/anomaly
 * evaluator shares alert_events: after a restart it must not resolve alerts it did not raise.
 */
describe('drift alerts and the budget evaluator after a restart', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  beforeAll(async () => {
    store = await openTestStore('drift_evaluator');
  });
  afterAll(() => store.close());

  it('the evaluator leaves a firing ReconciliationDrift alone (it loads only the alertnames it raises)', async () => {
    const U = 10n ** 12n;
    await alertOnDrift(
      { store, sink: undefined, log: pino({ level: 'silent' }) },
      [
        {
          day: '2026-11-20',
          tenant: '*',
          provider: 'openai',
          dimension: 'total',
          key: '',
          trackedUsd: 100n * U,
          billedUsd: 105n * U,
          driftPct: 5,
          status: 'drift',
          details: {},
        },
      ],
      { thresholdPct: 2, now: new Date('2026-11-21T02:00:00Z') },
    );
    const evaluator = new AlertEvaluator({
      store,
      log: pino({ level: 'silent' }),
      sink: undefined,
      intervalMs: 60_000,
    });
    await evaluator.evaluateOnce();
    const [latest] = await rows<{ state: string }>(
      store,
      `SELECT argMax(state, ts) AS state FROM ${store.database}.alert_events WHERE alertname = 'ReconciliationDrift'`,
    );
    expect(latest!.state).toBe('firing');
  });
});
