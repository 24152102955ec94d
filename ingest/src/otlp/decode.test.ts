import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { DecodeError, decodeResponse, decodeTraces, encodeResponse } from './decode.js';

// Spans made by the real OTel SDK and encoded by the official exporter's serializers:
// if our .proto definitions or the JSON mapping disagreed with the published ones,
// these decodes would differ from what was recorded.
function recordSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'tokenmeter.tenant': 'acme' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('@tokenmeter/test', '1.2.3');
  const span = tracer.startSpan('chat gpt-4o-mini', {
    kind: SpanKind.CLIENT,
    startTime: [1_763_900_000, 123_456_789],
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.usage.output_tokens': 34,
      'gen_ai.request.temperature': 0.25,
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop', 'length'],
    },
  });
  span.addEvent('tokenmeter.budget.soft_exceeded', { 'budget.id': 'b1' }, [1_763_900_000, 500_000_000]);
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
  span.end([1_763_900_001, 0]);
  return exporter.getFinishedSpans();
}

describe('decodeTraces', () => {
  const spans = recordSpans();
  const original = spans[0]!;

  for (const [name, encoding, encode] of [
    ['protobuf', 'protobuf', (s: typeof spans) => ProtobufTraceSerializer.serializeRequest(s)],
    ['json', 'json', (s: typeof spans) => JsonTraceSerializer.serializeRequest(s)],
  ] as const) {
    it(`reads what the official ${name} serializer wrote`, () => {
      const body = Buffer.from(encode(spans)!);
      const { spans: decoded, rejected } = decodeTraces(body, encoding);
      expect(rejected).toEqual([]);
      expect(decoded).toHaveLength(1);
      const d = decoded[0]!;
      expect(d.traceId).toBe(original.spanContext().traceId);
      expect(d.spanId).toBe(original.spanContext().spanId);
      expect(d.parentSpanId).toBe('');
      expect(d.name).toBe('chat gpt-4o-mini');
      expect(d.kind).toBe(3);
      expect(d.startTimeUnixNano).toBe(1_763_900_000_123_456_789n);
      expect(d.endTimeUnixNano).toBe(1_763_900_001_000_000_000n);
      expect(d.scope).toEqual({ name: '@tokenmeter/test', version: '1.2.3' });
      expect(d.resource['service.name']).toBe('checkout');
      expect(d.resource['tokenmeter.tenant']).toBe('acme');
      expect(d.attributes).toEqual({
        'gen_ai.provider.name': 'openai',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 34,
        'gen_ai.request.temperature': 0.25,
        'gen_ai.request.stream': true,
        'gen_ai.response.finish_reasons': ['stop', 'length'],
      });
      expect(d.status).toEqual({ code: 2, message: 'rate limited' });
      expect(d.events).toEqual([
        {
          name: 'tokenmeter.budget.soft_exceeded',
          timeUnixNano: 1_763_900_000_500_000_000n,
          attributes: { 'budget.id': 'b1' },
        },
      ]);
    });
  }

  it('rejects a body that is not protobuf with a reason', () => {
    expect(() => decodeTraces(Buffer.from([0x0a, 0xff, 0xff, 0xff]), 'protobuf')).toThrow(DecodeError);
  });

  it('rejects malformed JSON and wrong shapes with the path', () => {
    expect(() => decodeTraces(Buffer.from('{"resourceSpans": ['), 'json')).toThrow(/invalid OTLP JSON/);
    expect(() => decodeTraces(Buffer.from('{"resourceSpans": {}}'), 'json')).toThrow(/resourceSpans: must be an array/);
    expect(() => decodeTraces(Buffer.from('[1]'), 'json')).toThrow(/must be an object/);
  });

  it('keeps good spans and rejects a span with a bad id, kind or time', () => {
    const good = {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      name: 'ok',
      startTimeUnixNano: '1763900000000000000',
      endTimeUnixNano: '1763900000100000000',
    };
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                good,
                { ...good, spanId: 'xyz' },
                { ...good, traceId: '00000000000000000000000000000000' },
                { ...good, kind: 9 },
                { ...good, startTimeUnixNano: -5 },
              ],
            },
          ],
        },
      ],
    };
    const out = decodeTraces(Buffer.from(JSON.stringify(body)), 'json');
    expect(out.spans.map((s) => s.name)).toEqual(['ok']);
    expect(out.rejected.map((r) => r.detail)).toEqual([
      'resourceSpans[0].scopeSpans[0].spans[1]: spanId: expected 16 hex characters',
      'resourceSpans[0].scopeSpans[0].spans[2]: traceId: must not be all zeros',
      'resourceSpans[0].scopeSpans[0].spans[3]: kind: unknown enum value 9',
      'resourceSpans[0].scopeSpans[0].spans[4]: startTimeUnixNano: out of range',
    ]);
  });

  it('encodes the spec response with partial_success in either encoding', () => {
    const pb = encodeResponse('protobuf', 3, 'bad spans');
    expect(decodeResponse(pb.body)).toEqual({ rejectedSpans: 3, errorMessage: 'bad spans' });
    expect(decodeResponse(encodeResponse('protobuf', 0, '').body)).toEqual({ rejectedSpans: 0, errorMessage: '' });
    expect(JSON.parse(encodeResponse('json', 2, 'x').body.toString())).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: 'x' },
    });
    expect(JSON.parse(encodeResponse('json', 0, '').body.toString())).toEqual({});
  });
});

