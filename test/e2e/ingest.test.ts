import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUsd, formatScaled, priceCall } from '../../instrumentation/src/prices/index.ts';
import { ADMIN_KEY, query, startTestService } from '../support/inprocess.ts';

type Svc = Awaited<ReturnType<typeof startTestService>>;
let svc: Svc;
beforeAll(async () => {
  svc = await startTestService('e2e_ingest');
});
afterAll(async () => {
  await svc?.close();
});

interface Sent {
  model: string;
  provider: string;
  input: number;
  output: number;
  cacheRead: number;
  user: string;
  feature: string;
  error?: boolean;
}

const CALLS: Sent[] = [
  { provider: 'openai', model: 'gpt-4o-mini', input: 1200, output: 340, cacheRead: 1024, user: 'u-1', feature: 'chat' },
  { provider: 'openai', model: 'gpt-4o', input: 5000, output: 20, cacheRead: 0, user: 'u-2', feature: 'search' },
  {
    provider: 'anthropic',
    model: 'claude-sonnet-4-20250514',
    input: 42_000,
    output: 900,
    cacheRead: 40_000,
    user: 'u-1',
    feature: 'chat',
  },
  { provider: 'openai', model: 'no-such-model-7', input: 10, output: 10, cacheRead: 0, user: 'u-3', feature: 'chat' },
  {
    provider: 'openai',
    model: 'gpt-4o-mini',
    input: 77,
    output: 0,
    cacheRead: 0,
    user: 'u-2',
    feature: 'chat',
    error: true,
  },
];

