/**
 * bench/ingest: the service's OTLP-protobuf → ClickHouse throughput against a raw
 * @clickhouse/client insert of the same rows, measured in the same run.
 *
 *   npm run build && npx tsx bench/ingest.ts [--spans 200000] [--per-request 500] [--clients 8]
 *
 * Service: `tokenmeter serve` as a child process on embedded ClickHouse; several
 * concurrent clients POST pre-encoded OTLP protobuf bodies of realistic GenAI spans;
 * a span counts once its request got a 200 (durably written). Baseline: the same rows
 * (as the service would build them) inserted with @clickhouse/client into the same
 * schema, same batch size and settings, in another embedded store. Goal: ratio ≥ 0.5.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { decodeTraces } from '../ingest/src/otlp/decode.ts';
import { buildRows } from '../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../ingest/src/pipeline/pricing.ts';
import { insertSettings, openStore } from '../ingest/src/store/client.ts';
import { migrate } from '../ingest/src/store/migrate.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '200000' },
    'per-request': { type: 'string', default: '500' },
    clients: { type: 'string', default: '8' },
    batch: { type: 'string', default: '5000' },
  },
});
const TOTAL = Number(args.spans);
const PER_REQUEST = Number(args['per-request']);
const CLIENTS = Number(args.clients);
const BATCH = Number(args.batch);
const KEY = 'bench-admin-key';

const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o'],
  ['anthropic', 'claude-sonnet-4-20250514'],
  ['google', 'gemini-2.5-pro'],
  ['openai', 'text-embedding-3-small'],
] as const;

/** Pre-encode request bodies of realistic GenAI spans made by the real SDK (not hand-built bytes). */
function makeBodies(): Buffer[] {
  const bodies: Buffer[] = [];
  let made = 0;
  let n = 0;
  while (made < TOTAL) {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': `svc-${n % 7}`,
        'service.version': '1.4.2',
        'deployment.environment.name': 'prod',
        'host.name': 'ip-10-0-0-12',
        'telemetry.sdk.language': 'nodejs',
        'tokenmeter.tenant': `tenant-${n % 3}`,
      }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer('@tokenmeter/instrumentation', '0.1.0');
    const count = Math.min(PER_REQUEST, TOTAL - made);
    for (let i = 0; i < count; i++, n++) {
      const [prov, model] = MODELS[n % MODELS.length]!;
      const input = 200 + ((n * 7919) % 20_000);
      tracer
        .startSpan(`chat ${model}`, {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': model.startsWith('text-embedding') ? 'embeddings' : 'chat',
            'gen_ai.provider.name': prov,
            'gen_ai.request.model': model,
            'gen_ai.response.model': model,
            'gen_ai.response.id': `chatcmpl-${n.toString(36)}`,
            'gen_ai.response.finish_reasons': ['stop'],
            'gen_ai.request.max_tokens': 1024,
            'gen_ai.request.temperature': 0.2,
            'gen_ai.request.stream': n % 2 === 0,
            'gen_ai.usage.input_tokens': input,
            'gen_ai.usage.output_tokens': 20 + (n % 900),
            'gen_ai.usage.cache_read.input_tokens': n % 3 === 0 ? Math.floor(input / 2) : 0,
            'gen_ai.response.time_to_first_chunk': 0.35,
            'server.address': 'api.example.test',
            'user.id': `user-${n % 500}`,
            'session.id': `sess-${n % 2000}`,
            'tokenmeter.team': `team-${n % 9}`,
            'tokenmeter.feature': ['chat', 'search', 'summarise', 'agent'][n % 4]!,
            'tokenmeter.request.id': `req-${n}`,
          },
        })
        .end();
    }
    bodies.push(Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans())!));
    made += count;
  }
  return bodies;
}

async function rawBaseline(bodies: Buffer[]): Promise<number> {
  // The rows the service would write for these bodies, built outside the timed part.
  const pricer = new IngestPricer();
  const traces: unknown[] = [];
  const calls: unknown[] = [];
  for (const b of bodies) {
    const built = buildRows(
      decodeTraces(b, 'protobuf').spans,
      (s) => String(s.resource['tokenmeter.tenant']),
      pricer,
      Date.now(),
    );
    traces.push(...built.traces);
    calls.push(...built.calls);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-raw-'));
  const store = await openStore({
    url: undefined,
    user: 'default',
    password: '',
    database: 'bench_raw',
    cluster: undefined,
    dataDir: dir,
  });
  await migrate(store, { ttlDays: 90 });
  const started = performance.now();
  for (let i = 0; i < traces.length; i += BATCH) {
    const t = traces.slice(i, i + BATCH);
    const c = calls.slice(i, i + BATCH);
    await store.writer.insert({
      table: 'otel_traces',
      values: t,
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings(`raw-t-${i}`),
    });
    await store.writer.insert({
      table: 'ai_calls',
      values: c,
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings(`raw-c-${i}`),
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return traces.length / seconds;
}

async function service(bodies: Buffer[]): Promise<{ rate: number; acknowledged: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-svc-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['ingest/dist/cli.js', 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TOKENMETER_DATA_DIR: dir,
      TOKENMETER_ADMIN_KEY: KEY,
      TOKENMETER_BATCH_MAX_ROWS: String(BATCH),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {}
    if (i > 300) throw new Error('service did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  let next = 0;
  let acknowledged = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        for (;;) {
          const res = await fetch(`${url}/v1/traces`, {
            method: 'POST',
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-protobuf' },
            body,
          });
          await res.arrayBuffer();
          if (res.status === 200) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        acknowledged += PER_REQUEST;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      sql: 'SELECT (SELECT count() FROM ai_calls) AS calls, (SELECT sum(requests) FROM ai_rollup_hourly) AS rolled',
    }),
  });
  const check = ((await res.json()) as { data: { calls: number; rolled: number }[] }).data[0]!;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  if (Number(check.calls) !== TOTAL || Number(check.rolled) !== TOTAL) {
    throw new Error(`service stored ${check.calls} calls / ${check.rolled} rolled up, expected ${TOTAL}`);
  }
  return { rate: Math.min(acknowledged, TOTAL) / seconds, acknowledged };
}

const bodies = makeBodies();
console.log(
  `bench/ingest: ${TOTAL} realistic GenAI spans in ${bodies.length} OTLP protobuf requests of ${PER_REQUEST}, ${CLIENTS} concurrent clients, batches of ${BATCH}`,
);
const raw = await rawBaseline(bodies);
const svc = await service(bodies);
console.log(`raw @clickhouse/client insert (otel_traces + ai_calls + rollup views): ${raw.toFixed(0)} spans/s`);
console.log(`tokenmeter OTLP/HTTP protobuf → ClickHouse, acknowledged:          ${svc.rate.toFixed(0)} spans/s`);
console.log(`ratio service / raw: ${(svc.rate / raw).toFixed(2)} (goal ≥ 0.50)`);
