import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { insertSettings, openStore } from '../../ingest/src/store/client.ts';
import { migrate } from '../../ingest/src/store/migrate.ts';
import { spawnService } from '../../test/support/service.ts';
import { metricValue, querySql } from '../../test/support/spans.ts';

/**
 * Load: many concurrent OTLP/JSON clients against `tokenmeter serve` (a child
 * process, embedded ClickHouse), each request carrying new spans. Reports accepted
 * spans/s, latency percentiles, the answers (200, and 429/503 as backpressure), the
 * service's peak RSS (VmHWM), and checks every acknowledged span is stored once.
 *
 *   npm run build && node bench/load/run.ts            # 1,000 clients, 30 s
 *   LOAD_CONNECTIONS=1000 LOAD_SECONDS=60 LOAD_SPANS_PER_REQUEST=20 node bench/load/run.ts
 */
export interface LoadOptions {
  connections: number;
  seconds: number;
  spansPerRequest: number;
  /** Per-key requests/s for the service (0: off, to measure ingest rather than the limiter). */
  rateLimit: number;
  env?: Record<string, string>;
}

export interface LoadReport {
  connections: number;
  seconds: number;
  spansPerRequest: number;
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  spansAcked: number;
  spansPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  peakRssMB: number;
  rssSamplesMB: number[];
  storedOnce: boolean;
  stored: number;
  alive: boolean;
}

const ADMIN = 'load-bootstrap-key';

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-load-'));
  const service = await spawnService({
    TOKENMETER_DATA_DIR: dir,
    TOKENMETER_ADMIN_KEY: ADMIN,
    TOKENMETER_RATE_LIMIT_RPS: String(opts.rateLimit),
    TOKENMETER_STATS_INTERVAL_MS: '0',
    LOG_LEVEL: 'error',
    ...opts.env,
  });
  try {
    await service.ready();
    const created = await fetch(`${service.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'load', role: 'ingest', name: 'bench' }),
    });
    const { key } = (await created.json()) as { key: string };
    let next = 0;
    const now = BigInt(Date.now()) * 1_000_000n;
    // Each request: new span ids, so nothing is a duplicate; JSON built by hand (cheap for the client).
    const body = () => {
      const spans: string[] = [];
      for (let i = 0; i < opts.spansPerRequest; i++) {
        const n = ++next;
        const id = n.toString(16).padStart(16, '0');
        const start = now + BigInt(n) * 1000n;
        spans.push(
          `{"traceId":"${id}${id}","spanId":"${id}","name":"chat","kind":3,"startTimeUnixNano":"${start}","endTimeUnixNano":"${start + 250_000_000n}",` +
            `"attributes":[{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},` +
            `{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"${100 + (n % 900)}"}},` +
            `{"key":"gen_ai.usage.output_tokens","value":{"intValue":"${1 + (n % 300)}"}}]}`,
        );
      }
      return `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"load"}}]},"scopeSpans":[{"scope":{"name":"bench"},"spans":[${spans.join(',')}]}]}]}`;
    };
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(Math.round(service.peakRss() / 1024 / 1024)), 1000);
    const statuses: Record<string, number> = {};
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `${service.url}/v1/traces`,
          connections: opts.connections,
          duration: opts.seconds,
          timeout: 30,
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          requests: [
            {
              setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body() }),
            },
          ],
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
      instance.on('response', (_client: unknown, statusCode: number) => {
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      });
    });
    clearInterval(sampler);
    const alive = service.child.exitCode === null && (await fetch(`${service.url}/healthz`)).ok;
    const ok = statuses[200] ?? 0;
    const spansAcked = ok * opts.spansPerRequest;
    // Let the spool drain, then count what is stored.
    const deadline = Date.now() + 120_000;
    let stored = 0;
    let unique = 0;
    while (Date.now() < deadline) {
      const [row] = await querySql<{ n: string; u: string }>(
        service.url,
        ADMIN,
        "SELECT count() AS n, uniqExact(trace_id, span_id) AS u FROM ai_calls WHERE tenant = 'load'",
      );
      stored = Number(row!.n);
      unique = Number(row!.u);
      // Requests still in progress when the clients stopped may be stored too: wait for the spool.
      const pending = (await metricValue(service.url, ADMIN, 'tokenmeter_spool_records')) > 0;
      if (stored >= spansAcked && !pending) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return {
      connections: opts.connections,
      seconds: opts.seconds,
      spansPerRequest: opts.spansPerRequest,
      requests: result.requests.total,
      statuses,
      errors: result.errors,
      timeouts: result.timeouts,
      spansAcked,
      spansPerSecond: Math.round(spansAcked / opts.seconds),
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      peakRssMB: Math.round(service.peakRss() / 1024 / 1024),
      rssSamplesMB: rss,
      storedOnce: stored === unique && stored >= spansAcked,
      stored,
      alive,
    };
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The baseline, in the same run: the same kind of spans decoded, built into rows and inserted
 * straight into embedded ClickHouse in batches of 5,000, with no HTTP, spool or dedup.
 */
export async function baselineSpansPerSecond(spans = 50_000): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-load-base-'));
  const store = await openStore({
    url: undefined,
    user: 'default',
    password: '',
    database: 'base',
    cluster: undefined,
    dataDir: dir,
  });
  try {
    await migrate(store, { ttlDays: 90 });
    const pricer = new IngestPricer();
    const now = BigInt(Date.now()) * 1_000_000n;
    const started = performance.now();
    for (let from = 0; from < spans; from += 5000) {
      const list: string[] = [];
      for (let n = from + 1; n <= from + 5000; n++) {
        const id = n.toString(16).padStart(16, '0');
        const start = now + BigInt(n) * 1000n;
        list.push(
          `{"traceId":"${id}${id}","spanId":"${id}","name":"chat","kind":3,"startTimeUnixNano":"${start}","endTimeUnixNano":"${start + 250_000_000n}",` +
            `"attributes":[{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},` +
            `{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"${100 + (n % 900)}"}},` +
            `{"key":"gen_ai.usage.output_tokens","value":{"intValue":"${1 + (n % 300)}"}}]}`,
        );
      }
      const body = Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[${list.join(',')}]}]}]}`);
      const built = buildRows(decodeTraces(body, 'json').spans, () => 'base', pricer, Date.now());
      for (const [table, values] of [
        ['otel_traces', built.traces],
        ['ai_calls', built.calls],
      ] as const) {
        await store.writer.insert({
          table: `base.${table}`,
          values: values as unknown[],
          format: 'JSONEachRow',
          clickhouse_settings: insertSettings(`${table}:${from}`),
        });
      }
    }
    return Math.round(spans / ((performance.now() - started) / 1000));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const report = await runLoad({
    connections: Number(env.LOAD_CONNECTIONS ?? 1000),
    seconds: Number(env.LOAD_SECONDS ?? 30),
    spansPerRequest: Number(env.LOAD_SPANS_PER_REQUEST ?? 20),
    rateLimit: Number(env.LOAD_RATE_LIMIT ?? 0),
  });
  const baseline = await baselineSpansPerSecond();
  console.log(
    JSON.stringify(
      {
        ...report,
        baselineDirectInsertSpansPerSecond: baseline,
        ratioToBaseline: Number((report.spansPerSecond / baseline).toFixed(2)),
      },
      null,
      2,
    ),
  );
}
