/**
 * Shared by the instrumentation e2e tests: a real tracer provider with an in-memory exporter,
 * and the assertions every provider test makes (exact tokens from FIXTURES, cost equal to the
 * price engine's value).
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { withUsageContext } from '../../instrumentation/src/core/usage-context.js';
import { normalizeSpan } from '../../instrumentation/src/normalize/normalize.js';
import type { SpanInput } from '../../instrumentation/src/normalize/types.js';
import { priceCall } from '../../instrumentation/src/prices/engine.js';
import type { Usage } from '../../instrumentation/src/prices/types.js';
import type { UsageContext } from '../../instrumentation/src/types.js';
import type { ContentScenario, Fixture, TokenUsage } from '../replay/fixtures.js';
import { type ReplayServer, startReplayServer } from '../replay/server.js';

export { setupTracing } from '../../instrumentation/src/test-support/tracing.js';

/**
 * This file's replay server: started before its tests, closed after them, and reset (with the
 * recorded spans) before each. The returned object stands for the live server.
 */
export function useReplayServer(tracing: { reset(): void }, onClose?: () => void): ReplayServer {
  let live: ReplayServer | undefined;
  beforeAll(async () => {
    live = await startReplayServer();
  });
  afterAll(async () => {
    onClose?.();
    await live?.close();
  });
  beforeEach(() => {
    live?.reset();
    tracing.reset();
  });
  return new Proxy({} as ReplayServer, {
    get(_target, prop) {
      if (!live) throw new Error('the replay server starts in beforeAll');
      const value = Reflect.get(live, prop, live) as unknown;
      return typeof value === 'function' ? value.bind(live) : value;
    },
  });
}

/** The span's tokens in the fixtures' shape (absent attributes read as 0). */
export function tokensOf(span: ReadableSpan): TokenUsage {
  const a = span.attributes;
  const n = (k: string) => (typeof a[k] === 'number' ? (a[k] as number) : 0);
  return {
    inputTokens: n('gen_ai.usage.input_tokens'),
    outputTokens: n('gen_ai.usage.output_tokens'),
    cacheReadTokens: n('gen_ai.usage.cache_read.input_tokens'),
    cacheWriteTokens: n('gen_ai.usage.cache_creation.input_tokens'),
    cacheWrite1hTokens: n('tokenmeter.usage.cache_creation_1h.input_tokens'),
    reasoningTokens: n('gen_ai.usage.reasoning.output_tokens'),
    inputAudioTokens: n('gen_ai.usage.audio.input_tokens'),
    outputAudioTokens: n('gen_ai.usage.audio.output_tokens'),
    cacheAudioReadTokens: n('tokenmeter.usage.cache_read.audio.input_tokens'),
    webSearchCalls: n('tokenmeter.usage.web_search.calls'),
  };
}

/** What the price engine says this usage costs: the span must carry exactly this. */
export function engineCost(provider: string, model: string, t: TokenUsage): string {
  const usage: Usage = { inputTokens: t.inputTokens, outputTokens: t.outputTokens };
  if (t.cacheReadTokens) usage.cacheReadTokens = t.cacheReadTokens;
  if (t.cacheWriteTokens) usage.cacheWriteTokens = t.cacheWriteTokens;
  if (t.cacheWrite1hTokens) usage.cacheWrite1hTokens = t.cacheWrite1hTokens;
  if (t.reasoningTokens) usage.reasoningTokens = t.reasoningTokens;
  if (t.inputAudioTokens) usage.inputAudioTokens = t.inputAudioTokens;
  if (t.outputAudioTokens) usage.outputAudioTokens = t.outputAudioTokens;
  if (t.cacheAudioReadTokens) usage.cacheAudioReadTokens = t.cacheAudioReadTokens;
  if (t.webSearchCalls) usage.webSearchCalls = t.webSearchCalls;
  const r = priceCall({ provider, model, usage, timestamp: new Date() });
  if (!r.priced) throw new Error(`fixture model ${provider}/${model} has no price: ${r.detail}`);
  return r.costUsd;
}

/** Tokens exactly as the fixture says, and cost exactly the engine's. */
export function expectExactCall(span: ReadableSpan | undefined, provider: string, model: string, t: TokenUsage): void {
  expect(span, 'a span was recorded').toBeDefined();
  const s = span as ReadableSpan;
  expect(tokensOf(s)).toEqual(t);
  expect(s.attributes['gen_ai.usage.cost.amount']).toBe(engineCost(provider, model, t));
  expect(s.attributes['gen_ai.usage.cost.currency']).toBe('USD');
  expect(s.attributes['gen_ai.usage.cost.source']).toBe('span');
  expect(String(s.attributes['tokenmeter.price.id'])).toMatch(/^catalogue:/);
  expect(s.attributes['tokenmeter.usage.estimated']).toBeUndefined();
  expect(s.kind).toBe(2); // CLIENT
}

