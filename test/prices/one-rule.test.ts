/**
 * One pricing rule, three paths. The same generated calls are priced by
 * 1. the instrumentation: a real span from `startCall`/`Call.end`, exported through the real
 *    OTLP protobuf serializer;
 * 2. ingest: that span decoded by the receiver's decoder and built into an `ai_calls` row with
 *    its cost attributes removed (a span from an instrumentation that does not price);
 * 3. reprice: that row with its cost cleared, re-priced by `repriceCall`.
 * All three must agree on cost, price id and version (and ingest and reprice on cache savings,
 * source, and under tenant and global overrides): zero differences.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import type { CallRow } from '../../ingest/src/pipeline/rows.ts';
import { repriceCall } from '../../ingest/src/prices/reprice-call.ts';
import { startCall } from '../../instrumentation/src/core/call.ts';
import type { SpanInput } from '../../instrumentation/src/normalize/types.ts';
import type { PriceOverride, Usage } from '../../instrumentation/src/prices/types.ts';
import { setupTracing } from '../../instrumentation/src/test-support/tracing.ts';

const tracing = setupTracing();

/** Models as calls name them: aliases, dated snapshots (known and not yet), slugs, Bedrock ids and profiles, unknowns. */
const MODELS: Record<string, string[]> = {
  openai: [
    'gpt-4o-mini',
    'gpt-4o-mini-2024-07-18',
    'gpt-4o-mini-2099-01-01',
    'gpt-4o',
    'o3',
    'gpt-5',
    'gpt-4.1-nano',
    'openai/gpt-4o-mini',
    'whisper-1',
    'acme-7b',
  ],
  anthropic: ['claude-sonnet-4-20250514', 'claude-3-5-haiku-20241022', 'claude-sonnet-4-0', 'claude-unknown-9'],
  bedrock: [
    'anthropic.claude-3-5-haiku-20241022-v1:0',
    'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    'eu.anthropic.claude-sonnet-4-20250514-v1:0',
    'apac.amazon.nova-lite-v1:0',
    'meta.llama3-1-8b-instruct-v1:0',
    'arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-7b-instruct-v0:2',
    'claude-3-5-haiku-20241022',
    'cohere.command-r-v1:0',
  ],
  google: ['gemini-2.5-pro', 'gemini-2.0-flash', 'models/gemini-2.0-flash'],
  openrouter: ['openai/gpt-6-luna', 'anthropic/claude-sonnet-4'],
};

const usageArb: fc.Arbitrary<Usage> = fc
  .record({
    fresh: fc.integer({ min: 0, max: 400_000 }),
    cacheRead: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300_000 })),
    cacheWrite: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 })),
    share1h: fc.double({ min: 0, max: 1, noNaN: true }),
    output: fc.integer({ min: 0, max: 60_000 }),
    reasoningShare: fc.double({ min: 0, max: 1, noNaN: true }),
    audioIn: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 })),
    cachedAudioShare: fc.double({ min: 0, max: 1, noNaN: true }),
    // Items priced per unit (whisper-1's seconds of audio, tts-1's characters): now and then.
    audioSeconds: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 7200 }) },
    ),
    characters: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 4096 }) },
    ),
    // Built-in tool calls (OpenAI Responses web search and file search), billed per 1,000.
    webSearches: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }) },
    ),
    fileSearches: fc.oneof(
      { weight: 9, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }) },
    ),
  })
  .map((r) => {
    const u: Usage = {
      inputTokens: r.fresh + r.cacheRead + r.cacheWrite + r.audioIn,
      outputTokens: r.output,
    };
    if (r.cacheRead) u.cacheReadTokens = r.cacheRead;
    if (r.cacheWrite) u.cacheWriteTokens = r.cacheWrite;
    const oneHour = Math.floor(r.cacheWrite * r.share1h);
    if (oneHour) u.cacheWrite1hTokens = oneHour;
    const reasoning = Math.floor(r.output * r.reasoningShare);
    if (reasoning) u.reasoningTokens = reasoning;
    if (r.audioIn) u.inputAudioTokens = r.audioIn;
    // Cached audio (Gemini context caching): part of the cache reads and of the input audio.
    const cachedAudio = Math.floor(Math.min(r.cacheRead, r.audioIn) * r.cachedAudioShare);
    if (cachedAudio) u.cacheAudioReadTokens = cachedAudio;
    if (r.audioSeconds) u.audioSeconds = r.audioSeconds;
    if (r.characters) u.inputCharacters = r.characters;
    if (r.webSearches) u.webSearchCalls = r.webSearches;
    if (r.fileSearches) u.fileSearchCalls = r.fileSearches;
    return u;
  });

