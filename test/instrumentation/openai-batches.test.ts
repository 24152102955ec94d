/**
 * OpenAI Batch through the real `openai` SDK against the replay server: the app retrieves a
 * completed batch and downloads its output file with `files.content()`. Each succeeded request
 * of the file becomes one span marked `tokenmeter.request.batch` with the exact usage the line
 * reports; the failed request gets none; the Response and its text reach the app untouched. The
 * bundled catalogue has no OpenAI batch prices, so the spans are unpriced (flagged, never the
 * standard price, never $0); at ingest a `<model>:batch` override prices them (is_batch).
 *
 * Prices: OpenAI API pricing (platform.openai.com/docs/pricing, "Batch API": 50% off), the
 * figures as of 2026-12-07 (not fetched live: no network here): gpt-4o-mini batch $0.075 input
 * and $0.30 output per 1M tokens; text-embedding-3-small batch $0.01 per 1M tokens.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import OpenAI, * as openaiModule from 'openai';
import { describe, expect, test } from 'vitest';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { parseOverride } from '../../ingest/src/prices/overrides.ts';
import { recordOpenAIBatchOutput } from '../../instrumentation/src/instrumentations/openai-batch.js';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import type { PriceOverride } from '../../instrumentation/src/prices/types.ts';
import { OPENAI_BATCH_LINES } from '../replay/fixtures.js';
import { setupTracing, until, useReplayServer } from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);
const server = useReplayServer(tracing);
const openai = () => new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, maxRetries: 0 });
const BATCH_ID = 'batch_6813b0d5a1c48190b2f0e7a9c3d5e7f9';
const SUCCEEDED = OPENAI_BATCH_LINES.filter((l) => l.usage !== null);

const override = (model: string, prices: Record<string, number>): PriceOverride => {
  const o = parseOverride({ id: model, provider: 'openai', model, effective_from: '2024-07-18', prices });
  return { ...o, id: o.id! };
};
/** The operator's batch prices, as the overrides API takes them. */
const BATCH_PRICES = [
  override('gpt-4o-mini:batch', { input_mtok: 0.075, output_mtok: 0.3 }),
  override('text-embedding-3-small:batch', { input_mtok: 0.01 }),
];

function ingestRows(spans: ReadableSpan[], overrides: PriceOverride[]) {
  const decoded = decodeTraces(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array), 'protobuf');
  const pricer = new IngestPricer();
  pricer.setOverrides(overrides);
  const built = buildRows(decoded.spans, () => 'acme', pricer, Date.now());
  expect(built.rejected).toEqual([]);
  return built.calls;
}

const byModelAndTokens = (spans: ReadableSpan[]) =>
  spans
    .map((s) => [
      s.attributes['gen_ai.operation.name'],
      s.attributes['gen_ai.response.model'],
      s.attributes['gen_ai.usage.input_tokens'],
      s.attributes['gen_ai.usage.output_tokens'],
    ])
    .sort((a, b) => Number(a[2]) - Number(b[2]));

describe('OpenAI Batch output files', () => {
  test('files.content(output_file_id).text(): one batch-priced span per succeeded request, the file untouched', async () => {
    const client = openai();
    const batch = await client.batches.retrieve(BATCH_ID);
    expect(batch.status).toBe('completed');
    const res = await client.files.content(batch.output_file_id!);
    expect(res.bodyUsed).toBe(false);
    const text = await res.text();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.custom_id, l.response.status_code])).toEqual([
      ['ticket-1', 200],
      ['ticket-2', 200],
      ['doc-1', 200],
      ['ticket-3', 400],
    ]);
    await until(() => tracing.ours().length >= SUCCEEDED.length);
    await new Promise((r) => setTimeout(r, 20));
    const spans = tracing.ours();
    expect(spans).toHaveLength(SUCCEEDED.length);
    expect(byModelAndTokens(spans)).toEqual([
      ['chat', 'gpt-4o-mini-2024-07-18', 800, 150],
      ['chat', 'gpt-4o-mini-2024-07-18', 1200, 300],
      ['embeddings', 'text-embedding-3-small', 5000, 0],
    ]);
    for (const s of spans) {
      expect(s.attributes['tokenmeter.request.batch']).toBe(true);
      // No OpenAI batch price in the catalogue: unpriced, never the standard price or $0.
      expect(s.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
      expect(s.attributes['tokenmeter.cost.unpriced']).toBe(true);
    }

    // At ingest, the batch overrides: 1,200 × $0.075 + 300 × $0.30 = $0.00018; 800 × $0.075 +
    // 150 × $0.30 = $0.000105 (per 1M tokens); 5,000 × $0.01 per 1M = $0.00005.
    const rows = ingestRows(spans, BATCH_PRICES).sort((a, b) => a.input_tokens - b.input_tokens);
    expect(rows.map((r) => [r.is_batch, r.input_tokens, r.cost_usd, r.cost_source, r.price_id])).toEqual([
      [true, 800, '0.000105', 'ingest', 'override:gpt-4o-mini:batch'],
      [true, 1200, '0.00018', 'ingest', 'override:gpt-4o-mini:batch'],
      [true, 5000, '0.00005', 'ingest', 'override:text-embedding-3-small:batch'],
    ]);
    // Without them the rows stay unpriced (NULL), counted by the UnpricedModel alert.
    expect(ingestRows(spans, []).map((r) => [r.priced, r.cost_usd])).toEqual([
      [false, null],
      [false, null],
      [false, null],
    ]);

    // The same file downloaded again in this process is not counted twice.
    tracing.reset();
    await (await client.files.content(batch.output_file_id!)).text();
    await new Promise((r) => setTimeout(r, 50));
    expect(tracing.ours()).toHaveLength(0);
  });

  test('recordOpenAIBatchOutput: the helper for a file read another way; other files are not batch output', async () => {
    const res = await openai().files.content('file-outOTHER');
    // The app reads the bytes itself (not text()): nothing recorded on its own.
    const bytes = Buffer.from(await res.arrayBuffer());
    await new Promise((r) => setTimeout(r, 20));
    expect(tracing.ours()).toHaveLength(0);
    expect(recordOpenAIBatchOutput(bytes.toString('utf8'), { baseURL: `${server.url}/v1` })).toBe(SUCCEEDED.length);
    expect(tracing.ours()).toHaveLength(SUCCEEDED.length);
    expect(tracing.ours().every((s) => s.attributes['tokenmeter.request.batch'] === true)).toBe(true);
    // Not a batch output file, or not JSON at all: nothing, and no throw.
    expect(recordOpenAIBatchOutput('{"custom_id":"x","response":null}\nnot json\n')).toBe(0);
    expect(recordOpenAIBatchOutput(undefined as unknown as string)).toBe(0);
  });
});
