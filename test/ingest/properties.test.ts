/**
 * Custom properties end to end: set in the app's usage context, carried by the real openai
 * instrumentation onto its spans, sent by the real OTLP/HTTP exporter to a running ingest
 * service with embedded ClickHouse, kept on the call, and filtered and grouped by in the usage
 * API and the export. Over-long and excess properties are dropped and counted.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import OpenAI, * as openaiModule from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUsageContext, withUsageContext } from '../../instrumentation/src/core/usage-context.js';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { SCENARIO_HEADER, type Scenario, startReplayServer, type ReplayServer } from '../replay/server.js';
import { ADMIN_KEY, query, startTestService } from '../support/inprocess.ts';

type Svc = Awaited<ReturnType<typeof startTestService>>;
let svc: Svc;
let replay: ReplayServer;
let provider: NodeTracerProvider;
const sent = new InMemorySpanExporter();

beforeAll(async () => {
  // Bounds made small here to show they are configurable: 4 properties, 24-char names, 40-char values.
  svc = await startTestService('properties', {
    TOKENMETER_MAX_PROPERTIES: '4',
    TOKENMETER_MAX_PROPERTY_NAME_LENGTH: '24',
    TOKENMETER_MAX_PROPERTY_VALUE_LENGTH: '40',
  });
  replay = await startReplayServer();
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'props-app' }),
    spanProcessors: [
      new SimpleSpanProcessor(sent),
      new BatchSpanProcessor(
        new OTLPTraceExporter({
          url: `${svc.url}/v1/traces`,
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        }),
        { scheduledDelayMillis: 50 },
      ),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CBaggagePropagator());
  new OpenAIInstrumentation().apply(openaiModule);
}, 60_000);

afterAll(async () => {
  await provider?.shutdown();
  await replay?.close();
  await svc?.close();
});

const openai = (scenario: Scenario) =>
  new OpenAI({
    apiKey: 'sk-test',
    baseURL: `${replay.url}/v1`,
    defaultHeaders: { [SCENARIO_HEADER]: scenario },
    maxRetries: 0,
  });
const ask = (scenario: Scenario) =>
  openai(scenario).chat.completions.create({
    model: scenario === 'reasoning' ? 'o4-mini' : 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hello' }],
  });

/** The calls: plan and arm vary, tokens vary with the scenario, one call has no plan at all. */
const PLAN: { plan?: string; arm: string; scenario: Scenario }[] = [
  { plan: 'pro', arm: 'a', scenario: 'ok' },
  { plan: 'pro', arm: 'b', scenario: 'cache' },
  { plan: 'pro', arm: 'a', scenario: 'reasoning' },
  { plan: 'free', arm: 'a', scenario: 'ok' },
  { plan: 'free', arm: 'b', scenario: 'ok' },
  { plan: 'team', arm: 'b', scenario: 'cache' },
  { arm: 'a', scenario: 'reasoning' },
];

async function rowsFor(tenant: string, n: number): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const [r] = await query<{ n: string }>(svc, `SELECT count() AS n FROM ai_calls WHERE tenant = '${tenant}'`);
    if (Number(r?.n) >= n) return;
    if (Date.now() > end) throw new Error(`only ${r?.n} of ${n} calls arrived`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: res.status, body: (await res.json()) as T };
};

interface Totals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  reasoningTokens: number;
  costUsd: string;
}