const callArb = fc.constantFrom(...Object.keys(MODELS)).chain((provider) =>
  fc.record({
    provider: fc.constant(provider),
    requestModel: fc.constantFrom(...(MODELS[provider] as string[])),
    responseModel: fc.oneof(fc.constant(''), fc.constantFrom(...(MODELS[provider] as string[]))),
    usage: usageArb,
    batch: fc.boolean(),
    tenant: fc.constantFrom('acme', 'globex'),
  }),
);
type GeneratedCall = typeof callArb extends fc.Arbitrary<infer T> ? T : never;

/** Path 1: the instrumentation's span for the call, as the OTLP receiver decodes it. */
function instrumentedSpan(c: GeneratedCall): SpanInput {
  tracing.reset();
  const call = startCall({
    provider: c.provider,
    operation: 'chat',
    requestModel: c.requestModel,
    isStreaming: false,
    batch: c.batch,
  });
  call.usage = c.usage;
  if (c.responseModel) call.responseModel = c.responseModel;
  call.end();
  const spans: ReadableSpan[] = tracing.ours();
  expect(spans).toHaveLength(1);
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  const decoded = decodeTraces(Buffer.from(body as Uint8Array), 'protobuf');
  expect(decoded.spans).toHaveLength(1);
  return decoded.spans[0] as SpanInput;
}

const COST_ATTRIBUTES = [
  'gen_ai.usage.cost.amount',
  'gen_ai.usage.cost.currency',
  'gen_ai.usage.cost.source',
  'tokenmeter.price.id',
  'tokenmeter.price.version',
  'tokenmeter.cost.unpriced',
];

/** Path 2: ingest's row for the span, priced there (the span's own cost removed). */
function ingestRow(span: SpanInput, tenant: string, pricer: IngestPricer, keepSpanCost = false): CallRow {
  const attributes = { ...span.attributes };
  if (!keepSpanCost) for (const k of COST_ATTRIBUTES) delete attributes[k];
  const built = buildRows([{ ...span, attributes }], () => tenant, pricer, Date.now());
  expect(built.rejected).toEqual([]);
  expect(built.calls).toHaveLength(1);
  return built.calls[0] as CallRow;
}

/** Path 3: the stored row with its cost cleared, re-priced. */
function repricedRow(row: CallRow, overrides: readonly PriceOverride[]): CallRow {
  const cleared: CallRow = {
    ...row,
    priced: false,
    cost_usd: null,
    cost_source: '',
    price_id: '',
    price_version: '',
    cache_savings_usd: '0',
  };
  return { ...cleared, ...repriceCall(cleared, overrides) };
}

const costOf = (r: CallRow) => ({
  cost: r.cost_usd,
  priceId: r.price_id,
  priceVersion: r.price_version,
  source: r.cost_source,
  savings: r.cache_savings_usd,
});

