/**
 * Prices per tenant, through the running service: overrides global or for one tenant (set by the
 * installation admin through the CLI, or by a tenant's own admin key through the API), a tenant
 * default price for models no catalogue knows (cost_source 'default', counted as "defaulted" in
 * the unpriced-model alert), and reprice honouring the tenant's override.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { evaluateRule, type ProvisionedRule } from '../../dashboards/src/alert-eval.test-support.ts';
import { ALERT_RULES_FILE, GENERATED_DIR } from '../../dashboards/src/generate.ts';
import { DEFAULT_ERROR_RULES, DEFAULT_SPIKE_RULES } from '../../ingest/src/anomaly/detect.ts';
import { evaluateAnomalies } from '../../ingest/src/anomaly/evaluate.ts';
import { ADMIN_KEY, startCostService } from '../reconcile/service.ts';
import { runCli } from '../support/cli.ts';
import { chatSpan, otlpRequest, str, svcAttr } from '../support/otlp.ts';
import { rows } from '../support/store.ts';
import { expectRollupsEqualRaw } from './consistency.ts';

const HOUR = 3_600_000;
/** Three hours ago, on the hour: a past hour reprice may touch. */
const AT = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

const cli = (url: string, ...argv: string[]) => runCli(argv, { TOKENMETER_URL: url, TOKENMETER_KEY: ADMIN_KEY });

/** One OTLP/JSON call without a cost (ingest prices it): 1M input and 100k output tokens, for a tenant. */
function span(tenant: string, model: string, spanId: string, startMs = AT + 60_000) {
  const call = chatSpan(15, {
    input: 1_000_000,
    output: 100_000,
    startMs,
    extra: [str('gen_ai.request.model', model), str('tokenmeter.tenant', tenant)],
  });
  return otlpRequest([{ ...call, spanId }], [svcAttr('support-bot')]);
}