describe('decodeTraces repairs strings at the door', () => {
  const [span] = recordSpans();
  const json = (attrs: unknown[]) => {
    const body = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest([span!])!).toString()) as {
      resourceSpans: { scopeSpans: { spans: { name: string; attributes: unknown[] }[] }[] }[];
    };
    const s = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    s.name = 'cut \ud83d';
    s.attributes = attrs;
    return Buffer.from(JSON.stringify(body));
  };

  it('replaces lone surrogates with U+FFFD, drops empty keys, keeps the last of repeated keys, counts each', () => {
    const out = decodeTraces(
      json([
        { key: 'a\udc00', value: { stringValue: '\ud800x' } },
        { key: '', value: { stringValue: 'nameless' } },
        { key: 'dup', value: { intValue: '1' } },
        { key: 'dup', value: { intValue: '2' } },
        { key: '__proto__', value: { kvlistValue: { values: [{ key: 'k\ud800', value: { stringValue: 'v' } }] } } },
        { key: 'ctl', value: { stringValue: 'a\u0000\u001fb' } },
      ]),
      'json',
    );
    const decoded = out.spans[0]!;
    expect(decoded.name).toBe('cut \ufffd');
    expect({ ...decoded.attributes }).toEqual({
      'a\ufffd': '\ufffdx',
      dup: 2,
      ['__proto__']: { 'k\ufffd': 'v' },
      ctl: 'a\u0000\u001fb',
    });
    expect(Object.getPrototypeOf(decoded.attributes)).toBeNull();
    expect(out.repaired).toEqual({ lone_surrogate: 4, empty_key: 1, duplicate_key: 1 });
  });

  it('decodes invalid UTF-8 in protobuf as U+FFFD (counted) instead of refusing the request', () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest([span!])!);
    const at = body.indexOf(Buffer.from('chat gpt-4o-mini'));
    Buffer.from([0xff, 0xc3, 0x28]).copy(body, at);
    const out = decodeTraces(body, 'protobuf');
    expect(out.spans[0]!.name).toBe('\ufffd\ufffd(t gpt-4o-mini');
    expect(out.repaired).toEqual({ invalid_utf8: 1 });
  });

  it('rejects an event time beyond DateTime64(9), keeps one at its last instant', () => {
    const body = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest([span!])!).toString()) as {
      resourceSpans: { scopeSpans: { spans: { events: { timeUnixNano: string }[] }[] }[] }[];
    };
    const ev = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.events[0]!;
    ev.timeUnixNano = '9223372036854775807';
    expect(decodeTraces(Buffer.from(JSON.stringify(body)), 'json').spans[0]!.events[0]!.timeUnixNano).toBe(
      2n ** 63n - 1n,
    );
    ev.timeUnixNano = '9223372036854775808';
    expect(decodeTraces(Buffer.from(JSON.stringify(body)), 'json').rejected[0]!.detail).toMatch(
      /events\[0\]\.timeUnixNano: out of range/,
    );
  });
});
