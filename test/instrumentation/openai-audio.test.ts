/**
 * OpenAI audio through the real `openai` SDK against the replay server: transcriptions and
 * translations (multipart uploads, plain and streamed) and speech (a binary answer the app must
 * get untouched). Each is priced by what OpenAI bills it by: gpt-4o(-mini)-transcribe by its
 * tokens, whisper-1 by the audio's duration, tts-1 by characters; where that measure is missing
 * (a text-format whisper answer, gpt-4o-mini-tts's unreported tokens) the call is unpriced and
 * flagged, never $0. The costs are checked against the published sheet and after ingest and reprice.
 *
 * Prices: OpenAI API pricing (platform.openai.com/docs/pricing, "Transcription and speech
 * generation"), the figures as of 2026-12-07 as @pydantic/genai-prices 0.1.8 carries them (not
 * fetched live: no network here): gpt-4o-transcribe $2.50 text in, $6.00 audio in, $10.00 out per
 * 1M tokens; gpt-4o-mini-transcribe $1.25 / $3.00 / $5.00; whisper-1 $0.006 a minute, billed to
 * the nearest second; tts-1 $15.00 per 1M characters (not in the catalogue).
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import OpenAI, * as openaiModule from 'openai';
import { toFile } from 'openai';
import { describe, expect, test } from 'vitest';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import type { CallRow } from '../../ingest/src/pipeline/rows.ts';
import { parseOverride } from '../../ingest/src/prices/overrides.ts';
import { repriceCall } from '../../ingest/src/prices/reprice-call.ts';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import type { PriceOverride } from '../../instrumentation/src/prices/types.ts';
import { FIXTURES } from '../replay/fixtures.js';
import { oneSpan, setupTracing, tokensOf, useReplayServer } from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);
const server = useReplayServer(tracing);
const openai = () => new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, maxRetries: 0 });
const audio = () => toFile(Buffer.from('RIFF$\0\0\0WAVEfmt '), 'call.wav', { type: 'audio/wav' });
const f = FIXTURES.openaiTranscriptions.ok;

function ingestRow(span: ReadableSpan, pricer = new IngestPricer()): CallRow {
  const decoded = decodeTraces(Buffer.from(ProtobufTraceSerializer.serializeRequest([span]) as Uint8Array), 'protobuf');
  const built = buildRows(decoded.spans, () => 'acme', pricer, Date.now());
  expect(built.rejected).toEqual([]);
  expect(built.calls).toHaveLength(1);
  return built.calls[0]!;
}

/** The row priced again from its stored columns (cost cleared): reprice must find the same cost. */
function repriced(row: CallRow, overrides: readonly PriceOverride[] = []): CallRow {
  const cleared = { ...row, priced: false, cost_usd: null, cost_source: '', price_id: '', price_version: '' };
  return { ...cleared, ...repriceCall(cleared, overrides) };
}

describe('OpenAI audio.transcriptions', () => {
  test('gpt-4o-transcribe: its token usage (text, audio and output) at the published sheet', async () => {
    const res = await openai().audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await audio() });
    expect(res.text).toBe(f.text);
    const span = await oneSpan(tracing);
    expect(span.attributes['gen_ai.operation.name']).toBe('transcription');
    expect(span.attributes['gen_ai.request.model']).toBe('gpt-4o-transcribe');
    expect(tokensOf(span)).toEqual(f.tokens);
    // 20 text × $2.50 + 1,180 audio × $6.00 + 310 out × $10.00, per 1M tokens = $0.01023.
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.01023');
    expect(span.attributes['tokenmeter.price.id']).toBe('catalogue:openai/gpt-4o-transcribe');
    // The request really was a multipart upload of the file.
    const sent = server.requests.at(-1)!;
    expect(sent.body).toMatchObject({ model: 'gpt-4o-transcribe', file: { filename: 'call.wav' } });
    const row = ingestRow(span);
    expect([row.input_tokens, row.input_audio_tokens, row.output_tokens, row.cost_usd]).toEqual([
      1200,
      1180,
      310,
      '0.01023',
    ]);
    expect(repriced(row).cost_usd).toBe('0.01023');
  });

  test('gpt-4o-mini-transcribe streamed: usage from transcript.text.done, the events untouched', async () => {
    const stream = await openai().audio.transcriptions.create({
      model: 'gpt-4o-mini-transcribe',
      file: await audio(),
      stream: true,
    });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'transcript.text.delta') text += event.delta;
    }
    expect(text).toBe(f.text);
    expect(types.at(-1)).toBe('transcript.text.done');
    expect(types.filter((t) => t === 'transcript.text.delta')).toHaveLength(f.chunks.length);
    const span = await oneSpan(tracing);
    expect(span.attributes['gen_ai.request.stream']).toBe(true);
    expect(tokensOf(span)).toEqual(f.tokens);
    // 20 × $1.25 + 1,180 × $3.00 + 310 × $5.00, per 1M tokens = $0.005115.
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.005115');
    expect(span.attributes['tokenmeter.usage.estimated']).toBeUndefined();
  });

  test('whisper-1: the duration it reports, at $0.006 a minute', async () => {
    const res = await openai().audio.transcriptions.create({
      model: 'whisper-1',
      file: await audio(),
      response_format: 'verbose_json',
    });
    expect(res.duration).toBe(f.durationSeconds);
    const span = await oneSpan(tracing);
    // 89.6 s billed as 90 s: 1.5 minutes × $0.006 = $0.009; no tokens.
    expect(span.attributes['tokenmeter.usage.audio.input_seconds']).toBe(90);
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(0);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.009');
    expect(span.attributes['tokenmeter.price.id']).toBe('catalogue:openai/whisper-1');
    const row = ingestRow(span);
    expect([row.audio_seconds, row.cost_usd, row.cost_source]).toEqual([90, '0.009', 'span']);
    // Reprice prices the stored seconds the same way.
    const again = repriced(row);
    expect([again.cost_usd, again.cost_source]).toEqual(['0.009', 'ingest']);
  });

  test('whisper-1 as plain text: no duration reported, so unpriced and flagged, never $0', async () => {
    const res = await openai().audio.transcriptions.create({
      model: 'whisper-1',
      file: await audio(),
      response_format: 'text',
    });
    expect(String(res).trim()).toBe(f.text);
    const span = await oneSpan(tracing);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(span.attributes['tokenmeter.cost.unpriced']).toBe(true);
    expect(span.attributes['tokenmeter.usage.estimated']).toBeUndefined();
    const row = ingestRow(span);
    expect([row.priced, row.cost_usd]).toEqual([false, null]);
  });
});