describe('one pricing rule: instrumentation, ingest and reprice agree', () => {
  it('on generated calls without overrides (cost, price id, version): 0 differences', () => {
    const pricer = new IngestPricer();
    let priced = 0;
    let pricedTools = 0;
    let differences = 0;
    fc.assert(
      fc.property(callArb, (c) => {
        const span = instrumentedSpan(c);
        const a = span.attributes;
        const fromSpan = {
          cost: (a['gen_ai.usage.cost.amount'] as string | undefined) ?? null,
          priceId: (a['tokenmeter.price.id'] as string | undefined) ?? '',
          priceVersion: (a['tokenmeter.price.version'] as string | undefined) ?? '',
        };
        expect(a['tokenmeter.cost.unpriced'] === true).toBe(fromSpan.cost === null);
        const ingested = ingestRow(span, c.tenant, pricer);
        const repriced = repricedRow(ingested, []);
        const kept = ingestRow(span, c.tenant, pricer, true);
        const ingestCost = {
          cost: ingested.cost_usd,
          priceId: ingested.price_id,
          priceVersion: ingested.price_version,
        };
        const repriceCost = {
          cost: repriced.cost_usd,
          priceId: repriced.price_id,
          priceVersion: repriced.price_version,
        };
        if (JSON.stringify(fromSpan) !== JSON.stringify(ingestCost)) differences++;
        if (JSON.stringify(fromSpan) !== JSON.stringify(repriceCost)) differences++;
        expect(ingestCost).toEqual(fromSpan);
        expect(repriceCost).toEqual(fromSpan);
        expect(costOf(repriced)).toEqual(costOf(ingested));
        // Ingest keeping the span's own cost stores the same figures, savings included.
        expect(kept.cost_usd).toBe(fromSpan.cost);
        expect(kept.cache_savings_usd).toBe(ingested.cache_savings_usd);
        if (fromSpan.cost !== null) priced++;
        if (fromSpan.cost !== null && (c.usage.webSearchCalls || c.usage.fileSearchCalls)) pricedTools++;
      }),
      { numRuns: 400, seed: 15 },
    );
    expect(differences).toBe(0);
    // The generator must exercise priced and unpriced calls alike.
    expect(priced).toBeGreaterThan(100);
    expect(priced).toBeLessThan(400);
    // ... and calls priced with their built-in tool calls (gpt-4o, gpt-5, o3 have rates for them).
    expect(pricedTools).toBeGreaterThan(5);
  });

  it('ingest and reprice agree under global and tenant overrides and defaults', () => {
    // Overrides aimed at the call's own names (and some at others), global or per tenant.
    const overridesFor = (c: GeneratedCall) =>
      fc.array(
        fc.record({
          id: fc.uuid(),
          tenant: fc.constantFrom('', 'acme', 'globex'),
          provider: fc.constantFrom(c.provider, c.provider, 'openai', '*'),
          model: fc.constantFrom(
            c.requestModel,
            c.responseModel || c.requestModel,
            `${c.requestModel}:batch`,
            '*',
            '*',
            'gpt-4o-mini',
            'anthropic.claude-3-5-haiku-20241022-v1:0',
          ),
          effectiveFrom: fc.constantFrom('2020-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z'),
          prices: fc
            .record({
              input_mtok: fc.integer({ min: 0, max: 20_000 }).map((n) => n / 1000),
              output_mtok: fc.integer({ min: 0, max: 80_000 }).map((n) => n / 1000),
              cache_read_mtok: fc.integer({ min: 0, max: 2_000 }).map((n) => n / 1000),
              audio_hours: fc.constantFrom(undefined, 0.36),
              input_mchars: fc.constantFrom(undefined, 15),
              web_searches_kcount: fc.constantFrom(undefined, 10),
              storage_searches_kcount: fc.constantFrom(undefined, 2.5),
            })
            .map(
              (p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Record<string, number>,
            ),
        }),
        { maxLength: 6 },
      );
    let byOverride = 0;
    let byDefault = 0;
    fc.assert(
      fc.property(
        callArb.chain((c) => fc.tuple(fc.constant(c), overridesFor(c))),
        ([c, overrides]) => {
          const usable = overrides.filter((o) => o.model === '*' || o.provider !== '*');
          const pricer = new IngestPricer();
          pricer.setOverrides(usable);
          const span = instrumentedSpan(c);
          for (const keep of [false, true]) {
            const ingested = ingestRow(span, c.tenant, pricer, keep);
            const stored = keep ? ingested : repricedRow(ingested, usable);
            const again = { ...stored, ...repriceCall(stored, usable) };
            expect(costOf(again)).toEqual(costOf(stored));
            if (!keep) expect(costOf(stored)).toEqual(costOf(ingested));
            if (ingested.price_id.startsWith('override:') && ingested.cost_source === 'ingest') byOverride++;
            if (ingested.cost_source === 'default') byDefault++;
          }
        },
      ),
      { numRuns: 500, seed: 16 },
    );
    expect(byOverride).toBeGreaterThan(20);
    expect(byDefault).toBeGreaterThan(3);
  });
});