describe('custom properties from the usage context', () => {
  beforeAll(async () => {
    for (const c of PLAN) {
      // The arm is known only later (setUsageContext), as a user id after authentication would be.
      await withUsageContext({ tenant: 'acme', feature: 'answer', properties: c.plan ? { plan: c.plan } : {} }, () => {
        setUsageContext({ properties: { arm: c.arm, attempt: 1 } });
        return ask(c.scenario);
      });
    }
    await provider.forceFlush();
    await rowsFor('acme', PLAN.length);
  }, 60_000);

  it('arrive on the call, typed as strings, and never in the attributes map or a rollup key', async () => {
    const rows = await query<{ properties: Record<string, string>; attrs: string[] }>(
      svc,
      `SELECT properties, mapKeys(attributes) AS attrs FROM ai_calls WHERE tenant = 'acme' ORDER BY timestamp`,
    );
    expect(rows.map((r) => r.properties)).toEqual(
      PLAN.map((c) => ({ ...(c.plan ? { plan: c.plan } : {}), arm: c.arm, attempt: '1' })),
    );
    for (const r of rows) expect(r.attrs.filter((k) => k.startsWith('tokenmeter.property.'))).toEqual([]);
    for (const table of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
      const cols = await query<{ name: string }>(svc, `SELECT name FROM system.columns WHERE table = '${table}'`);
      expect(cols.map((c) => c.name)).not.toContain('properties');
    }
  });

  it('GET /api/v1/usage/summary grouped by a property equals the sums of the spans sent and of the raw rows', async () => {
    const { status, body } = await api<{
      groupBy: string;
      groups: ({ 'property.plan': string; period: Totals } & Record<string, unknown>)[];
      totals: { period: Totals };
    }>('/api/v1/usage/summary?tenant=acme&group_by=property.plan&period=day');
    expect(status).toBe(200);
    expect(body.groupBy).toBe('property.plan');

    // What the app's spans said, grouped by the attribute the instrumentation set.
    const spans = sent.getFinishedSpans().filter((s) => s.attributes['tokenmeter.tenant'] === 'acme');
    expect(spans).toHaveLength(PLAN.length);
    const bySpan = new Map<string, { requests: number; input: number; output: number; cacheRead: number }>();
    for (const s of spans) {
      const k = String(s.attributes['tokenmeter.property.plan'] ?? '');
      const t = bySpan.get(k) ?? { requests: 0, input: 0, output: 0, cacheRead: 0 };
      t.requests++;
      t.input += Number(s.attributes['gen_ai.usage.input_tokens']);
      t.output += Number(s.attributes['gen_ai.usage.output_tokens']);
      t.cacheRead += Number(s.attributes['gen_ai.usage.cache_read.input_tokens'] ?? 0);
      bySpan.set(k, t);
    }
    // What the raw rows hold, summed by ClickHouse with exact decimals.
    const raw = await query<{ k: string; n: string; cost: string }>(
      svc,
      `SELECT properties['plan'] AS k, count() AS n, toString(sum(ifNull(cost_usd, 0))) AS cost
       FROM ai_calls WHERE tenant = 'acme' GROUP BY k`,
    );
    const groups = new Map(body.groups.map((g) => [g['property.plan'], g.period]));
    expect([...groups.keys()].sort()).toEqual(['', 'free', 'pro', 'team']);
    for (const [k, t] of bySpan) {
      const g = groups.get(k)!;
      expect(g.requests, k).toBe(t.requests);
      expect(g.inputTokens, k).toBe(t.input);
      expect(g.outputTokens, k).toBe(t.output);
      expect(g.cacheReadTokens, k).toBe(t.cacheRead);
      const r = raw.find((x) => x.k === k)!;
      expect(Number(g.costUsd), k).toBeCloseTo(Number(r.cost), 12);
      expect(Number(g.costUsd), k).toBeGreaterThan(0);
    }
    // The groups add up to the total the rollups report.
    const sum = (f: (t: Totals) => number) => body.groups.reduce((a, g) => a + f(g.period), 0);
    expect(sum((t) => t.requests)).toBe(body.totals.period.requests);
    expect(sum((t) => t.inputTokens)).toBe(body.totals.period.inputTokens);
    expect(sum((t) => Number(t.costUsd))).toBeCloseTo(Number(body.totals.period.costUsd), 10);
    const rollup = await api<{ totals: { period: Totals } }>('/api/v1/usage/summary?tenant=acme&period=day');
    expect(rollup.body.totals.period).toEqual(body.totals.period);
  });

  it('filters by a property (and another dimension) in summary, daily and the export', async () => {
    const pro = PLAN.filter((c) => c.plan === 'pro');
    const proA = pro.filter((c) => c.arm === 'a');
    const s = await api<{ totals: { period: Totals }; groups: { model: string; period: Totals }[] }>(
      '/api/v1/usage/summary?tenant=acme&period=day&property.plan=pro&property.arm=a&group_by=model',
    );
    expect(s.status).toBe(200);
    expect(s.body.totals.period.requests).toBe(proA.length);
    expect(s.body.groups.map((g) => g.model).sort()).toEqual(['gpt-4o-mini', 'o4-mini']);

    const today = new Date().toISOString().slice(0, 10);
    const d = await api<{ groups: { 'property.arm': string; series: (Totals & { day: string })[] }[] }>(
      `/api/v1/usage/daily?tenant=acme&from=${today}&to=${today}&group_by=property.arm&property.plan=pro`,
    );
    expect(d.status).toBe(200);
    const arms = Object.fromEntries(d.body.groups.map((g) => [g['property.arm'], g.series[0]!.requests]));
    expect(arms).toEqual({ a: proA.length, b: pro.length - proA.length });

    const res = await fetch(`${svc.url}/api/v1/export?tenant=acme&format=ndjson&property.plan=pro`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-total-rows')).toBe(String(pro.length));
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { properties: Record<string, string> });
    expect(lines).toHaveLength(pro.length);
    for (const l of lines) expect(l.properties.plan).toBe('pro');
  });

  it("the web view's calls list filters by property (the dashboard variable's name=value, or property.<name>) and shows them", async () => {
    const from = Date.now() - 3_600_000;
    const to = Date.now() + 60_000;
    const list = await api<{ fields: { name: string; values: unknown[] }[] }>(
      `/api/v1/calls?from=${from}&to=${to}&tenant=acme&property=plan%3Dpro&property.arm=a`,
    );
    expect(list.status).toBe(200);
    const props = list.body.fields.find((f) => f.name === 'properties')!.values;
    const proA = PLAN.filter((c) => c.plan === 'pro' && c.arm === 'a');
    expect(props).toHaveLength(proA.length);
    for (const p of props) expect(p).toBe('arm=a, attempt=1, plan=pro');
    const bad = await api<{ error: string }>(`/api/v1/calls?from=${from}&to=${to}&property=noequals`);
    expect(bad.status).toBe(400);
  });

  it('refuses a malformed property name with a 400 that names it', async () => {
    const bad = await api<{ error: string }>('/api/v1/usage/summary?tenant=acme&group_by=property.pl%20an');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/group_by: a property name/);
    const bad2 = await api<{ error: string }>('/api/v1/usage/daily?tenant=acme&property.=x');
    expect(bad2.status).toBe(400);
  });
});

