import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';

/**
 * AI-call spans made by the real OpenTelemetry SDK, with ids that say which run and
 * which span they are (so a test can name every span it sent), and the real OTLP
 * exporter to send them.
 */
export interface MadeSpans {
  spans: ReadableSpan[];
  /** Sum of input and output tokens over the spans, to compare with what is stored. */
  inputTokens: number;
  outputTokens: number;
}

export function makeCallSpans(opts: {
  run: number;
  from: number;
  count: number;
  service?: string;
  /** When the spans start (default: spread over the last minute). */
  startMs?: number;
}): MadeSpans {
  let next = opts.from;
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.service ?? 'loadgen', 'tokenmeter.tenant': 'forged' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    idGenerator: {
      generateTraceId: () => `${hex(opts.run, 8)}${hex(Math.floor(next / 100), 8)}${'0'.repeat(15)}1`,
      generateSpanId: () => spanIdOf(opts.run, next),
    },
  }).getTracer('loadgen', '1.0.0');
  let inputTokens = 0;
  let outputTokens = 0;
  const now = Date.now();
  for (let i = 0; i < opts.count; i++, next++) {
    const input = 100 + (next % 977);
    const output = 1 + (next % 313);
    inputTokens += input;
    outputTokens += output;
    const start = opts.startMs !== undefined ? opts.startMs + i : now - 60_000 + (i % 50_000);
    const span = tracer.startSpan(`chat gpt-4o-mini`, {
      kind: SpanKind.CLIENT,
      startTime: start,
      attributes: {
        'gen_ai.provider.name': 'openai',
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.usage.input_tokens': input,
        'gen_ai.usage.output_tokens': output,
        'tokenmeter.tenant': 'forged',
        'user.id': `user-${next % 17}`,
      },
    });
    span.end(start + 250);
  }
  return { spans: exporter.getFinishedSpans(), inputTokens, outputTokens };
}

export function spanIdOf(run: number, n: number): string {
  return `${hex(run, 8)}${hex(n + 1, 8)}`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0').slice(-width);
}

/** The official OTLP/HTTP protobuf exporter, pointed at a tokenmeter with a key. */
export function exporterFor(url: string, key: string, timeoutMillis = 10_000): OTLPTraceExporter {
  return new OTLPTraceExporter({
    url: `${url}/v1/traces`,
    headers: { authorization: `Bearer ${key}` },
    timeoutMillis,
  });
}

/** Export one chunk with the real exporter (it retries 429/503/network errors itself); true when acknowledged. */
export function exportChunk(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<boolean> {
  return new Promise((resolve) => exporter.export(spans, (r) => resolve(r.code === 0)));
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Run `fn` over items with at most `limit` at once. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** POST read-only SQL to a running tokenmeter (operator key) and return its rows. */
export async function querySql<T = Record<string, unknown>>(url: string, key: string, sql: string): Promise<T[]> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`query failed ${res.status}: ${text}`);
  return (JSON.parse(text) as { data: T[] }).data;
}

/** A metric's value from a running tokenmeter's /metrics (operator key). */
export async function metricValue(url: string, key: string, name: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

/** The checks every acceptance test makes: each sent span once in ai_calls, rollups equal raw sums. */
export async function storedCalls(url: string, key: string, tenant: string) {
  const [raw] = await querySql<{ n: string; uniq: string; input: string; output: string; cost: string; ids: string[] }>(
    url,
    key,
    `SELECT count() AS n, uniqExact(trace_id, span_id) AS uniq, sum(input_tokens) AS input,
            sum(output_tokens) AS output, toString(sum(ifNull(cost_usd, 0))) AS cost, groupArray(span_id) AS ids
     FROM ai_calls WHERE tenant = '${tenant}'`,
  );
  const rollup = async (table: string) =>
    (
      await querySql<{ n: string; input: string; output: string; cost: string }>(
        url,
        key,
        `SELECT sum(requests) AS n, sum(input_tokens) AS input, sum(output_tokens) AS output, toString(sum(cost_usd)) AS cost
         FROM ${table} WHERE tenant = '${tenant}'`,
      )
    )[0]!;
  return {
    count: Number(raw!.n),
    unique: Number(raw!.uniq),
    input: Number(raw!.input),
    output: Number(raw!.output),
    cost: raw!.cost,
    ids: new Set(raw!.ids),
    hourly: await rollup('ai_rollup_hourly'),
    daily: await rollup('ai_rollup_daily'),
    userDaily: await rollup('ai_user_daily'),
  };
}
