import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { insertSettings } from '../../ingest/src/store/client.ts';
import { seedCalls } from '../../test/support/seed.ts';
import { openTestStore } from '../../test/support/store.ts';
import { evaluateRule, type ProvisionedRule } from './alert-eval.test-support.js';
import { ingestStats } from './fixture.test-support.js';
import { ALERT_RULES_FILE, GENERATED_DIR } from './generate.js';

/**
 * Every provisioned rule, evaluated as Grafana would, on one store with a "bad" tenant
 * that must fire and a "calm" one that must stay quiet (and, for ingest stalled, a
 * moment when spans flow and one when they stopped).
 */
const NOW = new Date('2026-11-20T12:30:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

const doc = parse(readFileSync(join(GENERATED_DIR, ALERT_RULES_FILE), 'utf8'));
const rules: ProvisionedRule[] = doc.groups.flatMap((g: { rules: ProvisionedRule[] }) => g.rules);

/** Per rule: labels a firing series must carry, and labels no firing series may carry. */
const EXPECT: Record<string, { fires: Record<string, string>; quiet: Record<string, string>[] }> = {
  'tokenmeter-budget-threshold': { fires: { tenant: 'spiky', budget: 'Spiky daily' }, quiet: [{ tenant: 'calm' }] },
  'tokenmeter-budget-exhausted': { fires: { tenant: 'spiky', budget: 'Spiky daily' }, quiet: [{ tenant: 'calm' }] },
  'tokenmeter-cost-spike': { fires: { tenant: 'spiky' }, quiet: [{ tenant: 'calm' }] },
  'tokenmeter-error-rate-spike': { fires: { tenant: 'flaky' }, quiet: [{ tenant: 'calm' }] },
  'tokenmeter-unpriced-model': {
    fires: { tenant: 'spiky', provider: 'custom', model: 'acme-llm-7b' },
    quiet: [{ tenant: 'calm' }],
  },
  'tokenmeter-reconciliation-drift': { fires: { tenant: 'spiky', provider: 'anthropic' }, quiet: [{ tenant: 'calm' }] },
};

let store: Awaited<ReturnType<typeof openTestStore>>;

beforeAll(async () => {
  store = await openTestStore('alert_rules');
  const common = { days: 9, end: NOW, callsPerHour: 8, errorRate: 0.02 };
  await seedCalls(store, { ...common, tenant: 'calm', seed: 21, unpricedRate: 0 });
  await seedCalls(store, {
    ...common,
    tenant: 'spiky',
    seed: 22,
    unpricedRate: 0.1,
    spike: { at: new Date(NOW.getTime() - 75 * MIN), factor: 15 },
  });
  await seedCalls(store, { ...common, tenant: 'flaky', seed: 23, unpricedRate: 0 });
  await seedCalls(store, {
    days: 2 / 24,
    end: NOW,
    callsPerHour: 60,
    errorRate: 0.5,
    tenant: 'flaky',
    seed: 24,
    unpricedRate: 0,
  });
  const write = (table: string, values: Record<string, unknown>[]) =>
    store.writer.insert({
      table: `${store.database}.${table}`,
      format: 'JSONEachRow',
      values,
      clickhouse_settings: insertSettings(`alert-rules-${table}`),
    });
  const b = (id: string, tenant: string, name: string, period: string, amount: string) => ({
    id,
    tenant,
    name,
    scope_team: '',
    scope_user: '',
    scope_feature: '',
    scope_model: '',
    period,
    amount_usd: amount,
    mode: 'hard',
    thresholds: [90, 100],
    created_at: iso(NOW),
    updated_at: iso(NOW),
    deleted: 0,
  });
  await write('budgets', [
    b('c1', 'calm', 'Calm monthly', 'month', '1000'),
    b('c2', 'calm', 'Calm daily', 'day', '100'),
    b('s1', 'spiky', 'Spiky daily', 'day', '0.01'),
  ]);
  const recon = [];
  for (let d = 1; d <= 3; d++) {
    const day = new Date(NOW.getTime() - d * 24 * HOUR).toISOString().slice(0, 10);
    recon.push(
      { day, tenant: 'calm', provider: 'openai', drift: 0.5 },
      { day, tenant: 'spiky', provider: 'anthropic', drift: d === 1 ? 12 : 1 },
    );
  }
  await write(
    'reconciliation',
    recon.map((r) => ({
      day: r.day,
      tenant: r.tenant,
      provider: r.provider,
      dimension: 'total',
      key: '',
      tracked_usd: '100',
      billed_usd: String(100 + r.drift),
      drift_pct: r.drift,
      status: r.drift > 5 ? 'drift' : 'match',
      checked_at: iso(NOW),
      details: '',
    })),
  );
  // Spans stop being accepted 40 minutes before NOW; the instances keep reporting.
  await write(
    'ingest_stats',
    ingestStats(NOW.getTime() - 3 * HOUR, NOW.getTime(), { stopAcceptingAt: NOW.getTime() - 40 * MIN }),
  );
});
afterAll(() => store.close());

const matches = (labels: Record<string, string>, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => labels[k] === v);

describe('provisioned alert rules', () => {
  it('are the six the issue asks for (budget split into warning and page), each with a test case', () => {
    expect(rules.map((r) => r.uid).sort()).toEqual([...Object.keys(EXPECT), 'tokenmeter-ingest-stalled'].sort());
    for (const r of rules) expect(['page', 'warning']).toContain(r.labels.severity);
  });

  it.each(Object.entries(EXPECT))('%s fires on the bad data and stays quiet on the normal data', async (uid, want) => {
    const rule = rules.find((r) => r.uid === uid) as ProvisionedRule;
    const result = await evaluateRule(store, rule, NOW);
    const detail = JSON.stringify(result.series);
    expect(result.state, detail).toBe('Alerting');
    expect(
      result.firing.some((l) => matches(l, want.fires)),
      detail,
    ).toBe(true);
    for (const q of want.quiet)
      expect(
        result.firing.some((l) => matches(l, q)),
        detail,
      ).toBe(false);
    // The quiet tenants are evaluated, not absent: they have series with a value.
    for (const q of want.quiet) {
      if (uid !== 'tokenmeter-unpriced-model')
        expect(
          result.series.some((s) => matches(s.labels, q)),
          detail,
        ).toBe(true);
    }
  });

  it('ingest stalled: fires when spans stopped while the same hour yesterday had calls, quiet otherwise', async () => {
    const rule = rules.find((r) => r.uid === 'tokenmeter-ingest-stalled') as ProvisionedRule;
    expect((await evaluateRule(store, rule, NOW)).state).toBe('Alerting');
    expect((await evaluateRule(store, rule, new Date(NOW.getTime() - 60 * MIN))).state).toBe('Normal');
    // Ten days before: no spans, but no calls the day before either (nothing was running).
    expect((await evaluateRule(store, rule, new Date(NOW.getTime() - 10 * 24 * HOUR))).state).toBe('Normal');
  });

  it('on calm data alone no rule fires for the calm tenant', async () => {
    for (const rule of rules.filter((r) => r.uid !== 'tokenmeter-ingest-stalled')) {
      const result = await evaluateRule(store, rule, NOW);
      expect(
        result.firing.filter((l) => l.tenant === 'calm'),
        rule.uid,
      ).toEqual([]);
    }
  });
});
