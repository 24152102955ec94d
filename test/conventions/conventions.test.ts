/**
 * Every GenAI convention tokenmeter reads, proven with spans from the project that writes it:
 * each peer's real npm package drives the real `openai` SDK (or the Vercel AI SDK) against the
 * replay server, in its own Node process (apps/), and exports with the real OTLP exporter
 * straight to a running tokenmeter service. Then SQL checks the ai_calls rows, their cost,
 * and that the hourly and daily rollups sum to the same numbers.
 *
 * Nothing here writes a span by hand. What a peer leaves out (OpenInference has no usage on
 * streams and embeddings, traceloop none on streams, neither traceloop nor OpenTelemetry's own
 * instrumentation reports cached tokens) is asserted as such, so a peer that starts sending it
 * fails this test and the expectation can be raised.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatScaled, parseUsd, priceCall } from '../../instrumentation/src/prices/index.ts';
import { FIXTURES, type Fixture } from '../replay/fixtures.ts';
import { type ReplayServer, startReplayServer } from '../replay/server.ts';
import { ADMIN_KEY, query, startOtlpRecorder, startService } from './service.ts';

const APPS = fileURLToPath(new URL('./apps/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The installed version (some packages do not export their package.json, so read the file). */
const version = (pkg: string) =>
  (JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;

/** One ai_calls row as the fixtures say it must be. Tokens in tokenmeter's meaning (input includes cache reads). */
interface ExpectedCall {
  convention: string;
  operation: string;
  model: string;
  streaming: boolean;
  input: number;
  output: number;
  cacheRead: number;
}

function call(
  convention: string,
  operation: string,
  f: Fixture,
  opts: { streaming?: boolean; cacheReported?: boolean } = {},
): ExpectedCall {
  const t = f.tokens!;
  return {
    convention,
    operation,
    model: f.model,
    streaming: opts.streaming ?? false,
    input: t.inputTokens,
    output: t.outputTokens,
    // A peer that does not report cached tokens still reports the full input (OpenAI's prompt_tokens include them).
    cacheRead: opts.cacheReported === false ? 0 : t.cacheReadTokens,
  };
}

const CHAT = FIXTURES.openaiChat.ok;
const CACHE = FIXTURES.openaiChat.cache;
const EMBED = FIXTURES.openaiEmbeddings.ok;
const RESPONSES = FIXTURES.openaiResponses.ok;

interface Peer {
  /** apps/<app> */
  app: string;
  /** The package whose spans these are, and its installed version (for the test name). */
  pkg: string;
  /** Which real OTLP exporter carries the spans: proto = exporter-trace-otlp-proto, json = exporter-trace-otlp-http. */
  protocol: 'proto' | 'json';
  /** Every span the app exports (each an otel_traces row), AI call or not. */
  spans: number;
  calls: ExpectedCall[];
  /** Cost on the span (OpenLIT) rather than priced at ingest. */
  spanCost?: boolean;
  /** Attribution the app puts on its calls. */
  user?: string;
  feature?: string;
}

const PEERS: Peer[] = [
  {
    // OpenLLMetry today writes the current gen_ai.* names. It wraps no embeddings, and a stream
    // gets usage only with enrichTokens (a local tokenizer estimate), which the app leaves off.
    app: 'traceloop.cjs',
    pkg: '@traceloop/instrumentation-openai',
    protocol: 'proto',
    spans: 3,
    calls: [call('gen_ai', 'chat', CHAT), call('gen_ai', 'chat', CACHE, { cacheReported: false })],
  },
  {
    // The same project before its move: llm.request.type, gen_ai.system "OpenAI",
    // gen_ai.usage.prompt_tokens / completion_tokens.
    app: 'traceloop-v0-22.cjs',
    pkg: 'traceloop-openai-v0-22',
    protocol: 'json',
    spans: 3,
    calls: [call('openllmetry', 'chat', CHAT), call('openllmetry', 'chat', CACHE, { cacheReported: false })],
  },
  {
    // llm.token_count.* and llm.model_name. Streams and embeddings carry no token counts.
    app: 'openinference.cjs',
    pkg: '@arizeai/openinference-instrumentation-openai',
    protocol: 'proto',
    spans: 4,
    calls: [call('openinference', 'chat', CHAT), call('openinference', 'chat', CACHE)],
  },
  {
    // Chat and embeddings: gen_ai.system with gen_ai.usage.input_tokens (no cached tokens, no
    // stream flag). Responses: the current gen_ai.provider.name.
    app: 'otel-openai.cjs',
    pkg: '@opentelemetry/instrumentation-openai',
    protocol: 'json',
    spans: 6,
    calls: [
      call('gen_ai_legacy', 'chat', CHAT),
      call('gen_ai_legacy', 'chat', CHAT),
      call('gen_ai_legacy', 'chat', CACHE, { cacheReported: false }),
      call('gen_ai_legacy', 'embeddings', EMBED),
      call('gen_ai', 'chat', RESPONSES),
      call('gen_ai', 'chat', RESPONSES),
    ],
  },
  {
    // gen_ai.usage.cost (a float, USD) on every span; OpenLIT exports with its own OTLP/HTTP JSON exporter.
    app: 'openlit.cjs',
    pkg: 'openlit',
    protocol: 'json',
    spans: 4,
    spanCost: true,
    calls: [
      call('openlit', 'chat', CHAT),
      call('openlit', 'chat', CHAT, { streaming: true }),
      call('openlit', 'chat', CACHE),
      call('openlit', 'embeddings', EMBED),
    ],
  },
  {
    // ai@6: an outer ai.generateText / ai.streamText / ai.embed span around the inner do* span,
    // both with ai.usage.*: only the inner one is the call.
    app: 'vercel-ai.mjs',
    pkg: 'ai',
    protocol: 'proto',
    spans: 8,
    user: 'u-vercel',
    feature: 'conventions',
    calls: [
      call('vercel_ai', 'chat', CHAT),
      call('vercel_ai', 'chat', CHAT, { streaming: true }),
      call('vercel_ai', 'chat', CACHE),
      call('vercel_ai', 'embeddings', EMBED),
    ],
  },
  {
    // ai@4: ai.usage.promptTokens / completionTokens; cache reads only in ai.response.providerMetadata.
    app: 'vercel-ai-v4.mjs',
    pkg: 'ai-v4',
    protocol: 'json',
    spans: 8,
    user: 'u-vercel-v4',
    feature: 'conventions',
    calls: [
      call('vercel_ai', 'chat', CHAT),
      call('vercel_ai', 'chat', CHAT, { streaming: true }),
      call('vercel_ai', 'chat', CACHE),
      call('vercel_ai', 'embeddings', EMBED),
    ],
  },
];

/**
 * Two peers on one client: traceloop patched first, OpenInference around it. Each writes a span
 * for the same call (the inner one a child of the outer). (OpenTelemetry's instrumentation under
 * OpenInference cannot be shown: the pair breaks the app, "Body has already been read".)
 */
const STACKED = { app: 'stacked.cjs', protocol: 'proto' as const, spans: 2 };

const tenantOf = (p: { app: string }) => `conv-${p.app.replace(/\.[cm]?js$/, '')}`;

type Svc = Awaited<ReturnType<typeof startService>>;
let svc: Svc;
let replay: ReplayServer;
let recorder: Awaited<ReturnType<typeof startOtlpRecorder>>;

/** Runs one app in its own Node process (require hooks as in a real app) and waits for it to exit. */
function runApp(peer: Pick<Peer, 'app' | 'protocol'>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${APPS}${peer.app}`], {
      env: {
        PATH: process.env.PATH ?? '',
        REPLAY_URL: replay.url,
        OTLP_URL: `${recorder.url}/${tenantOf(peer)}/v1/traces`,
        OTLP_KEY: ADMIN_KEY,
        OTLP_PROTOCOL: peer.protocol,
        TENANT: tenantOf(peer),
        SERVICE: `svc-${tenantOf(peer)}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${peer.app} exited with ${code ?? signal}:\n${output}`));
    });
  });
}

beforeAll(async () => {
  [svc, replay] = await Promise.all([startService('conventions'), startReplayServer()]);
  recorder = await startOtlpRecorder(svc.url);
  // The apps exit once their exporter has had its answer.
  await Promise.all([...PEERS, STACKED].map(runApp));
  // The service answers once a batch is in ClickHouse or fsynced in its spool: wait for the spool to drain.
  const total = PEERS.reduce((s, p) => s + p.spans, STACKED.spans);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [r] = await query<{ n: string }>(
      svc,
      `SELECT count() AS n FROM otel_traces WHERE startsWith(TenantId, 'conv-')`,
    );
    if (Number(r!.n) >= total || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 90_000);

afterAll(async () => {
  await Promise.all([recorder?.close(), svc?.close(), replay?.close()]);
});

interface CallRow {
  convention: string;
  provider: string;
  operation: string;
  model: string;
  is_streaming: boolean;
  input_tokens: string;
  output_tokens: string;
  cache_read_tokens: string;
  cost_usd: string | null;
  priced: boolean;
  cost_source: string;
  price_id: string;
  ts: string;
  service: string;
  user_id: string;
  feature: string;
  span_cost: string;
}

const sortKey = (c: ExpectedCall) => `${c.convention}|${c.operation}|${String(c.input).padStart(9)}|${c.streaming}`;

function expectedCost(c: ExpectedCall, at: Date): string {
  const price = priceCall({
    provider: 'openai',
    model: c.model,
    usage: { inputTokens: c.input, outputTokens: c.output, cacheReadTokens: c.cacheRead },
    timestamp: at,
  });
  if (!price.priced) throw new Error(`the price engine has no price for ${c.model}`);
  return price.costUsd;
}

const usd = (v: string | null) => (v === null ? null : formatScaled(parseUsd(v)));

describe.each(PEERS.map((p) => [`${p.pkg}@${version(p.pkg)} over OTLP ${p.protocol}`, p] as const))(
  '%s',
  (_name, peer) => {
    const tenant = tenantOf(peer);

    it(`arrives with the ${peer.protocol === 'proto' ? 'protobuf' : 'JSON'} exporter`, () => {
      expect([...(recorder.contentTypes.get(tenant) ?? [])]).toEqual([
        peer.protocol === 'proto' ? 'application/x-protobuf' : 'application/json',
      ]);
    });

    it('stores every span, and one ai_calls row per call with the replayed tokens, convention and cost', async () => {
      const [spans] = await query<{ n: string }>(
        svc,
        `SELECT count() AS n FROM otel_traces WHERE TenantId = '${tenant}'`,
      );
      expect(Number(spans!.n)).toBe(peer.spans);

      const rows = await query<CallRow>(
        svc,
        `SELECT c.convention AS convention, c.provider AS provider, c.operation AS operation, c.model AS model,
                c.is_streaming AS is_streaming, c.input_tokens AS input_tokens, c.output_tokens AS output_tokens,
                c.cache_read_tokens AS cache_read_tokens, toString(c.cost_usd) AS cost_usd, c.priced AS priced,
                c.cost_source AS cost_source, c.price_id AS price_id, toString(toUnixTimestamp64Milli(c.timestamp)) AS ts,
                c.service AS service, c.user_id AS user_id, c.feature AS feature,
                t.SpanAttributes['gen_ai.usage.cost'] AS span_cost
         FROM ai_calls AS c
         LEFT JOIN (SELECT SpanId, SpanAttributes FROM otel_traces WHERE TenantId = '${tenant}') AS t ON t.SpanId = c.span_id
         WHERE c.tenant = '${tenant}'`,
      );
      const got = rows
        .map((r) => ({
          row: r,
          call: {
            convention: r.convention,
            operation: r.operation,
            model: r.model,
            streaming: r.is_streaming,
            input: Number(r.input_tokens),
            output: Number(r.output_tokens),
            cacheRead: Number(r.cache_read_tokens),
          },
        }))
        .sort((a, b) => sortKey(a.call).localeCompare(sortKey(b.call)));
      const want = [...peer.calls].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
      expect(got.map((g) => g.call)).toEqual(want);

      for (const { row, call: c } of got) {
        expect(row.provider).toBe('openai');
        expect(row.service).toBe(`svc-${tenant}`);
        expect(row.priced).toBe(true);
        const published = expectedCost(c, new Date(Number(row.ts)));
        if (peer.spanCost) {
          // The span's own float, kept as sent (to 12 decimals) and marked as the span's.
          expect(row.cost_source).toBe('span');
          expect(row.price_id).toBe('openlit');
          expect(Number(row.cost_usd)).toBeCloseTo(Number(row.span_cost), 15);
          // The app gave OpenLIT OpenAI's published prices, so its cost agrees with the price engine.
          expect(usd(row.cost_usd)).toBe(published);
        } else {
          expect(row.cost_source).toBe('ingest');
          expect(row.span_cost).toBe('');
          expect(usd(row.cost_usd)).toBe(published);
        }
        if (peer.user) expect(row.user_id).toBe(peer.user);
        if (peer.feature) expect(row.feature).toBe(peer.feature);
      }
    });

    it('rolls up hourly and daily to the raw rows and to what was replayed', async () => {
      const want = {
        requests: peer.calls.length,
        input: peer.calls.reduce((s, c) => s + c.input, 0),
        output: peer.calls.reduce((s, c) => s + c.output, 0),
        cacheRead: peer.calls.reduce((s, c) => s + c.cacheRead, 0),
      };
      const [raw] = await query<{ cost: string; n: string }>(
        svc,
        `SELECT toString(sum(cost_usd)) AS cost, count() AS n FROM ai_calls WHERE tenant = '${tenant}'`,
      );
      expect(Number(raw!.n)).toBe(want.requests);
      // The replayed calls happened now: price them now (a price change inside this test is not a concern).
      const wantCost = formatScaled(peer.calls.reduce((s, c) => s + parseUsd(expectedCost(c, new Date())), 0n));
      expect(usd(raw!.cost)).toBe(wantCost);
      for (const table of ['ai_usage_hourly', 'ai_usage_daily']) {
        const [r] = await query<{
          requests: string;
          unpriced: string;
          input: string;
          output: string;
          cache_read: string;
          cost: string;
        }>(
          svc,
          `SELECT sum(requests) AS requests, sum(unpriced_requests) AS unpriced, sum(input_tokens) AS input,
                  sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read, toString(sum(cost_usd)) AS cost
           FROM ${table} WHERE tenant = '${tenant}'`,
        );
        expect({
          table,
          requests: Number(r!.requests),
          unpriced: Number(r!.unpriced),
          input: Number(r!.input),
          output: Number(r!.output),
          cacheRead: Number(r!.cache_read),
          cost: usd(r!.cost),
        }).toEqual({ table, ...want, unpriced: 0, cost: wantCost });
      }
    });
  },
);

describe('two instrumentations on one openai call (@traceloop/instrumentation-openai inside OpenInference)', () => {
  const tenant = tenantOf(STACKED);

  it('exports two spans for the call, the inner a child of the outer, both with its usage', async () => {
    const spans = await query<{ SpanId: string; ParentSpanId: string; TraceId: string; ScopeName: string }>(
      svc,
      `SELECT SpanId, ParentSpanId, TraceId, ScopeName FROM otel_traces WHERE TenantId = '${tenant}' ORDER BY ScopeName`,
    );
    expect(spans.map((s) => s.ScopeName)).toEqual([
      '@arizeai/openinference-instrumentation-openai',
      '@traceloop/instrumentation-openai',
    ]);
    const [outer, inner] = spans;
    expect(inner!.TraceId).toBe(outer!.TraceId);
    expect(inner!.ParentSpanId).toBe(outer!.SpanId);
  });

  // Known gap: each span alone is a complete call in its own convention, and they arrive in
  // separate requests (the inner first), so today both become ai_calls rows. Telling them apart
  // needs a look across spans (an outer call span whose child is already a call), which is the
  // ingest pipeline's to do. When it does, this turns red: make it a plain `it`.
  it.fails('counts the call once in ai_calls and in the rollups', async () => {
    const [r] = await query<{ calls: string; hourly: string; daily: string }>(
      svc,
      `SELECT (SELECT count() FROM ai_calls WHERE tenant = '${tenant}') AS calls,
              (SELECT sum(requests) FROM ai_usage_hourly WHERE tenant = '${tenant}') AS hourly,
              (SELECT sum(requests) FROM ai_usage_daily WHERE tenant = '${tenant}') AS daily`,
    );
    expect([Number(r!.calls), Number(r!.hourly), Number(r!.daily)]).toEqual([1, 1, 1]);
  });
});
