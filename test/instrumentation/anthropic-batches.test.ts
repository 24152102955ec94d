/**
 * Anthropic Message Batches through the real `@anthropic-ai/sdk` against the replay server: each
 * succeeded request read from `messages.batches.results()` is one span marked `tokenmeter.request.batch`
 * with the message's exact usage; an errored request is none. The bundled catalogue has no batch
 * price for the model, so the span is unpriced (flagged, never $0 and never the standard price);
 * at ingest a `<model>:batch` override prices it at the batch rate, stored with is_batch.
 */
import Anthropic, * as anthropicModule from '@anthropic-ai/sdk';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, test } from 'vitest';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { AnthropicInstrumentation } from '../../instrumentation/src/instrumentations/anthropic.js';
import { FIXTURES } from '../replay/fixtures.js';
import { setupTracing, tokensOf, until, useReplayServer } from './support.js';

const tracing = setupTracing();
new AnthropicInstrumentation().apply(anthropicModule);
const server = useReplayServer(tracing);

describe('Anthropic messages.batches.results', () => {
  test('one batch-priced span per succeeded request, the lines untouched', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.url, maxRetries: 0 });
    const results = await client.messages.batches.results('msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d');
    const seen: { custom_id: string; result: { type: string } }[] = [];
    for await (const line of results) seen.push(line as never);
    expect(seen.map((l) => [l.custom_id, l.result.type])).toEqual([
      ['ticket-1', 'succeeded'],
      ['ticket-2', 'errored'],
    ]);
    await until(() => tracing.ours().length >= 1);
    await new Promise((r) => setTimeout(r, 20));
    const spans = tracing.ours();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    const f = FIXTURES.anthropicBatches.ok;
    expect(tokensOf(span)).toEqual(f.tokens);
    expect(span.attributes['tokenmeter.request.batch']).toBe(true);
    expect(span.attributes['gen_ai.response.id']).toBe(f.id);
    // No batch price in the catalogue for this model: unpriced, never the standard price or $0.
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(span.attributes['tokenmeter.cost.unpriced']).toBe(true);

    // At ingest, the operator's batch price: Claude Haiku 4.5 Message Batches at $0.50 / $2.50
    // per 1M input / output tokens (docs.anthropic.com/en/docs/build-with-claude/batch-processing
    // #pricing, read 2026-12-07): 120,000 × 0.5e-6 + 40,000 × 2.5e-6 = $0.16.
    const pricer = new IngestPricer();
    pricer.setOverrides([
      {
        id: 'haiku-4-5-batch',
        provider: 'anthropic',
        model: 'claude-haiku-4-5:batch',
        effectiveFrom: '2025-10-01T00:00:00.000Z',
        prices: { input_mtok: 0.5, output_mtok: 2.5 },
      },
    ]);
    const decoded = decodeTraces(
      Buffer.from(ProtobufTraceSerializer.serializeRequest([span]) as Uint8Array),
      'protobuf',
    );
    const rows = buildRows(decoded.spans, () => 'acme', pricer, Date.now()).calls;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      is_batch: true,
      input_tokens: 120_000,
      output_tokens: 40_000,
      cost_usd: '0.16',
      cost_source: 'ingest',
      price_id: 'override:haiku-4-5-batch',
    });
    // Without the override the row stays unpriced (NULL), counted by the UnpricedModel alert.
    const bare = buildRows(decoded.spans, () => 'acme', new IngestPricer(), Date.now()).calls[0]!;
    expect([bare.priced, bare.cost_usd]).toEqual([false, null]);
  });
});
