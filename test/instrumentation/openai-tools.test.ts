/**
 * OpenAI Responses built-in tools through the real `openai` SDK against the replay server: each
 * `web_search_call` and `file_search_call` item of the output is one tool call, billed per 1,000
 * calls on top of the tokens. The span counts them (tokenmeter.usage.web_search.calls,
 * tokenmeter.usage.file_search.calls), the cost includes them, and ingest and reprice price the
 * stored counts the same. A model whose price has no rate for a tool it ran is unpriced, never
 * priced by its tokens alone.
 *
 * Prices: OpenAI API pricing (platform.openai.com/docs/pricing, "Built-in tools" and "Text
 * tokens"), the figures as of 2026-12-07 as @pydantic/genai-prices 0.1.8 carries them (not fetched
 * live: no network here): web search $10.00 per 1k calls (search content tokens at the model's
 * rates), file search $2.50 per 1k calls, gpt-5 $1.25 / $10.00 per 1M input / output tokens.
 * (The sheet bills `web_search_preview` on non-reasoning models at $25.00 per 1k calls; the
 * catalogue has one web-search rate per model, so such calls are priced at $10.00.)
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import OpenAI, * as openaiModule from 'openai';
import { describe, expect, test } from 'vitest';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import type { CallRow } from '../../ingest/src/pipeline/rows.ts';
import { repriceCall } from '../../ingest/src/prices/reprice-call.ts';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { FIXTURES } from '../replay/fixtures.js';
import { oneSpan, setupTracing, tokensOf, useReplayServer } from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);
const server = useReplayServer(tracing);
const openai = () => new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, maxRetries: 0 });
const f = FIXTURES.openaiResponses['web-search'];
const TOOLS = [{ type: 'web_search' as const }, { type: 'file_search' as const, vector_store_ids: ['vs_policies'] }];
const INPUT = 'What is our refund window this year, and did the council confirm it?';

function ingestRow(span: ReadableSpan, strip = false): CallRow {
  const decoded = decodeTraces(Buffer.from(ProtobufTraceSerializer.serializeRequest([span]) as Uint8Array), 'protobuf');
  const s = decoded.spans[0]!;
  // strip: as a span from an instrumentation that does not price (ingest prices it).
  if (strip)
    for (const k of ['gen_ai.usage.cost.amount', 'tokenmeter.price.id', 'tokenmeter.price.version'])
      delete s.attributes[k];
  const built = buildRows([s], () => 'acme', new IngestPricer(), Date.now());
  expect(built.rejected).toEqual([]);
  expect(built.calls).toHaveLength(1);
  return built.calls[0]!;
}

function repriced(row: CallRow): CallRow {
  const cleared = { ...row, priced: false, cost_usd: null, cost_source: '', price_id: '', price_version: '' };
  return { ...cleared, ...repriceCall(cleared, []) };
}

describe('OpenAI responses: built-in tool calls priced per call', () => {
  test('gpt-5 with two web searches and a file search: tokens plus $10 and $2.50 per 1k calls', async () => {
    const res = await openai().responses.create({ model: 'gpt-5@web-search', tools: TOOLS, input: INPUT });
    expect(res.output.map((i) => i.type)).toEqual([
      'web_search_call',
      'web_search_call',
      'file_search_call',
      'message',
    ]);
    expect(res.output_text).toBe(f.text);
    const span = await oneSpan(tracing);
    expect(tokensOf(span)).toEqual(f.tokens);
    expect(span.attributes['tokenmeter.usage.web_search.calls']).toBe(2);
    expect(span.attributes['tokenmeter.usage.file_search.calls']).toBe(1);
    // 2,400 × $1.25 + 300 × $10 per 1M tokens = $0.006; 2 × $0.01 + 1 × $0.0025 for the tools: $0.0285.
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.0285');
    expect(span.attributes['tokenmeter.price.id']).toBe('catalogue:openai/gpt-5');
    const row = ingestRow(span);
    expect([row.web_search_calls, row.file_search_calls, row.cost_usd, row.cost_source]).toEqual([
      2,
      1,
      '0.0285',
      'span',
    ]);
    // Priced at ingest (a span without a cost) and again by reprice: the same.
    const atIngest = ingestRow(span, true);
    expect([atIngest.cost_usd, atIngest.cost_source]).toEqual(['0.0285', 'ingest']);
    expect(repriced(atIngest).cost_usd).toBe('0.0285');
  });

  test('streamed: the counts from response.completed, every event passed on', async () => {
    const stream = await openai().responses.create({
      model: 'gpt-5@web-search',
      tools: TOOLS,
      input: INPUT,
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.filter((t) => t === 'response.web_search_call.completed')).toHaveLength(2);
    expect(types.filter((t) => t === 'response.file_search_call.completed')).toHaveLength(1);
    expect(types.at(-1)).toBe('response.completed');
    const span = await oneSpan(tracing);
    expect(span.attributes['tokenmeter.usage.web_search.calls']).toBe(2);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.0285');
  });

  test('a model with no web-search rate in the catalogue (gpt-4.1-nano): unpriced, never its tokens alone', async () => {
    await openai().responses.create({ model: 'gpt-4.1-nano@web-search', tools: TOOLS, input: INPUT });
    const span = await oneSpan(tracing);
    expect(span.attributes['tokenmeter.usage.web_search.calls']).toBe(2);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(span.attributes['tokenmeter.cost.unpriced']).toBe(true);
    const row = ingestRow(span);
    expect([row.priced, row.cost_usd]).toEqual([false, null]);
  });

  test('without built-in tools nothing is counted', async () => {
    await openai().responses.create({ model: 'gpt-4o-mini', input: 'Capital of France?' });
    const span = await oneSpan(tracing);
    expect(span.attributes['tokenmeter.usage.web_search.calls']).toBeUndefined();
    expect(ingestRow(span).web_search_calls).toBe(0);
  });
});
