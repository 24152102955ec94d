/**
 * Every GenAI convention tokenmeter reads, proven with spans from the project that writes it:
 * each peer's real npm package drives the real `openai` or `@anthropic-ai/sdk` SDK (or the Vercel
 * AI SDK) against the replay server, in its own Node process (apps/), and exports with a real OTLP
 * exporter straight to a running tokenmeter service. Then SQL checks the ai_calls rows, their
 * cost, and that the hourly and daily rollups sum to the same numbers.
 *
 * Nothing here writes a span by hand. What a peer leaves out (usage on streams and embeddings,
 * cached or reasoning tokens, the 1-hour cache-write split, a span for a failed call) is asserted
 * as such, so a peer that starts sending it fails this test and the expectation can be raised.
 * See README.md for the table of peers.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../instrumentation/src/core/estimate.ts';
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
  provider: string;
  operation: string;
  model: string;
  streaming: boolean;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  cacheWrite1h: number;
  reasoning: number;
  error: boolean;
  /** Counted from the span's message content: the peer stated no usage. */
  estimated: boolean;
}

function call(
  convention: string,
  operation: string,
  f: Fixture,
  opts: {
    provider?: string;
    streaming?: boolean;
    /** false: the peer drops cached tokens (an OpenAI input still includes them, so only the split is lost). */
    cacheReported?: boolean;
    /** false: the peer reports the cache write but not its 1-hour part. */
    cacheWrite1hReported?: boolean;
    /** false: the peer does not report reasoning tokens (still inside its output count). */
    reasoningReported?: boolean;
    /** The peer's own (wrong) output count, where it differs from the provider's. */
    output?: number;
  } = {},
): ExpectedCall {
  const t = f.tokens!;
  return {
    convention,
    provider: opts.provider ?? 'openai',
    operation,
    model: f.model,
    streaming: opts.streaming ?? false,
    input: t.inputTokens,
    output: opts.output ?? t.outputTokens,
    cacheRead: opts.cacheReported === false ? 0 : t.cacheReadTokens,
    cacheWrite: opts.cacheReported === false ? 0 : t.cacheWriteTokens,
    cacheWrite1h: opts.cacheReported === false || opts.cacheWrite1hReported === false ? 0 : t.cacheWrite1hTokens,
    reasoning: opts.reasoningReported === false ? 0 : t.reasoningTokens,
    error: false,
    estimated: false,
  };
}

/** A call whose span has no usage but the messages (captured by default): counted with the tokenizer. */
function estimated(convention: string, operation: string, f: Fixture, input: string, streaming: boolean): ExpectedCall {
  return {
    ...call(convention, operation, f, { streaming }),
    input: estimateTokens(input),
    output: operation === 'embeddings' ? 0 : estimateTokens(f.text),
    estimated: true,
  };
}
const PROMPT = 'What is the capital of France?';

/** A model no price list knows: the replay answers it with the plain chat fixture. */
const UNKNOWN_MODEL = 'acme-private-llm-1';
function unknownModel(convention: string, opts: Parameters<typeof call>[3] = {}): ExpectedCall {
  return { ...call(convention, 'chat', CHAT, opts), model: UNKNOWN_MODEL };
}
const EMBED_INPUT = 'The capital of France';

/** The call the replay fails (500): a row with status error and no tokens (providers bill no failed request). */
function failed(convention: string): ExpectedCall {
  return {
    convention,
    provider: 'openai',
    operation: 'chat',
    model: CHAT.model,
    streaming: false,
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite: 0,
    cacheWrite1h: 0,
    reasoning: 0,
    error: true,
    estimated: false,
  };
}

const CHAT = FIXTURES.openaiChat.ok;
const CACHE = FIXTURES.openaiChat.cache;
const EMBED = FIXTURES.openaiEmbeddings.ok;
const RESPONSES = FIXTURES.openaiResponses.ok;
const REASONING = FIXTURES.openaiChat.reasoning;
const noReasoning = { reasoningReported: false };
const CLAUDE = FIXTURES.anthropicMessages.ok;
const CLAUDE_CACHE = FIXTURES.anthropicMessages.cache;
const anthropic = { provider: 'anthropic' };

