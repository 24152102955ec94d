/**
 * Every Bedrock model family through InvokeModel and InvokeModelWithResponseStream, with the
 * real `@aws-sdk/client-bedrock-runtime` (HTTP/2, h2c) against the replay server
 * (test/replay/bedrock-families.ts: the families' documented bodies, Bedrock's token-count
 * headers, the streams' invocation metrics in AWS event-stream framing). Each span carries the
 * exact tokens Bedrock counted, never an estimate, and the price engine's cost (or the unpriced
 * flag where the catalogue has no price); the app sees the bodies untouched; ingest stores the
 * same tokens and cost.
 */
import * as bedrockModule from '@aws-sdk/client-bedrock-runtime';
import { InvokeModelCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, test } from 'vitest';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { BedrockInstrumentation } from '../../instrumentation/src/instrumentations/bedrock.js';
import { priceCall } from '../../instrumentation/src/prices/index.ts';
import { FAMILIES, type FamilyFixture, invocationMetrics } from '../replay/bedrock-families.js';
import { replayBedrockClients } from '../replay/client-helpers.js';
import { oneSpan as oneOf, setupTracing, tokensOf, useReplayServer } from './support.js';

const tracing = setupTracing();
new BedrockInstrumentation().apply(bedrockModule);
const clients = replayBedrockClients(() => server.h2Url);
const server = useReplayServer(tracing, () => clients.destroyAll());
const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes));

/** tokenmeter's tokens for the fixture: input includes cache reads. */
function expectedTokens(f: FamilyFixture) {
  return {
    inputTokens: f.input + (f.cacheRead ?? 0),
    outputTokens: f.output,
    cacheReadTokens: f.cacheRead ?? 0,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: 0,
    inputAudioTokens: 0,
    outputAudioTokens: 0,
    cacheAudioReadTokens: 0,
    webSearchCalls: 0,
  };
}

/** The span has the exact tokens, the engine's cost or the unpriced flag, and ingest stores the same. */
function expectExactFamilySpan(span: ReadableSpan, f: FamilyFixture): void {
  const a = span.attributes;
  const tokens = expectedTokens(f);
  expect(tokensOf(span)).toEqual(tokens);
  expect(a['tokenmeter.usage.estimated']).toBeUndefined();
  expect(a['gen_ai.operation.name']).toBe(f.family.endsWith('embed') ? 'embeddings' : 'chat');
  const engine = priceCall({
    provider: 'bedrock',
    model: f.model,
    usage: {
      inputTokens: tokens.inputTokens,
      outputTokens: tokens.outputTokens,
      ...(tokens.cacheReadTokens ? { cacheReadTokens: tokens.cacheReadTokens } : {}),
    },
    timestamp: new Date(),
  });
  if (engine.priced) {
    expect(a['gen_ai.usage.cost.amount']).toBe(engine.costUsd);
    expect(a['tokenmeter.price.id']).toBe(engine.priceId);
  } else {
    expect(a['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(a['tokenmeter.cost.unpriced']).toBe(true);
  }
  // The same row after ingest: tokens and cost.
  const decoded = decodeTraces(Buffer.from(ProtobufTraceSerializer.serializeRequest([span]) as Uint8Array), 'protobuf');
  const built = buildRows(decoded.spans, () => 'acme', new IngestPricer(), Date.now());
  expect(built.calls).toHaveLength(1);
  const row = built.calls[0]!;
  expect({
    input: row.input_tokens,
    output: row.output_tokens,
    cacheRead: row.cache_read_tokens,
    estimated: row.estimated,
    cost: row.cost_usd,
    source: row.cost_source,
    operation: row.operation,
  }).toEqual({
    input: tokens.inputTokens,
    output: tokens.outputTokens,
    cacheRead: tokens.cacheReadTokens,
    estimated: false,
    cost: engine.priced ? engine.costUsd : null,
    source: engine.priced ? 'span' : '',
    operation: a['gen_ai.operation.name'],
  });
}

describe.each(Object.values(FAMILIES).map((f) => [f.family, f] as const))('Bedrock %s', (_name, f) => {
  test('InvokeModel: tokens from the body or the token-count headers, the body untouched', async () => {
    const res = await clients
      .client()
      .send(new InvokeModelCommand({ modelId: f.model, body: JSON.stringify(f.request) }));
    expect(decode(res.body)).toEqual(f.body);
    const span = await oneOf(tracing);
    expectExactFamilySpan(span, f);
    expect(span.attributes['gen_ai.request.model']).toBe(f.model);
  });

  test.skipIf(!f.chunks)(
    'InvokeModelWithResponseStream: tokens from the invocation metrics, chunks untouched',
    async () => {
      const res = await clients
        .client()
        .send(new InvokeModelWithResponseStreamCommand({ modelId: f.model, body: JSON.stringify(f.request) }));
      const seen: unknown[] = [];
      for await (const e of res.body!) seen.push(decode(e.chunk?.bytes));
      const chunks = f.chunks!;
      expect(seen).toEqual(
        chunks.map((c, i) =>
          i === chunks.length - 1 ? { ...c, 'amazon-bedrock-invocationMetrics': invocationMetrics(f) } : c,
        ),
      );
      const span = await oneOf(tracing);
      expectExactFamilySpan(span, f);
      expect(span.attributes['gen_ai.request.stream']).toBe(true);
    },
  );
});

test('the issue’s two cases: Claude v2 text completion 16 in / 82 out, Titan text priced', async () => {
  const claude = FAMILIES['anthropic-text'];
  await clients.client().send(new InvokeModelCommand({ modelId: claude.model, body: JSON.stringify(claude.request) }));
  const span = await oneOf(tracing);
  expect([tokensOf(span).inputTokens, tokensOf(span).outputTokens]).toEqual([16, 82]);
  tracing.reset();
  const titan = FAMILIES['titan-text'];
  await clients.client().send(new InvokeModelCommand({ modelId: titan.model, body: JSON.stringify(titan.request) }));
  const t = await oneOf(tracing);
  // Titan Text Express: $0.20 / $0.60 per 1M input / output (aws.amazon.com/bedrock/pricing, read 2026-12-07):
  // 9 × 0.2e-6 + 8 × 0.6e-6 = $0.0000066.
  expect(t.attributes['gen_ai.usage.cost.amount']).toBe('0.0000066');
});