/** Emit the calls as current-semconv GenAI spans through a real SDK pipeline and exporter. */
async function emit(exporter: SpanExporter, tenant: string, tag: string): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `svc-${tag}`, 'tokenmeter.tenant': tenant }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('e2e');
  for (const c of CALLS) {
    const span = tracer.startSpan(`chat ${c.model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': c.provider,
        'gen_ai.request.model': c.model,
        'gen_ai.usage.input_tokens': c.input,
        'gen_ai.usage.output_tokens': c.output,
        ...(c.cacheRead ? { 'gen_ai.usage.cache_read.input_tokens': c.cacheRead } : {}),
        'user.id': c.user,
        'tokenmeter.feature': c.feature,
        ...(c.error ? { 'error.type': 'rate_limit_exceeded' } : {}),
      },
    });
    if (c.error) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
  // One non-GenAI span: an otel_traces row, no ai_calls row.
  tracer.startSpan('GET /health').end();
  await provider.forceFlush();
  await provider.shutdown();
}

function expectedCost(tenantCalls: Sent[]): string {
  let sum = 0n;
  for (const c of tenantCalls) {
    const r = priceCall({
      provider: c.provider,
      model: c.model,
      usage: { inputTokens: c.input, outputTokens: c.output, cacheReadTokens: c.cacheRead },
      timestamp: new Date(),
    });
    if (r.priced) sum += parseUsd(r.costUsd);
  }
  return formatScaled(sum);
}

const headers = { Authorization: `Bearer ${ADMIN_KEY}` };

describe.each([
  ['protobuf', 'proto-tenant', (url: string) => new ProtoExporter({ url, headers })],
  ['json', 'json-tenant', (url: string) => new HttpJsonExporter({ url, headers })],
])('spans sent with the real OTLP %s exporter', (_name, tenant, make) => {
  beforeAll(async () => {
    await emit(make(`${svc.url}/v1/traces`), tenant, tenant);
  });

  it('writes one ai_calls row per AI call with the sent tokens and the price engine’s cost', async () => {
    const got = await query<{
      model: string;
      input_tokens: string;
      output_tokens: string;
      cache_read_tokens: string;
      cost_usd: string | null;
      priced: boolean;
      cost_source: string;
      status: string;
      user_id: string;
      feature: string;
      service: string;
    }>(
      svc,
      `SELECT model, input_tokens, output_tokens, cache_read_tokens, toString(cost_usd) AS cost_usd, priced, cost_source, status, user_id, feature, service
       FROM ai_calls WHERE tenant = '${tenant}' ORDER BY input_tokens`,
    );
    const sorted = [...CALLS].sort((a, b) => a.input - b.input);
    expect(
      got.map((r) => [
        r.model,
        Number(r.input_tokens),
        Number(r.output_tokens),
        Number(r.cache_read_tokens),
        r.user_id,
        r.feature,
      ]),
    ).toEqual(sorted.map((c) => [c.model, c.input, c.output, c.cacheRead, c.user, c.feature]));
    for (const [i, row] of got.entries()) {
      const c = sorted[i]!;
      const price = priceCall({
        provider: c.provider,
        model: c.model,
        usage: { inputTokens: c.input, outputTokens: c.output, cacheReadTokens: c.cacheRead },
        timestamp: new Date(),
      });
      if (price.priced) {
        expect(row.cost_usd === null ? null : formatScaled(parseUsd(row.cost_usd))).toBe(price.costUsd);
        expect(row.cost_source).toBe('ingest');
      } else {
        expect(row.cost_usd).toBeNull();
        expect(row.priced).toBe(false);
      }
      expect(row.status).toBe(c.error ? 'error' : 'ok');
      expect(row.service).toBe(`svc-${tenant}`);
    }
  });

  it('rolls up to the same sums, hourly and daily, as the raw rows and what was sent', async () => {
    for (const table of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
      const [r] = await query<{
        requests: string;
        errors: string;
        unpriced: string;
        input: string;
        output: string;
        cache_read: string;
        cost: string;
      }>(
        svc,
        `SELECT sum(requests) AS requests, sum(errors) AS errors, sum(unpriced_requests) AS unpriced, sum(input_tokens) AS input,
                sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read, toString(sum(cost_usd)) AS cost
         FROM ${table} WHERE tenant = '${tenant}'`,
      );
      expect(Number(r!.requests)).toBe(CALLS.length);
      expect(Number(r!.errors)).toBe(1);
      expect(Number(r!.unpriced)).toBe(1);
      expect(Number(r!.input)).toBe(CALLS.reduce((s, c) => s + c.input, 0));
      expect(Number(r!.output)).toBe(CALLS.reduce((s, c) => s + c.output, 0));
      expect(Number(r!.cache_read)).toBe(CALLS.reduce((s, c) => s + c.cacheRead, 0));
      expect(formatScaled(parseUsd(r!.cost))).toBe(expectedCost(CALLS));
    }
    const [raw] = await query<{ n: string }>(svc, `SELECT count() AS n FROM otel_traces WHERE TenantId = '${tenant}'`);
    expect(Number(raw!.n)).toBe(CALLS.length + 1);
  });
});

describe('a retried request body', () => {
  it('leaves every count and sum unchanged, however often it is sent', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'retry', 'tokenmeter.tenant': 'retry-tenant' }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer('e2e');
    for (let i = 0; i < 3; i++) {
      tracer
        .startSpan('chat gpt-4o-mini', {
          attributes: {
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 100 + i,
            'gen_ai.usage.output_tokens': 10,
          },
        })
        .end();
    }
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!);
    const snapshot = async () =>
      query(
        svc,
        `SELECT (SELECT count() FROM ai_calls WHERE tenant = 'retry-tenant') AS calls,
                (SELECT count() FROM otel_traces WHERE TenantId = 'retry-tenant') AS spans,
                (SELECT sum(requests) FROM ai_rollup_hourly WHERE tenant = 'retry-tenant') AS hourly,
                (SELECT toString(sum(cost_usd)) FROM ai_rollup_daily WHERE tenant = 'retry-tenant') AS daily_cost,
                (SELECT sum(input_tokens) FROM ai_rollup_daily WHERE tenant = 'retry-tenant') AS daily_input`,
      );
    const post = () =>
      fetch(`${svc.url}/v1/traces`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-protobuf' },
        body,
      });
    expect((await post()).status).toBe(200);
    const first = await snapshot();
    expect(first[0]).toMatchObject({ calls: 3, spans: 3, hourly: 3, daily_input: 303 });
    expect((await Promise.all([post(), post()])).map((r) => r.status)).toEqual([200, 200]);
    expect((await post()).status).toBe(200);
    expect(await snapshot()).toEqual(first);
  });
});