interface Peer {
  /** apps/<app> */
  app: string;
  /** Names the tenant the app's spans go to; the app's name unless one app runs twice. */
  name?: string;
  /** Extra environment for the app. */
  env?: Record<string, string>;
  /** The package whose spans these are, and its installed version (for the test name). */
  pkg: string;
  /** Which real OTLP exporter carries the spans: proto = exporter-trace-otlp-proto, json = exporter-trace-otlp-http. */
  protocol: 'proto' | 'json';
  /** Every span the app exports (each an otel_traces row), AI call or not. */
  spans: number;
  calls: ExpectedCall[];
  /** Cost on the span (OpenLIT) rather than priced at ingest. */
  spanCost?: boolean;
  /** Models the peer has no price for: it writes cost 0, and tokenmeter prices the call itself. */
  noSpanPrice?: string[];
  /**
   * Known gap: ai_calls.attributes copies this peer's content or vectors (ingest's CONTENT_KEYS in
   * pipeline/rows.ts misses OpenInference's embedding.embeddings.* and the ai SDK's ai.values /
   * ai.embeddings). When fixed, the guard below turns red: drop the flag.
   */
  contentInAttributes?: boolean;
  /** Attribution the app puts on its calls. */
  user?: string;
  feature?: string;
}

const PEERS: Peer[] = [
  {
    // OpenLLMetry today writes the current gen_ai.* names. It wraps no embeddings, writes no span
    // for the failed call, and a stream gets usage only with enrichTokens (its own tokenizer
    // estimate), which the app leaves off: tokenmeter counts that call from its messages.
    app: 'traceloop.cjs',
    pkg: '@traceloop/instrumentation-openai',
    protocol: 'proto',
    spans: 5,
    calls: [
      unknownModel('gen_ai'),
      call('gen_ai', 'chat', CHAT),
      call('gen_ai', 'chat', CACHE, { cacheReported: false }),
      call('gen_ai', 'chat', REASONING, noReasoning),
      estimated('gen_ai', 'chat', CHAT, PROMPT, false),
    ],
  },
  {
    // The same project before its move: llm.request.type, gen_ai.system "OpenAI",
    // gen_ai.usage.prompt_tokens / completion_tokens.
    app: 'traceloop-v0-22.cjs',
    pkg: 'traceloop-openai-v0-22',
    protocol: 'json',
    spans: 5,
    calls: [
      unknownModel('openllmetry'),
      call('openllmetry', 'chat', CHAT),
      call('openllmetry', 'chat', CACHE, { cacheReported: false }),
      call('openllmetry', 'chat', REASONING, noReasoning),
      estimated('openllmetry', 'chat', CHAT, PROMPT, false),
    ],
  },
  {
    // llm.token_count.* and llm.model_name. Streams and embeddings carry no token counts (counted
    // from their messages), and the failed call no span.
    app: 'openinference.cjs',
    pkg: '@arizeai/openinference-instrumentation-openai',
    protocol: 'proto',
    spans: 6,
    calls: [
      unknownModel('openinference'),
      call('openinference', 'chat', CHAT),
      call('openinference', 'chat', CACHE),
      call('openinference', 'chat', REASONING),
      estimated('openinference', 'chat', CHAT, PROMPT, false),
      estimated('openinference', 'embeddings', EMBED, EMBED_INPUT, false),
    ],
  },
  {
    // Chat and embeddings: gen_ai.system with gen_ai.usage.input_tokens (no cached tokens, no
    // stream flag). Responses: the current gen_ai.provider.name.
    app: 'otel-openai.cjs',
    pkg: '@opentelemetry/instrumentation-openai',
    protocol: 'json',
    spans: 9,
    calls: [
      unknownModel('gen_ai_legacy'),
      failed('gen_ai_legacy'),
      call('gen_ai_legacy', 'chat', CHAT),
      call('gen_ai_legacy', 'chat', CHAT),
      call('gen_ai_legacy', 'chat', CACHE, { cacheReported: false }),
      call('gen_ai_legacy', 'chat', REASONING, noReasoning),
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
    spans: 7,
    spanCost: true,
    noSpanPrice: [REASONING.model, UNKNOWN_MODEL],
    calls: [
      unknownModel('openlit'),
      // Its failed call's span has neither a cost nor OpenLIT's own attributes: plain current gen_ai.*.
      failed('gen_ai'),
      call('openlit', 'chat', CHAT),
      call('openlit', 'chat', CHAT, { streaming: true }),
      call('openlit', 'chat', CACHE),
      // o4-mini is left out of OpenLIT's price table: it writes cost 0, which means "no price".
      call('openlit', 'chat', REASONING, noReasoning),
      call('openlit', 'embeddings', EMBED),
    ],
  },
  {
    // OpenLIT on Anthropic: input_tokens without the cache (Anthropic's raw count) next to the cache
    // read and creation counts; no 1-hour split. Its stream output counts message_start's 1 token on
    // top of the final count (12 + 1): the row keeps what the span says.
    app: 'openlit-anthropic.cjs',
    pkg: 'openlit',
    protocol: 'json',
    spans: 3,
    spanCost: true,
    calls: [
      call('openlit', 'chat', CLAUDE, anthropic),
      call('openlit', 'chat', CLAUDE, { ...anthropic, streaming: true, output: CLAUDE.tokens!.outputTokens + 1 }),
      call('openlit', 'chat', CLAUDE_CACHE, { ...anthropic, cacheWrite1hReported: false }),
    ],
  },
  {
    // The Anthropic SDK's own telemetry: current gen_ai.* with cache_read / cache_write and the 1-hour part.
    app: 'anthropic-sdk.cjs',
    pkg: '@anthropic-ai/sdk',
    protocol: 'proto',
    spans: 3,
    calls: [
      call('gen_ai', 'chat', CLAUDE, anthropic),
      call('gen_ai', 'chat', CLAUDE, { ...anthropic, streaming: true }),
      call('gen_ai', 'chat', CLAUDE_CACHE, anthropic),
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
    app: 'vercel-ai.mjs',
    name: 'vercel-ai-v4',
    env: { AI_SDK_MAJOR: '4' },
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
 * Two instrumentations on one call, each writing a span for it (the inner one a child of the
 * outer): traceloop patched first with OpenInference around it; and the Anthropic SDK's own
 * telemetry (on by default) inside OpenLIT, the ARCHITECTURE.md pitfall. (OpenTelemetry's
 * instrumentation under OpenInference cannot be shown: the pair breaks the app, "Body has already
 * been read".)
 */
interface Stack {
  title: string;
  app: string;
  name?: string;
  env?: Record<string, string>;
  protocol: 'proto' | 'json';
  calls: number;
  outer: string;
  inner: string;
}
const STACKS: Stack[] = [
  {
    title: '@traceloop/instrumentation-openai inside OpenInference, one openai call',
    app: 'stacked.cjs',
    protocol: 'proto',
    calls: 1,
    outer: '@arizeai/openinference-instrumentation-openai',
    inner: '@traceloop/instrumentation-openai',
  },
  {
    title: "the Anthropic SDK's own spans inside OpenLIT's, three anthropic calls",
    app: 'openlit-anthropic.cjs',
    name: 'openlit-anthropic-sdk',
    env: { ANTHROPIC_OPEN_TELEMETRY: 'true' },
    protocol: 'json',
    calls: 3,
    outer: '@openlit/instrumentation-anthropic',
    inner: 'com.anthropic.sdk.typescript',
  },
];

const tenantOf = (p: { app: string; name?: string }) => `conv-${p.name ?? p.app.replace(/\.[cm]?js$/, '')}`;

type Svc = Awaited<ReturnType<typeof startService>>;
let svc: Svc;
let replay: ReplayServer;
let recorder: Awaited<ReturnType<typeof startOtlpRecorder>>;

/** Runs one app in its own Node process (require hooks as in a real app) and waits for it to exit. */
function runApp(peer: Pick<Peer, 'app' | 'name' | 'protocol' | 'env'>): Promise<void> {
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
        ...peer.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
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
  await Promise.all([...PEERS, ...STACKS].map(runApp));
  // The service answers once a batch is in ClickHouse or fsynced in its spool: wait for the spool to drain.
  const total = PEERS.reduce((s, p) => s + p.spans, 0) + STACKS.reduce((s, p) => s + 2 * p.calls, 0);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [r] = await query<{ n: string }>(
      svc,
      `SELECT count() AS n FROM otel_traces WHERE startsWith(ServiceName, 'svc-conv-')`,
    );
    if (Number(r!.n) >= total || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 150_000);

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
  cache_write_tokens: string;
  cache_write_1h_tokens: string;
  reasoning_tokens: string;
  status: string;
  estimated: boolean;
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

const sortKey = (c: ExpectedCall) =>
  `${c.convention}|${c.provider}|${c.model}|${c.operation}|${String(c.input).padStart(9)}|${c.streaming}|${c.output}|${c.error}`;

/** The price engine's cost of the call, or null when it has no price for the model. */
function expectedCost(c: ExpectedCall, at: Date): string | null {
  const price = priceCall({
    provider: c.provider,
    model: c.model,
    usage: {
      inputTokens: c.input,
      outputTokens: c.output,
      cacheReadTokens: c.cacheRead,
      cacheWriteTokens: c.cacheWrite,
      cacheWrite1hTokens: c.cacheWrite1h,
      reasoningTokens: c.reasoning,
    },
    timestamp: at,
  });
  return price.priced ? price.costUsd : null;
}

/** Attribute names that hold message content or embeddings, in any of the conventions. */
const CONTENT_KEY =
  /^(gen_ai\.(input|output)\.messages|gen_ai\.system_instructions|gen_ai\.(prompt|completion)\.|llm\.(input|output)_messages|(input|output)\.value$|embedding\.embeddings\.|ai\.(prompt|values?|embeddings?|response\.(text|object|toolCalls))$|ai\.prompt\.)/;

const usd = (v: string | null) => (v === null ? null : formatScaled(parseUsd(v)));

describe.each(PEERS.map((p) => [`${p.pkg}@${version(p.pkg)} over OTLP ${p.protocol}`, p] as const))(
  '%s',
  (_name, peer) => {
    const tenant = tenantOf(peer);
    // Rows are found by service (on every span's resource): OpenLIT puts the tenant attribute on
    // its successful spans only, so its failed call lands in the admin key's default tenant.
    const service = `svc-${tenant}`;

    it(`arrives with the ${peer.protocol === 'proto' ? 'protobuf' : 'JSON'} exporter`, () => {
      expect([...(recorder.contentTypes.get(tenant) ?? [])]).toEqual([
        peer.protocol === 'proto' ? 'application/x-protobuf' : 'application/json',
      ]);
    });

    it('stores every span, and one ai_calls row per call with the replayed tokens, convention and cost', async () => {
      const [spans] = await query<{ n: string }>(
        svc,
        `SELECT count() AS n FROM otel_traces WHERE ServiceName = '${service}'`,
      );
      expect(Number(spans!.n)).toBe(peer.spans);

      const rows = await query<CallRow>(
        svc,
        `SELECT c.convention AS convention, c.provider AS provider, c.operation AS operation, c.model AS model,
                c.is_streaming AS is_streaming, c.input_tokens AS input_tokens, c.output_tokens AS output_tokens,
                c.cache_read_tokens AS cache_read_tokens, c.cache_write_tokens AS cache_write_tokens,
                c.cache_write_1h_tokens AS cache_write_1h_tokens, c.reasoning_tokens AS reasoning_tokens, c.status AS status, c.estimated AS estimated, toString(c.cost_usd) AS cost_usd, c.priced AS priced,
                c.cost_source AS cost_source, c.price_id AS price_id, toString(toUnixTimestamp64Milli(c.timestamp)) AS ts,
                c.service AS service, c.user_id AS user_id, c.feature AS feature,
                t.SpanAttributes['gen_ai.usage.cost'] AS span_cost
         FROM ai_calls AS c
         LEFT JOIN (SELECT SpanId, SpanAttributes FROM otel_traces WHERE ServiceName = '${service}') AS t ON t.SpanId = c.span_id
         WHERE c.service = '${service}'`,
      );
      const got = rows
        .map((r) => ({
          row: r,
          call: {
            convention: r.convention,
            provider: r.provider,
            operation: r.operation,
            model: r.model,
            streaming: r.is_streaming,
            input: Number(r.input_tokens),
            output: Number(r.output_tokens),
            cacheRead: Number(r.cache_read_tokens),
            cacheWrite: Number(r.cache_write_tokens),
            cacheWrite1h: Number(r.cache_write_1h_tokens),
            reasoning: Number(r.reasoning_tokens),
            error: r.status === 'error',
            estimated: r.estimated,
          },
        }))
        .sort((a, b) => sortKey(a.call).localeCompare(sortKey(b.call)));
      const want = [...peer.calls].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
      expect(got.map((g) => g.call)).toEqual(want);

      for (const { row, call: c } of got) {
        const published = expectedCost(c, new Date(Number(row.ts)));
        if (published === null) {
          // Unknown model: no cost and the unpriced flag, never $0 (OpenLIT's own 0 included).
          expect([row.priced, row.cost_usd, row.cost_source]).toEqual([false, null, '']);
          if (peer.spanCost) expect(row.span_cost).toBe('0');
          continue;
        }
        expect(row.priced).toBe(true);
        if (peer.spanCost && (c.error || peer.noSpanPrice?.includes(c.model))) {
          // No cost on a failed call's span; and OpenLIT's 0 means its table has no price, not a
          // $0 call: priced here.
          expect(row.span_cost).toBe(c.error ? '' : '0');
          expect(row.cost_source).toBe('ingest');
          expect(usd(row.cost_usd)).toBe(published);
        } else if (peer.spanCost) {
          // The span's own float, kept as sent (to 12 decimals) and marked as the span's.
          expect(row.cost_source).toBe('span');
          expect(row.price_id).toBe('openlit');
          expect(Number(row.cost_usd)).toBeCloseTo(Number(row.span_cost), 15);
          // The app gave OpenLIT the provider's published prices, so its cost agrees with the price engine.
          expect(usd(row.cost_usd)).toBe(published);
        } else {
          // Priced here, and the row says so: source and the catalogue price it used.
          expect(row.cost_source).toBe('ingest');
          expect(row.price_id).toMatch(/^catalogue:/);
          expect(row.span_cost).toBe('');
          expect(usd(row.cost_usd)).toBe(published);
        }
        if (peer.user) expect(row.user_id).toBe(peer.user);
        if (peer.feature) expect(row.feature).toBe(peer.feature);
      }
    });

    // Prompts, completions, embedded text and vectors stay out of the typed table (privacy by default).
    (peer.contentInAttributes ? it.fails : it)(
      'keeps message content and vectors out of ai_calls.attributes',
      async () => {
        const [r] = await query<{ keys: string[] }>(
          svc,
          `SELECT groupUniqArrayArray(mapKeys(attributes)) AS keys FROM ai_calls WHERE service = '${service}'`,
        );
        expect(r!.keys.filter((k) => CONTENT_KEY.test(k))).toEqual([]);
      },
    );

    it('rolls up hourly and daily to the raw rows and to what was replayed', async () => {
      const want = {
        requests: peer.calls.length,
        errors: peer.calls.filter((c) => c.error).length,
        estimated: peer.calls.filter((c) => c.estimated).length,
        input: peer.calls.reduce((s, c) => s + c.input, 0),
        output: peer.calls.reduce((s, c) => s + c.output, 0),
        cacheRead: peer.calls.reduce((s, c) => s + c.cacheRead, 0),
        cacheWrite: peer.calls.reduce((s, c) => s + c.cacheWrite, 0),
      };
      const [raw] = await query<{ cost: string; n: string }>(
        svc,
        `SELECT toString(sum(cost_usd)) AS cost, count() AS n FROM ai_calls WHERE service = '${service}'`,
      );
      expect(Number(raw!.n)).toBe(want.requests);
      // The replayed calls happened now: price them now (a price change inside this test is not a concern).
      const costs = peer.calls.map((c) => expectedCost(c, new Date()));
      const wantCost = formatScaled(costs.reduce<bigint>((s, c) => s + (c === null ? 0n : parseUsd(c)), 0n));
      const unpriced = costs.filter((c) => c === null).length;
      expect(usd(raw!.cost)).toBe(wantCost);
      for (const table of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
        const [r] = await query<{
          requests: string;
          errors: string;
          estimated: string;
          unpriced: string;
          input: string;
          output: string;
          cache_read: string;
          cache_write: string;
          cost: string;
        }>(
          svc,
          `SELECT sum(requests) AS requests, sum(errors) AS errors, sum(estimated_requests) AS estimated,
                  sum(unpriced_requests) AS unpriced, sum(input_tokens) AS input,
                  sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read,
                  sum(cache_write_tokens) AS cache_write, toString(sum(cost_usd)) AS cost
           FROM ${table} WHERE service = '${service}'`,
        );
        expect({
          table,
          requests: Number(r!.requests),
          errors: Number(r!.errors),
          estimated: Number(r!.estimated),
          unpriced: Number(r!.unpriced),
          input: Number(r!.input),
          output: Number(r!.output),
          cacheRead: Number(r!.cache_read),
          cacheWrite: Number(r!.cache_write),
          cost: usd(r!.cost),
        }).toEqual({ table, ...want, unpriced, cost: wantCost });
      }
    });
  },
);

describe.each(STACKS.map((s) => [s.title, s] as const))('two instrumentations on one call: %s', (_title, stack) => {
  // By service: the Anthropic SDK's spans do not get OpenLIT's custom span attributes, so they carry
  // no tokenmeter.tenant and land in the admin key's default tenant.
  const service = `svc-${tenantOf(stack)}`;

  it('exports a span for each, the inner a child of the outer, both with the usage', async () => {
    const spans = await query<{
      SpanId: string;
      ParentSpanId: string;
      TraceId: string;
      ScopeName: string;
      input: string;
    }>(
      svc,
      `SELECT SpanId, ParentSpanId, TraceId, ScopeName, SpanAttributes['gen_ai.usage.input_tokens'] AS input
       FROM otel_traces WHERE ServiceName = '${service}'`,
    );
    const outer = spans.filter((s) => s.ScopeName === stack.outer);
    const inner = spans.filter((s) => s.ScopeName === stack.inner);
    expect([outer.length, inner.length, spans.length]).toEqual([stack.calls, stack.calls, 2 * stack.calls]);
    for (const s of inner) {
      const parent = outer.find((o) => o.SpanId === s.ParentSpanId);
      expect(parent?.TraceId).toBe(s.TraceId);
    }
  });

  // Each span alone is a complete call in its own convention, and they arrive in separate
  // requests (the inner first): the writer's nested-call check (ingest/src/pipeline/nested-calls.ts)
  // counts the first sighting and drops the other from ai_calls.
  it('counts each call once in ai_calls and in the rollups', async () => {
    const [r] = await query<{ calls: string; hourly: string; daily: string }>(
      svc,
      `SELECT (SELECT count() FROM ai_calls WHERE service = '${service}') AS calls,
              (SELECT sum(requests) FROM ai_rollup_hourly WHERE service = '${service}') AS hourly,
              (SELECT sum(requests) FROM ai_rollup_daily WHERE service = '${service}') AS daily`,
    );
    expect([Number(r!.calls), Number(r!.hourly), Number(r!.daily)]).toEqual([stack.calls, stack.calls, stack.calls]);
  });
});