describe('bounds', () => {
  it('drops over-long and excess properties, keeps the call and the rest, and counts each drop', async () => {
    const metric = async (reason: string) => {
      const text = await (
        await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      ).text();
      const m = new RegExp(`^tokenmeter_properties_dropped_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
      return Number(m?.[1] ?? 0);
    };
    const before = {
      long: await metric('value_too_long'),
      name: await metric('name_too_long'),
      many: await metric('too_many'),
    };
    await withUsageContext(
      {
        tenant: 'bounds',
        properties: {
          a: '1',
          b: '2',
          c: '3',
          d: '4',
          e: '5', // the fifth valid name in sorted order: over the limit of 4
          long: 'v'.repeat(41),
          ['n'.repeat(25)]: 'x',
        },
      },
      () => ask('ok'),
    );
    await provider.forceFlush();
    await rowsFor('bounds', 1);
    const [row] = await query<{ properties: Record<string, string>; input_tokens: string }>(
      svc,
      `SELECT properties, input_tokens FROM ai_calls WHERE tenant = 'bounds'`,
    );
    expect(row?.properties).toEqual({ a: '1', b: '2', c: '3', d: '4' });
    expect(Number(row?.input_tokens)).toBe(19);
    expect(await metric('value_too_long')).toBe(before.long + 1);
    expect(await metric('name_too_long')).toBe(before.name + 1);
    expect(await metric('too_many')).toBe(before.many + 1);
  });
});