/** Span ends can trail the app's await by a tick or two. */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for spans');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A tool loop's spans, one per step in order, each exact for its fixture and in the usage
 * context; their sum is the `totalUsage` the ai SDK reported for the whole call.
 */
export async function expectToolLoopSpans(
  tracing: { ours: () => ReadableSpan[] },
  provider: string,
  steps: Fixture[],
  totalUsage: { inputTokens?: number; outputTokens?: number },
): Promise<void> {
  await until(() => tracing.ours().length >= steps.length);
  await new Promise((r) => setTimeout(r, 10));
  const spans = [...tracing.ours()].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  expect(spans).toHaveLength(steps.length);
  steps.forEach((f, i) => expectExactCall(spans[i], provider, f.model, f.tokens!));
  expect(spans[0]!.attributes['gen_ai.response.finish_reasons']).toEqual(['tool-calls']);
  for (const s of spans) expectContext(s);
  const sum = (k: 'inputTokens' | 'outputTokens') => spans.reduce((n, s) => n + tokensOf(s)[k], 0);
  const expected = (k: 'inputTokens' | 'outputTokens') => steps.reduce((n, f) => n + f.tokens![k], 0);
  expect(sum('inputTokens')).toBe(expected('inputTokens'));
  expect(sum('outputTokens')).toBe(expected('outputTokens'));
  expect(totalUsage.inputTokens).toBe(sum('inputTokens'));
  expect(totalUsage.outputTokens).toBe(sum('outputTokens'));
}

/** A fixture table as [scenario, fixture] rows for test.each. */
export const scenarios = (f: Partial<Record<ContentScenario, Fixture>>) =>
  Object.entries(f) as [ContentScenario, Fixture][];

/** Exactly one span of ours, once it has ended (a short grace period catches a stray second one). */
export async function oneSpan(tracing: { ours: () => ReadableSpan[] }): Promise<ReadableSpan> {
  await until(() => tracing.ours().length >= 1);
  await new Promise((r) => setTimeout(r, 10));
  expect(tracing.ours()).toHaveLength(1);
  return tracing.ours()[0]!;
}

/** The usage context every call kind runs in, and the attributes each of its spans must carry. */
export const CONTEXT: UsageContext = {
  tenant: 'acme',
  userId: 'u-42',
  team: 'search',
  feature: 'answer',
  sessionId: 's-7',
  requestId: 'r-9',
};
export const inContext = <T>(fn: () => T): T => withUsageContext(CONTEXT, fn);

export function expectContext(span: ReadableSpan | undefined): void {
  expect(span?.attributes).toMatchObject({
    'tokenmeter.tenant': 'acme',
    'user.id': 'u-42',
    'tokenmeter.team': 'search',
    'tokenmeter.feature': 'answer',
    'session.id': 's-7',
    'tokenmeter.request.id': 'r-9',
  });
}

/** A failed call: error.type as given, error status, no usage and no cost. */
export function expectFailedCall(span: ReadableSpan | undefined, errorType: string): void {
  expect(span?.attributes['error.type']).toBe(errorType);
  expect(span?.status.code).toBe(2); // ERROR
  expect(span?.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
  expect(span?.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
}

/** A finished span as the ingest service would receive it. */
export function spanInput(s: ReadableSpan): SpanInput {
  return {
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? '',
    traceState: '',
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes: s.attributes as SpanInput['attributes'],
    resource: {},
    scope: { name: s.instrumentationScope.name, version: '' },
    status: { code: s.status.code, message: '' },
    events: [],
    links: [],
  };
}

/** The AI calls the ingest service would count among these spans (each call once, whoever recorded it). */
export const countedCalls = (spans: ReadableSpan[]) => spans.map(spanInput).map(normalizeSpan).filter(Boolean);

/**
 * A minimal ai SDK LanguageModelV3 built on the (instrumented) openai SDK, reporting made-up
 * usage (999): the inner SDK span must be the counted call, never this model's.
 */
export function sdkBackedModel(client: OpenAI, modelId: string) {
  return {
    specificationVersion: 'v3' as const,
    provider: 'custom.chat',
    modelId,
    supportedUrls: {},
    async doGenerate() {
      const r = await client.chat.completions.create({
        model: modelId,
        messages: [{ role: 'user', content: 'Hello' }],
      });
      return {
        content: [{ type: 'text' as const, text: r.choices[0]?.message.content ?? '' }],
        finishReason: { unified: 'stop' as const, raw: 'stop' },
        usage: {
          inputTokens: { total: 999, noCache: 999, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 999, text: 999, reasoning: 0 },
        },
        warnings: [],
      };
    },
    async doStream(): Promise<never> {
      throw new Error('not used');
    },
  };
}
