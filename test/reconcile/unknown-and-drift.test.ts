/**
 * Reconciliation that cannot be misread, through the running service: a day whose bill answered
 * 500 is unknown (NULL, never $0) in the table, the API, every Reconciliation panel and the CLI;
 * a bill 5 % above tracked is +5 % in the table, the API, the panels, the service's alert, the
 * provisioned Grafana alert rule and the CLI: one definition, (billed − tracked) / tracked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluateRule, type ProvisionedRule } from '../../dashboards/src/alert-eval.test-support.ts';
import { ALERT_RULES_FILE, GENERATED_DIR } from '../../dashboards/src/generate.ts';
import { formatScaled, parseUsd } from '../../instrumentation/src/prices/index.ts';
import { seedCalls } from '../support/seed.ts';
import { runCli } from '../support/cli.ts';
import { rows } from '../support/store.ts';
import { FakeBilling } from './fake-billing.ts';
import { ADMIN_KEY, startCostService } from './service.ts';

const DAY = 86_400_000;
const END = new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
const D_DRIFT = new Date(END.getTime() - 2 * DAY).toISOString().slice(0, 10);
const D_UNREAD = new Date(END.getTime() - DAY).toISOString().slice(0, 10);

const cli = (url: string, ...argv: string[]) => runCli(argv, { TOKENMETER_URL: url, TOKENMETER_KEY: ADMIN_KEY });

interface Frame {
  fields: { name: string; values: (number | string | null)[] }[];
  rows: number;
}

describe('reconciliation: an unread bill is unknown everywhere, drift has one sign and value', () => {
  let svc: Awaited<ReturnType<typeof startCostService>>;
  const billing = new FakeBilling(5);
  let tracked: bigint;
  let billed: bigint;

  beforeAll(async () => {
    await billing.start();
    svc = await startCostService('recon-truth', {
      OPENAI_ADMIN_KEY: 'sk-admin-openai',
      OPENAI_BILLING_BASE_URL: billing.url,
    });
    await seedCalls(svc.store, { days: 3, end: END, seed: 21, callsPerHour: 4 });
    const byModel = await rows<{ model: string; cost: string }>(
      svc.store,
      `SELECT model, toString(sum(cost_usd)) AS cost FROM ${svc.store.database}.ai_rollup_daily
       WHERE day = {d:Date} AND provider = 'openai' GROUP BY model ORDER BY model`,
      { d: D_DRIFT },
    );
    // A bill exactly 5 % above tracked, model by model (amounts whole to the 12th decimal).
    const lines = byModel.map((t) => ({ model: t.model, usd: (parseUsd(t.cost) * 105n) / 100n }));
    tracked = byModel.reduce((a, t) => a + parseUsd(t.cost), 0n);
    billed = lines.reduce((a, l) => a + l.usd, 0n);
    expect(tracked).toBeGreaterThan(0n);
    expect(Number(((billed - tracked) * 1_000_000n) / tracked) / 10_000).toBe(5);
    billing.openaiCosts.set(
      D_DRIFT,
      lines.map((l) => ({ usd: formatScaled(l.usd), lineItem: `${l.model}, input`, projectId: 'proj_1' })),
    );
  }, 120_000);
  afterAll(async () => {
    await svc?.close();
    await billing.close();
  });

  it('the CLI: +5.00 for the drifting day, unknown for the day whose bill answered 500', async () => {
    const drift = await cli(svc.url, 'reconcile', '--date', D_DRIFT, '--provider', 'openai');
    expect(drift.out).toContain(`openai ${D_DRIFT}: drift`);
    const totalLine = drift.out.split('\n').find((l) => /^\s*total\b/.test(l));
    expect(totalLine).toMatch(/\+5\.00\s+drift/);

    billing.down.add('openai');
    billing.downStatus = 500;
    const unread = await cli(svc.url, 'reconcile', '--date', D_UNREAD, '--provider', 'openai');
    billing.down.delete('openai');
    expect(unread.code).not.toBe(0);
    expect(unread.out).toContain(`openai ${D_UNREAD}: error`);
    const unreadLine = unread.out.split('\n').find((l) => /^\s*total\b/.test(l));
    expect(unreadLine).toMatch(/unknown\s+unknown\s+error/);
    expect(unreadLine).not.toMatch(/\s0(\.0+)?(\s|$)/);
  });

  it('the table: NULL bill and drift for the unread day, +5 for the other', async () => {
    const stored = await rows<{ day: string; billed: string | null; drift: number | null; status: string }>(
      svc.store,
      `SELECT toString(day) AS day, toString(billed_usd) AS billed, drift_pct AS drift, status
       FROM ${svc.store.database}.reconciliation FINAL WHERE dimension = 'total' ORDER BY day`,
    );
    expect(stored).toEqual([
      { day: D_DRIFT, billed: formatScaled(billed), drift: 5, status: 'drift' },
      { day: D_UNREAD, billed: null, drift: null, status: 'error' },
    ]);
    // No sum can count the unread bill as $0.
    const [sum] = await rows<{ known: number; n: number }>(
      svc.store,
      `SELECT count(billed_usd) AS known, count() AS n FROM ${svc.store.database}.reconciliation WHERE dimension = 'total'`,
    );
    expect(sum).toEqual({ known: 1, n: 2 });
  });

  it('the API: billed_usd null and drift_pct null for the unread day; +5 for the other', async () => {
    const res = await fetch(`${svc.url}/api/v1/reconciliation?from=${D_DRIFT}&to=${D_UNREAD}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const body = (await res.json()) as {
      rows: { day: string; dimension: string; billed_usd: string | null; drift_pct: number | null; status: string }[];
    };
    const total = (day: string) => body.rows.find((r) => r.day === day && r.dimension === 'total');
    expect(total(D_DRIFT)).toMatchObject({ billed_usd: formatScaled(billed), drift_pct: 5, status: 'drift' });
    expect(total(D_UNREAD)).toMatchObject({ billed_usd: null, drift_pct: null, status: 'error' });
  });

  it('every panel of the Reconciliation dashboard: unknown (never $0) and +5 %', async () => {
    const auth = { headers: { authorization: `Bearer ${ADMIN_KEY}` } };
    const dash = (await (await fetch(`${svc.url}/api/v1/dashboards/tokenmeter-reconciliation`, auth)).json()) as {
      panels: { id: number; title: string }[];
    };
    const from = Date.parse(`${D_DRIFT}T00:00:00Z`) - DAY;
    const to = END.getTime() + DAY - 1;
    const data = async (title: string): Promise<Frame> => {
      const p = dash.panels.find((x) => x.title === title);
      expect(p, title).toBeDefined();
      const r = await fetch(
        `${svc.url}/api/v1/dashboards/tokenmeter-reconciliation/panels/${p!.id}/data?from=${from}&to=${to}`,
        auth,
      );
      expect(r.status, title).toBe(200);
      return (await r.json()) as Frame;
    };
    const column = (f: Frame, name: string) => f.fields.find((x) => x.name === name)?.values ?? [];
    const rowOf = (f: Frame, where: (get: (c: string) => unknown) => boolean) => {
      for (let i = 0; i < f.rows; i++) {
        const get = (c: string) => column(f, c)[i];
        if (where(get)) return get;
      }
      return undefined;
    };
    const at = (day: string) => Date.parse(`${day}T00:00:00Z`);

    const perDay = await data('Tracked vs billed per day');
    const unreadDay = rowOf(perDay, (g) => g('time') === at(D_UNREAD));
    expect(unreadDay?.('billed_usd')).toBeNull();
    expect(Number(unreadDay?.('tracked_usd'))).toBeGreaterThan(0);
    expect(rowOf(perDay, (g) => g('time') === at(D_DRIFT))?.('billed_usd')).toBeCloseTo(
      Number(formatScaled(billed)),
      9,
    );

    const drift = await data('Drift by provider');
    // A wide frame: one series per provider; the unread day has no point.
    const series = drift.fields.find((f) => f.name !== 'time');
    const times = column(drift, 'time');
    expect(series?.values[times.indexOf(at(D_DRIFT))]).toBe(5);
    expect(times.includes(at(D_UNREAD)) ? series?.values[times.indexOf(at(D_UNREAD))] : null).toBeNull();

    expect(column(await data('Bills unknown'), 'days')).toEqual([1]);
    expect(column(await data('Days with drift'), 'days')).toEqual([1]);

    const latest = await data('Latest checks');
    const unreadTotal = rowOf(latest, (g) => g('day') === at(D_UNREAD) && g('dimension') === 'total');
    expect(unreadTotal?.('billed_usd')).toBeNull();
    expect(unreadTotal?.('drift_pct')).toBeNull();
    expect(unreadTotal?.('status')).toBe('bill unknown');
    const driftTotal = rowOf(latest, (g) => g('day') === at(D_DRIFT) && g('dimension') === 'total');
    expect(driftTotal?.('drift_pct')).toBe(5);
  });

  it("the service's alert and the provisioned Grafana rule: drift +5", async () => {
    const events = await rows<{ alertname: string; observed: number; details: string }>(
      svc.store,
      `SELECT alertname, observed, details FROM ${svc.store.database}.alert_events WHERE alertname = 'ReconciliationDrift'`,
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.observed).toBe(5);
    expect(events[0]!.details).toContain('+5.00 %');
    expect(events[0]!.details).toContain(formatScaled(billed));
    const doc = parse(readFileSync(join(GENERATED_DIR, ALERT_RULES_FILE), 'utf8'));
    const rules: ProvisionedRule[] = doc.groups.flatMap((g: { rules: ProvisionedRule[] }) => g.rules);
    const rule = rules.find((r) => r.uid === 'tokenmeter-reconciliation-drift')!;
    const result = await evaluateRule(svc.store, rule, new Date(END.getTime() + 3_600_000));
    expect(result.state).toBe('Alerting');
    expect(result.firing).toEqual([expect.objectContaining({ provider: 'openai' })]);
    // The value the rule reduces and shows ({{ $values.B }}): the signed drift.
    const reduced = await evaluateRule(svc.store, { ...rule, condition: 'B' }, new Date(END.getTime() + 3_600_000));
    expect(reduced.series).toEqual([{ labels: expect.objectContaining({ provider: 'openai' }), value: 5 }]);
  });
});
