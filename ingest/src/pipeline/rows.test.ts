import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../otlp/decode.js';
import { attr } from '../otlp/encode.js';
import { buildRows } from './build.js';
import { IngestPricer } from './pricing.js';
import { nanosToDateTime64 } from './rows.js';
import { otlpRequest, svcAttr } from '../../../test/support/otlp.ts';

describe('the attribute map is kept once', () => {
  it('ai_calls.attributes keeps what no column carries; otel_traces keeps the whole map', () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const attributes = [
      attr('gen_ai.operation.name', 'chat'),
      attr('gen_ai.provider.name', 'openai'),
      attr('gen_ai.request.model', 'gpt-4o-mini'),
      attr('gen_ai.response.model', 'gpt-4o-mini-2024-07-18'),
      attr('gen_ai.response.id', 'chatcmpl-1'),
      attr('gen_ai.usage.input_tokens', 120),
      attr('gen_ai.usage.output_tokens', 8),
      attr('gen_ai.usage.cache_read.input_tokens', 100),
      attr('user.id', 'u-1'),
      attr('tokenmeter.feature', 'search'),
      attr('tokenmeter.property.plan', 'pro'),
      attr('gen_ai.input.messages', '[{"role":"user"}]'),
      attr('server.address', 'api.example.test'),
      attr('gen_ai.request.temperature', 0.5),
      attr('app.note', 'kept'),
    ];
    const request = otlpRequest(
      [
        {
          traceId: 'ab'.repeat(16),
          spanId: 'cd'.repeat(8),
          name: 'chat gpt-4o-mini',
          kind: 3,
          startTimeUnixNano: String(now - 1_000_000_000n),
          endTimeUnixNano: String(now),
          attributes,
        },
      ],
      [svcAttr('svc')],
    );
    const spans = decodeTraces(Buffer.from(JSON.stringify(request)), 'json').spans;
    const built = buildRows(spans, () => 'acme', new IngestPricer(), Date.now());
    const call = built.calls[0]!;
    expect({ ...call.attributes }).toEqual({
      'server.address': 'api.example.test',
      'gen_ai.request.temperature': '0.5',
      'app.note': 'kept',
    });
    // What was left out is in the columns…
    expect([call.input_tokens, call.output_tokens, call.cache_read_tokens]).toEqual([120, 8, 100]);
    expect([call.user_id, call.feature, call.response_id, call.response_model]).toEqual([
      'u-1',
      'search',
      'chatcmpl-1',
      'gpt-4o-mini-2024-07-18',
    ]);
    expect(call.properties).toEqual({ plan: 'pro' });
    // …and the span's whole map in otel_traces.
    expect(Object.keys(built.traces[0]!.SpanAttributes).sort()).toEqual(attributes.map((a) => a.key).sort());
  });
});

describe('nanosToDateTime64', () => {
  it('is exact to the nanosecond, second after second and back', () => {
    const cases: [bigint, string][] = [
      [1_763_900_000_123_456_789n, '2025-11-23 12:13:20.123456789'],
      [1_763_900_000_000_000_001n, '2025-11-23 12:13:20.000000001'],
      [1_763_900_001_999_999_999n, '2025-11-23 12:13:21.999999999'],
      [1_763_900_000_500_000_000n, '2025-11-23 12:13:20.500000000'],
      [9_223_372_036_854_775_807n, '2262-04-11 23:47:16.854775807'],
    ];
    for (const [ns, text] of cases) expect(nanosToDateTime64(ns)).toBe(text);
  });
});
