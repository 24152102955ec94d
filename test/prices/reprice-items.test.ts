/**
 * Calls priced per item, stored in ClickHouse and re-priced there: whisper-1's seconds of audio,
 * tts-1's characters and gpt-5's built-in tool calls survive the round trip through ai_calls
 * (migrations 033, 034), reprice prices them by the same rule as ingest, and the rollups still
 * equal the raw sums (the items are not rolled up; the cost they lead to is).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallRow, costFromPrice, toCallRow } from '../../ingest/src/pipeline/rows.ts';
import { listOverrides, putOverride } from '../../ingest/src/prices/overrides.ts';
import { reprice } from '../../ingest/src/prices/reprice.ts';
import { insertSettings } from '../../ingest/src/store/client.ts';
import type { AiCall } from '../../instrumentation/src/normalize/types.ts';
import { priceCall, type Usage } from '../../instrumentation/src/prices/index.ts';
import { openTestStore, rows } from '../support/store.ts';
import { expectRollupsEqualRaw } from './consistency.ts';

const DAY = 86_400_000;
const END = new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
const START = new Date(END.getTime() - DAY);
const AT = new Date(START.getTime() + 10 * 3_600_000);

function callRow(spanId: string, operation: string, model: string, usage: Usage): CallRow {
  const call: AiCall = {
    convention: 'gen_ai',
    startTimeUnixNano: BigInt(AT.getTime()) * 1_000_000n,
    durationNs: 1_000_000_000n,
    service: 'voice-desk',
    traceId: spanId.padStart(32, '0'),
    spanId,
    parentSpanId: '',
    scopeName: '@tokenmeter/instrumentation',
    provider: 'openai',
    operation,
    requestModel: model,
    responseModel: model,
    responseId: '',
    finishReasons: [],
    tenant: 'acme',
    userId: 'alice',
    team: 'support',
    feature: 'calls',
    sessionId: '',
    requestId: '',
    properties: {},
    usage,
    estimated: false,
    isStreaming: false,
    isBatch: false,
    spanUnpriced: false,
    ttftMs: null,
    status: 'ok',
    errorType: '',
  };
  const price = priceCall({ provider: 'openai', model, usage, timestamp: AT });
  return toCallRow(call, 'acme', costFromPrice(price), {});
}

describe('reprice: calls priced per item', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  const seeded = [
    callRow('a000000000000001', 'transcription', 'whisper-1', { inputTokens: 0, outputTokens: 0, audioSeconds: 90 }),
    callRow('a000000000000002', 'speech', 'tts-1', { inputTokens: 0, outputTokens: 0, inputCharacters: 44 }),
    callRow('a000000000000003', 'chat', 'gpt-5', {
      inputTokens: 2400,
      outputTokens: 300,
      reasoningTokens: 128,
      webSearchCalls: 2,
      fileSearchCalls: 1,
    }),
  ];
  let result: Awaited<ReturnType<typeof reprice>>;

  beforeAll(async () => {
    store = await openTestStore('reprice_items');
    await store.writer.insert({
      table: `${store.database}.ai_calls`,
      format: 'JSONEachRow',
      values: seeded,
      clickhouse_settings: insertSettings('reprice-items-seed'),
    });
    // tts-1 at its sheet price per character ($15 per 1M); web search at $25 per 1k (the sheet's
    // web_search_preview rate for non-reasoning models) with gpt-5's token and file search rates.
    await putOverride(store, {
      id: 'tts-1',
      tenant: '',
      provider: 'openai',
      model: 'tts-1',
      effectiveFrom: '2023-11-06T00:00:00.000Z',
      prices: { input_mchars: 15 },
      note: '',
    });
    await putOverride(store, {
      id: 'gpt-5-search',
      tenant: '',
      provider: 'openai',
      model: 'gpt-5',
      effectiveFrom: '2025-08-07T00:00:00.000Z',
      prices: { input_mtok: 1.25, output_mtok: 10, web_searches_kcount: 25, storage_searches_kcount: 2.5 },
      note: '',
    });
    result = await reprice(store, {
      from: START,
      to: END,
      tenant: '*',
      actor: 'test',
      overrides: await listOverrides(store),
      ttlDays: 90,
    });
  });
  afterAll(() => store.close());

  it('stores the items and prices them as ingest did; reprice applies the new rates to them', async () => {
    // As stored at first: whisper-1 90 s × $0.0001 = $0.009; tts-1 unpriced; gpt-5 $0.0285.
    expect(seeded.map((r) => r.cost_usd)).toEqual(['0.009', null, '0.0285']);
    const stored = await rows<{
      model: string;
      audio_seconds: string;
      input_characters: string;
      web_search_calls: number;
      file_search_calls: number;
      cost: string | null;
      price_id: string;
    }>(
      store,
      `SELECT model, audio_seconds, input_characters, web_search_calls, file_search_calls,
              toString(cost_usd) AS cost, price_id
       FROM ${store.database}.ai_calls FINAL ORDER BY span_id`,
    );
    expect(
      stored.map((r) => [
        r.model,
        Number(r.audio_seconds),
        Number(r.input_characters),
        Number(r.web_search_calls),
        Number(r.file_search_calls),
        r.cost,
        r.price_id,
      ]),
    ).toEqual([
      ['whisper-1', 90, 0, 0, 0, '0.009', 'catalogue:openai/whisper-1'],
      // 44 characters × $0.000015.
      ['tts-1', 0, 44, 0, 0, '0.00066', 'override:tts-1'],
      // 2,400 × $1.25 + 300 × $10 per 1M + 2 × $0.025 + 1 × $0.0025.
      ['gpt-5', 0, 0, 2, 1, '0.0585', 'override:gpt-5-search'],
    ]);
    expect(result.changed).toBe(2);
  });

  it('rollups equal the raw sums afterwards', async () => {
    await expectRollupsEqualRaw(store);
  });
});