describe('OpenAI audio.translations', () => {
  test('whisper-1 verbose_json: priced by its duration', async () => {
    const res = await openai().audio.translations.create({
      model: 'whisper-1',
      file: await audio(),
      response_format: 'verbose_json',
    });
    expect(res.text).toBe(f.text);
    const span = await oneSpan(tracing);
    expect(span.attributes['gen_ai.operation.name']).toBe('translation');
    expect(span.attributes['tokenmeter.usage.audio.input_seconds']).toBe(90);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.009');
  });
});

describe('OpenAI audio.speech', () => {
  const input = 'The quick brown fox jumps over the lazy dog.';

  test('tts-1: the Response reaches the app unread; characters recorded; priced per character by an override', async () => {
    const res = await openai().audio.speech.create({ model: 'tts-1', voice: 'alloy', input });
    expect(res.bodyUsed).toBe(false);
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(13);
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xf3]);
    const span = await oneSpan(tracing);
    expect(span.attributes['gen_ai.operation.name']).toBe('speech');
    expect(span.attributes['tokenmeter.usage.input_characters']).toBe(input.length);
    // tts-1 is not in the catalogue: unpriced, never $0.
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(span.attributes['tokenmeter.cost.unpriced']).toBe(true);
    expect(ingestRow(span).cost_usd).toBeNull();
    // The operator's price for it, $15.00 per 1M characters: 44 × $0.000015 = $0.00066.
    // As the prices API takes it (parseOverride, as the overrides API does): a price per character alone.
    const parsed = parseOverride({
      id: 'tts-1',
      provider: 'openai',
      model: 'tts-1',
      effective_from: '2023-11-06T00:00:00Z',
      prices: { input_mchars: 15 },
    });
    const overrides: PriceOverride[] = [{ ...parsed, id: parsed.id! }];
    const pricer = new IngestPricer();
    pricer.setOverrides(overrides);
    const row = ingestRow(span, pricer);
    expect([row.input_characters, row.cost_usd, row.cost_source, row.price_id]).toEqual([
      44,
      '0.00066',
      'ingest',
      'override:tts-1',
    ]);
    expect(repriced(row, overrides).cost_usd).toBe('0.00066');
  });

  test('asResponse(): the raw Response unread, the same characters, not estimated', async () => {
    const res = await openai().audio.speech.create({ model: 'tts-1', voice: 'alloy', input }).asResponse();
    expect(res.bodyUsed).toBe(false);
    expect((await res.arrayBuffer()).byteLength).toBe(13);
    const span = await oneSpan(tracing);
    expect(span.attributes['tokenmeter.usage.input_characters']).toBe(input.length);
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(0);
    expect(span.attributes['tokenmeter.usage.estimated']).toBeUndefined();
    expect(span.attributes['tokenmeter.cost.unpriced']).toBe(true);
  });

  test('gpt-4o-mini-tts: priced per token, which the audio answer does not report: unpriced', async () => {
    const res = await openai().audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'coral', input });
    expect(res.bodyUsed).toBe(false);
    await res.arrayBuffer();
    const span = await oneSpan(tracing);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
    expect(span.attributes['tokenmeter.cost.unpriced']).toBe(true);
    expect(ingestRow(span).cost_usd).toBeNull();
  });
});