describe('prices per tenant', () => {
  let svc: Awaited<ReturnType<typeof startCostService>>;
  let globexAdmin = '';
  const send = async (body: unknown) => {
    const res = await fetch(`${svc.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  const cost = async (spanId: string) => {
    const [r] = await rows<{ cost: string | null; source: string; price_id: string; tenant: string }>(
      svc.store,
      `SELECT toString(cost_usd) AS cost, cost_source AS source, price_id, tenant
       FROM ${svc.store.database}.ai_calls FINAL WHERE span_id = {s:String}`,
      { s: spanId },
    );
    return r;
  };
  const asGlobex = (method: string, path: string, body?: unknown) =>
    fetch(`${svc.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${globexAdmin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    svc = await startCostService('tenant-prices', { TOKENMETER_PRICES_REFRESH_SECONDS: '3600' });
    const res = await fetch(`${svc.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'globex', role: 'admin', name: 'globex admin' }),
    });
    expect(res.status).toBe(201);
    globexAdmin = ((await res.json()) as { key: string }).key;
  }, 120_000);
  afterAll(async () => {
    await svc?.close();
  });

  it('two tenants with different overrides for one model: different costs for the same call', async () => {
    // acme's rate, set by the installation admin through the CLI.
    const acme = await cli(
      svc.url,
      'prices',
      'set',
      '--tenant',
      'acme',
      '--provider',
      'openai',
      '--model',
      'gpt-4o-mini',
      '--from',
      '2020-01-01',
      '--input',
      '0.1',
      '--output',
      '0.5',
    );
    expect(acme.code).toBe(0);
    expect(acme.out).toContain('(tenant acme)');
    // globex's rate, set by globex's own admin key: it lands on globex whatever it names.
    const put = await asGlobex('PUT', '/api/v1/prices', {
      provider: 'openai',
      model: 'gpt-4o-mini',
      effective_from: '2020-01-01',
      prices: { input_mtok: 0.12, output_mtok: 0.45 },
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { override: { tenant: string } }).override.tenant).toBe('globex');
    // …and never on another tenant, nor globally.
    const foreign = await asGlobex('PUT', '/api/v1/prices', {
      tenant: 'acme',
      provider: 'openai',
      model: 'gpt-4o-mini',
      effective_from: '2020-01-01',
      prices: { input_mtok: 0.01 },
    });
    expect(foreign.status).toBe(403);
    // globex sees the global overrides and its own, not acme's.
    const seen = (await (await asGlobex('GET', '/api/v1/prices')).json()) as { overrides: { tenant: string }[] };
    expect(seen.overrides.map((o) => o.tenant)).toEqual(['globex']);

    await send(span('acme', 'gpt-4o-mini', 'a000000000000001'));
    await send(span('globex', 'gpt-4o-mini', 'b000000000000001'));
    await send(span('initech', 'gpt-4o-mini', 'c000000000000001'));
    // 1M input, 100k output. acme: 0.10 + 0.05; globex: 0.12 + 0.045;
    // initech, the catalogue's gpt-4o-mini ($0.15 / $0.60 per 1M, openai.com/api/pricing, read 2026-12-07): 0.15 + 0.06.
    expect(await cost('a000000000000001')).toMatchObject({ cost: '0.15', source: 'ingest' });
    expect(await cost('b000000000000001')).toMatchObject({ cost: '0.165', source: 'ingest' });
    expect(await cost('c000000000000001')).toMatchObject({
      cost: '0.21',
      source: 'ingest',
      price_id: 'catalogue:openai/gpt-4o-mini',
    });
  });

  it("a tenant's default price prices models no catalogue knows, as 'default', alerted as defaulted", async () => {
    const set = await cli(
      svc.url,
      'prices',
      'set',
      '--tenant',
      'acme',
      '--provider',
      '*',
      '--model',
      '*',
      '--from',
      '2020-01-01',
      '--input',
      '1',
      '--output',
      '2',
    );
    expect(set.code).toBe(0);
    await send(span('acme', 'acme-private-7b', 'a000000000000002'));
    await send(span('globex', 'acme-private-7b', 'b000000000000002'));
    await send(span('acme', 'gpt-4o', 'a000000000000003'));
    // 1M × $1 + 100k × $2 = $1.20, marked as a default price; globex has none: unpriced (NULL).
    expect(await cost('a000000000000002')).toMatchObject({ cost: '1.2', source: 'default' });
    expect(await cost('b000000000000002')).toMatchObject({ cost: null, source: '' });
    // A model the catalogue knows keeps its real price.
    expect((await cost('a000000000000003'))?.price_id).toBe('catalogue:openai/gpt-4o');

    const alerts = await evaluateAnomalies(svc.store, new Date(AT + HOUR), {
      spike: DEFAULT_SPIKE_RULES,
      errors: DEFAULT_ERROR_RULES,
    });
    const unpriced = alerts.filter((a) => a.labels.alertname === 'UnpricedModel');
    const of = (tenant: string) => unpriced.find((a) => a.labels.tenant === tenant);
    expect(of('acme')?.annotations).toMatchObject({ unpriced: '0', defaulted: '1' });
    expect(of('acme')?.annotations.summary).toContain('priced by a default price only');
    expect(of('globex')?.annotations).toMatchObject({ unpriced: '1', defaulted: '0' });
    expect(unpriced).toHaveLength(2);

    // The provisioned Grafana rule counts both.
    const doc = parse(readFileSync(join(GENERATED_DIR, ALERT_RULES_FILE), 'utf8'));
    const rule = (doc.groups.flatMap((g: { rules: ProvisionedRule[] }) => g.rules) as ProvisionedRule[]).find(
      (r) => r.uid === 'tokenmeter-unpriced-model',
    )!;
    const result = await evaluateRule(svc.store, { ...rule, condition: 'B' }, new Date(AT + HOUR));
    expect(result.series.map((s) => [s.labels.tenant, s.labels.model, s.value]).sort()).toEqual([
      ['acme', 'acme-private-7b', 1],
      ['globex', 'acme-private-7b', 1],
    ]);
  });

  it("reprice honours the tenant's override, and a tenant key re-prices its own calls only", async () => {
    // A call at the catalogue's price before globex negotiated a new rate for gpt-4o.
    await send(span('globex', 'gpt-4o', 'b000000000000004'));
    await send(span('acme', 'gpt-4o', 'a000000000000004'));
    // gpt-4o: $2.50 / $10 per 1M (openai.com/api/pricing, read 2026-12-07): 2.5 + 1.0.
    expect(await cost('b000000000000004')).toMatchObject({ cost: '3.5', price_id: 'catalogue:openai/gpt-4o' });
    const put = await asGlobex('PUT', '/api/v1/prices', {
      provider: 'openai',
      model: 'gpt-4o',
      effective_from: new Date(AT - 24 * HOUR).toISOString(),
      prices: { input_mtok: 2, output_mtok: 8 },
    });
    expect(put.status).toBe(200);
    const res = await asGlobex('POST', '/api/v1/reprice', {
      from: new Date(AT).toISOString(),
      to: new Date(AT + HOUR).toISOString(),
    });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ result: { changed: 1 } });
    // globex: 2.0 + 0.8 at its own rate; acme's call of the same model keeps the catalogue's.
    expect(await cost('b000000000000004')).toMatchObject({ cost: '2.8', source: 'ingest' });
    expect((await cost('b000000000000004'))?.price_id).toMatch(/^override:/);
    expect(await cost('a000000000000004')).toMatchObject({ cost: '3.5', price_id: 'catalogue:openai/gpt-4o' });
    // Earlier tenant-priced calls are unchanged by the reprice: their prices are already in force.
    expect(await cost('a000000000000001')).toMatchObject({ cost: '0.15' });
    await expectRollupsEqualRaw(svc.store);
  });
});
