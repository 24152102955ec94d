/**
 * OpenAI image generation through the real `openai` SDK against the replay server: gpt-image-1
 * reports tokens and is priced per token at the published rates; DALL·E answers per image with
 * no usage and must come out unpriced (flagged, and unpriced after ingest: the UnpricedModel
 * alert counts it), never $0 and never with guessed tokens.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import OpenAI, * as openaiModule from 'openai';
import { describe, expect, test } from 'vitest';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { FIXTURES } from '../replay/fixtures.js';
import { oneSpan as oneOf, setupTracing, tokensOf, useReplayServer } from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);
const server = useReplayServer(tracing);
const openai = () => new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, maxRetries: 0 });

function ingestRow(span: Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0][number]) {
  const decoded = decodeTraces(Buffer.from(ProtobufTraceSerializer.serializeRequest([span]) as Uint8Array), 'protobuf');
  const built = buildRows(decoded.spans, () => 'acme', new IngestPricer(), Date.now());
  expect(built.calls).toHaveLength(1);
  return built.calls[0]!;
}

describe('OpenAI images.generate', () => {
  test('gpt-image-1: its token usage at the published price sheet', async () => {
    const res = await openai().images.generate({ model: 'gpt-image-1', prompt: 'a red fox in the snow' });
    expect(res.data?.[0]?.b64_json).toBeTruthy();
    const span = await oneOf(tracing);
    const f = FIXTURES.openaiImages.ok;
    expect(tokensOf(span)).toEqual(f.tokens);
    expect(span.attributes['gen_ai.operation.name']).toBe('generate_content');
    expect(span.attributes['tokenmeter.usage.estimated']).toBeUndefined();
    // gpt-image-1 (openai.com/api/pricing, "Image generation", read 2026-12-07): text input $5.00
    // and image output $40.00 per 1M tokens: 10 × 5e-6 + 4160 × 40e-6 = $0.16645.
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.16645');
    expect(span.attributes['tokenmeter.price.id']).toBe('catalogue:openai/gpt-image-1');
    const row = ingestRow(span);
    expect([row.input_tokens, row.output_tokens, row.cost_usd, row.cost_source]).toEqual([10, 4160, '0.16645', 'span']);
  });

  test('dall-e-3: priced per image, no usage reported: unpriced and counted so, never $0', async () => {
    const res = await openai().images.generate({ model: 'dall-e-3', prompt: 'a red fox in the snow', n: 1 });
    expect(res.data?.[0]?.url).toMatch(/^https:/);
    const span = await oneOf(tracing);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(span.attributes['tokenmeter.cost.unpriced']).toBe(true);
    // No tokens were guessed from the prompt.
    expect(span.attributes['tokenmeter.usage.estimated']).toBeUndefined();
    const row = ingestRow(span);
    expect([row.priced, row.cost_usd, row.cost_source]).toEqual([false, null, '']);
  });
});
