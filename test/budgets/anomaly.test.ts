import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryAlertSink } from '../../ingest/src/alerts/alertmanager.ts';
import { AlertEvaluator } from '../../ingest/src/alerts/evaluator.ts';
import { DEFAULT_ERROR_RULES, DEFAULT_SPIKE_RULES, type SpikeRules } from '../../ingest/src/anomaly/detect.ts';
import { anomalyAlerts, seriesOf } from '../../ingest/src/anomaly/evaluate.ts';
import { hourlyByKey } from '../../ingest/src/anomaly/queries.ts';
import { seedCalls, type SeedSummary } from '../support/seed.ts';
import { openTestStore } from '../support/store.ts';

/**
 * Cost spikes: three normal weeks of seeded traffic (±50 % per hour, five models, two services),
 * then one hour at 10× its calls. Method: the hour's cost against the same hour of day on each
 * of the 14 trailing days; pages when cost ≥ $0.25 (the floor, set for this traffic) and
 * ≥ mean + 4·sd and ≥ 3 × mean. Error-rate spikes and unpriced models alongside.
 */
const HOUR = 3_600_000;
const END = new Date('2026-11-20T00:00:00Z');
const SPIKE_HOUR = new Date(END.getTime() - 3 * HOUR); // 21:00
const ERROR_HOUR = new Date(END.getTime() - 8 * HOUR); // 16:00
const RULES: SpikeRules = { ...DEFAULT_SPIKE_RULES, minHourlyUsd: 0.25 };

let store: Awaited<ReturnType<typeof openTestStore>>;
let summary: SeedSummary;

beforeAll(async () => {
  store = await openTestStore('anomaly');
  summary = await seedCalls(store, {
    days: 21,
    end: END,
    seed: 5,
    callsPerHour: 20,
    spike: { at: new Date(SPIKE_HOUR.getTime() + 10 * 60_000), factor: 10 },
  });
  // A burst of failures in one hour: 80 more calls, half of them errors (errors cost nothing).
  await seedCalls(store, {
    days: 1 / 24,
    end: new Date(ERROR_HOUR.getTime() + HOUR),
    seed: 6,
    callsPerHour: 80,
    errorRate: 0.5,
    unpricedRate: 0,
  });
});
afterAll(() => store?.close());

describe('cost spike', () => {
  it('the spike hour pages; no other hour of the last week does (ordinary variation)', async () => {
    const rows = await hourlyByKey(store, new Date(END.getTime() - 22 * 24 * HOUR), END);
    const series = seriesOf(rows);
    const pages: string[] = [];
    for (let h = END.getTime() - 7 * 24 * HOUR; h < END.getTime(); h += HOUR) {
      for (const a of anomalyAlerts(series, [h], { spike: RULES, errors: DEFAULT_ERROR_RULES })) {
        if (a.labels.alertname === 'CostSpike') pages.push(`${new Date(h).toISOString()} ${a.labels.scope}`);
      }
    }
    // Every page is in the spike hour: the tenant's total, and the expensive models that carried it.
    expect(pages).toContain(`${SPIKE_HOUR.toISOString()} total`);
    expect(pages.filter((p) => !p.startsWith(SPIKE_HOUR.toISOString()))).toEqual([]);
    const normal = Object.entries(summary.byHour)
      .filter(([k]) => k !== SPIKE_HOUR.toISOString().slice(0, 13).replace('T', ' ') + ':00:00')
      .map(([, t]) => Number(t.costUsd));
    const spikeCost = Number(
      summary.byHour[`${SPIKE_HOUR.toISOString().slice(0, 13).replace('T', ' ')}:00:00`]!.costUsd,
    );
    // Figures for the report: the spike against the ordinary range.
    console.log(
      `hourly cost: normal max ${Math.max(...normal).toFixed(4)} USD, mean ${(normal.reduce((a, b) => a + b, 0) / normal.length).toFixed(4)} USD; spike ${spikeCost.toFixed(4)} USD`,
    );
    expect(spikeCost).toBeGreaterThan((3 * Math.max(...normal)) / 2);
  });

  it('without the floor, per-model noise would page: the floor is what keeps cents quiet', async () => {
    const rows = await hourlyByKey(store, new Date(END.getTime() - 22 * 24 * HOUR), END);
    const series = seriesOf(rows);
    let noisy = 0;
    for (let h = END.getTime() - 7 * 24 * HOUR; h < END.getTime(); h += HOUR) {
      if (h === SPIKE_HOUR.getTime()) continue;
      noisy += anomalyAlerts(series, [h], { spike: { ...RULES, minHourlyUsd: 0 }, errors: DEFAULT_ERROR_RULES }).filter(
        (a) => a.labels.alertname === 'CostSpike',
      ).length;
    }
    expect(noisy).toBeGreaterThan(0);
  });

  it('the evaluator pages the spike, the error burst and the unpriced model, each once', async () => {
    const sink = memoryAlertSink();
    let now = new Date(SPIKE_HOUR.getTime() + 40 * 60_000);
    const evaluator = new AlertEvaluator({
      store,
      log: pino({ level: 'silent' }),
      sink,
      intervalMs: 60_000,
      defaultUserBudget: undefined,
      anomalies: { spike: { minHourlyUsd: 0.25 } },
      now: () => now,
    });
    const first = await evaluator.evaluateOnce();
    const costPages = first.fired.filter((a) => a.labels.alertname === 'CostSpike');
    expect(costPages.map((a) => a.labels.scope)).toContain('total');
    expect(costPages.every((a) => a.labels.severity === 'page' && a.labels.hour === SPIKE_HOUR.toISOString())).toBe(
      true,
    );
    expect(
      first.fired.filter((a) => a.labels.alertname === 'UnpricedModel').map((a) => [a.labels.scope, a.labels.severity]),
    ).toEqual([['provider=custom,model=acme-llm-7b', 'warning']]);
    expect(first.fired.filter((a) => a.labels.alertname === 'ErrorRateSpike')).toEqual([]);
    expect(new Set(sink.sent.at(-1)?.map((a) => a.labels.alertname))).toEqual(new Set(['CostSpike', 'UnpricedModel']));
    // Next hour: the spike hour is now the last complete hour; still firing, not raised again.
    now = new Date(now.getTime() + HOUR);
    expect((await evaluator.evaluateOnce()).fired).toEqual([]);
    // Two hours on, it has passed: resolved with endsAt.
    now = new Date(now.getTime() + HOUR);
    const later = await evaluator.evaluateOnce();
    expect(later.resolved.length).toBe(costPages.length);
    expect(later.resolved.every((a) => a.labels.alertname === 'CostSpike')).toBe(true);
    const last = sink.sent.at(-1)!.find((a) => a.labels.alertname === 'CostSpike')!;
    expect(last.endsAt!.getTime()).toBeLessThanOrEqual(Date.now());

    const errors = new AlertEvaluator({
      store,
      log: pino({ level: 'silent' }),
      sink,
      intervalMs: 60_000,
      defaultUserBudget: undefined,
      anomalies: { spike: { minHourlyUsd: 0.25 } },
      now: () => new Date(ERROR_HOUR.getTime() + 59 * 60_000),
    });
    const e = await errors.evaluateOnce();
    const spike = e.fired.filter((a) => a.labels.alertname === 'ErrorRateSpike');
    expect(spike.map((a) => a.labels.scope)).toContain('total');
    expect(spike.find((a) => a.labels.scope === 'total')!.observed).toBeGreaterThan(0.3);
    expect(e.fired.filter((a) => a.labels.alertname === 'CostSpike')).toEqual([]);
  });
});
