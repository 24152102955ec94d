import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { DecodeError, decodeTraces, decodeTracesGenerated } from './decode.js';

/**
 * protobuf.ts reads OTLP straight from the bytes; the generated decoder (protobufjs over the
 * published .proto files) and the walk in decode.ts are the reference. On generated requests —
 * any attribute value type, nested lists and maps, bad ids, zero or huge timestamps, unknown
 * enums, empty and repeated keys, invalid UTF-8, fields out of order, unknown fields — both give
 * the same spans, rejections and repairs; on cut or corrupted bytes, protobuf.ts refuses with a
 * DecodeError (never another error) or agrees with the reference.
 */
const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_o, target) => join(PROTO_DIR, target);
root.loadSync('otlp_trace_service.proto', { keepCase: false });
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'gen_ai.usage.input_tokens', 'é😀', 'a'));
const leaf = fc.oneof(
  text.map((s) => ({ stringValue: s })),
  fc.boolean().map((b) => ({ boolValue: b })),
  fc
    .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    .map((n) => ({ intValue: protobuf.util.Long.fromString(String(n)) })),
  fc.double().map((d) => ({ doubleValue: d })),
  fc.uint8Array({ maxLength: 6 }).map((b) => ({ bytesValue: b })),
  fc.constant({}),
);
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
    fc
      .array(fc.record({ key: text, value: tie('value') }), { maxLength: 3 })
      .map((values) => ({ kvlistValue: { values } })),
  ),
})).value;
const attrs = fc.array(fc.record({ key: text, value: anyValue }, { requiredKeys: ['key'] }), { maxLength: 6 });
const bytes = (n: number) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ minLength: n, maxLength: n }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: n + 2 }) },
    { weight: 1, arbitrary: fc.constant(new Uint8Array(n)) },
  );
const nanos = fc.oneof(
  fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
  fc.constantFrom(0n, 1_763_900_000_123_456_789n, 2n ** 63n, 2n ** 63n - 1n),
);
const long = (n: bigint) => protobuf.util.Long.fromString(String(n), true);
const span = fc.record(
  {
    traceId: bytes(16),
    spanId: bytes(8),
    parentSpanId: fc.oneof(fc.constant(new Uint8Array(0)), bytes(8)),
    traceState: text,
    name: text,
    kind: fc.integer({ min: -1, max: 7 }),
    startTimeUnixNano: nanos.map(long),
    endTimeUnixNano: nanos.map(long),
    attributes: attrs,
    events: fc.array(fc.record({ timeUnixNano: nanos.map(long), name: text, attributes: attrs }), { maxLength: 2 }),
    links: fc.array(fc.record({ traceId: bytes(16), spanId: bytes(8), traceState: text, attributes: attrs }), {
      maxLength: 2,
    }),
    status: fc.record({ code: fc.integer({ min: 0, max: 3 }), message: text }, { requiredKeys: [] }),
  },
  { requiredKeys: ['traceId', 'spanId', 'startTimeUnixNano', 'endTimeUnixNano'] },
);
const request = fc.record({
  resourceSpans: fc.array(
    fc.record(
      {
        resource: fc.record({ attributes: attrs }),
        scopeSpans: fc.array(
          fc.record(
            {
              scope: fc.record({ name: text, version: text, attributes: attrs }, { requiredKeys: [] }),
              spans: fc.array(span, { maxLength: 4 }),
              schemaUrl: text,
            },
            { requiredKeys: ['spans'] },
          ),
          { maxLength: 3 },
        ),
        schemaUrl: text,
      },
      { requiredKeys: ['scopeSpans'] },
    ),
    { maxLength: 3 },
  ),
});

function encode(req: unknown): Buffer {
  return Buffer.from(Request.encode(Request.fromObject(req as Record<string, unknown>)).finish());
}

/** Comparable: maps without prototype compare as plain objects. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)));

function outcome(decode: () => unknown): { ok: unknown } | { error: string } {
  try {
    return { ok: plain(decode()) };
  } catch (err) {
    if (err instanceof DecodeError || err instanceof RangeError) return { error: err.constructor.name };
    throw err;
  }
}

describe('protobuf read straight from the bytes', () => {
  it('equals the generated decoder on generated requests', () => {
    fc.assert(
      fc.property(request, (req) => {
        const body = encode(req);
        expect(plain(decodeTraces(body, 'protobuf'))).toEqual(plain(decodeTracesGenerated(body)));
      }),
      { numRuns: 300 },
    );
  });

  it('counts invalid UTF-8 and reads fields in any order, skipping unknown ones', () => {
    const body = encode({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: new Uint8Array(16).fill(1),
                  spanId: new Uint8Array(8).fill(2),
                  startTimeUnixNano: long(5n),
                  endTimeUnixNano: long(6n),
                  name: 'NAME',
                  attributes: [{ key: 'k', value: { stringValue: 'VALUE' } }],
                },
              ],
            },
          ],
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        },
      ],
    });
    // Invalid UTF-8 in place of two strings (same lengths), then an unknown field of each wire type.
    const bad = Buffer.from(body);
    bad.write('\xff\xfeME', bad.indexOf('NAME'), 'latin1');
    bad.write('\xc3VALUE'.slice(0, 5), bad.indexOf('VALUE'), 'latin1');
    const unknown = Buffer.from([
      0xf8, 0x01, 0x05, 0xf9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xfa, 0x01, 0x01, 0x00, 0xfd, 0x01, 1, 2, 3, 4,
    ]);
    const withUnknown = Buffer.concat([bad, unknown]);
    const mine = decodeTraces(withUnknown, 'protobuf');
    expect(mine.repaired).toEqual({ invalid_utf8: 2 });
    expect(mine.spans[0]!.name).toBe('\ufffd\ufffdME');
    expect(mine.spans[0]!.resource['service.name']).toBe('svc');
    expect(plain(mine)).toEqual(plain(decodeTracesGenerated(withUnknown)));
  });

  it('refuses cut or corrupted bytes with a DecodeError, or agrees with the generated decoder', () => {
    fc.assert(
      fc.property(
        request,
        fc.nat(),
        fc.oneof(fc.constant('cut' as const), fc.constant('flip' as const)),
        fc.nat({ max: 255 }),
        (req, at, how, byte) => {
          const body = encode(req);
          if (body.length === 0) return;
          const i = at % body.length;
          const mutated = how === 'cut' ? body.subarray(0, i) : Buffer.from(body).fill(byte, i, i + 1);
          const mine = outcome(() => decodeTraces(mutated, 'protobuf'));
          const ref = outcome(() => decodeTracesGenerated(mutated));
          if ('ok' in mine && 'ok' in ref) expect(mine.ok).toEqual(ref.ok);
        },
      ),
      { numRuns: 500 },
    );
  });
});
