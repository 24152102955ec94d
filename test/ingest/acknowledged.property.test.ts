import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY as ADMIN, startTestService } from '../support/inprocess.ts';
import {
  type OtlpAttribute,
  type OtlpValue,
  chatSpan,
  metricSamples,
  otlpRequest,
  postTraces,
  str,
  toProtobuf,
  REPAIRED as FIX,
} from '../support/otlp.ts';
import { querySql } from '../support/spans.ts';

/**
 * Property (issue 18): whatever attribute values a span carries — any Unicode, lone
 * surrogates included, any double, any int64, nested arrays and kvlists, in the
 * semantic keys the normaliser reads as well as in others — a span the service
 * acknowledges (200, not in partial_success) is stored, in otel_traces and in ai_calls,
 * with its string values as sent or repaired to U+FFFD. Through the real HTTP endpoint
 * into embedded ClickHouse, JSON and protobuf. TM_PROPERTY_RUNS runs of 4 spans (default 30).
 */
const RUNS = Number(process.env.TM_PROPERTY_RUNS ?? 30);
let running: Awaited<ReturnType<typeof startTestService>>;
let key: string;

beforeAll(async () => {
  running = await startTestService('ack_property', {
    TOKENMETER_RATE_LIMIT_RPS: '0',
    TOKENMETER_STATS_INTERVAL_MS: '0',
  });
  ({ key } = await running.keyStore.create({ tenant: 'prop', role: 'ingest', name: 'p' }, 'test'));
});

afterAll(async () => {
  await running?.close();
});

/** Any UTF-16 string: code units at random (lone surrogates likely), astral characters, ASCII. */
const anyString = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\u0000', '\u001f', '\ufffd', '😀'),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }),
  ),
  maxLength: 24,
});
const anyDouble = fc.double(); // NaN, ±Infinity, -0, subnormals
const anyInt64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

const { value: anyValue } = fc.letrec<{ value: OtlpValue; kv: OtlpAttribute }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyString.map((s) => ({ stringValue: s })),
    anyDouble.map((d) => ({ doubleValue: Number.isFinite(d) ? d : String(d) })),
    anyInt64.map((n) => ({ intValue: n.toString() })),
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.constant({} as Record<string, never>),
    fc.array(tie('value'), { maxLength: 4 }).map((values) => ({ arrayValue: { values } })),
    fc.array(tie('kv'), { maxLength: 4 }).map((values) => ({ kvlistValue: { values } })),
  ) as fc.Arbitrary<OtlpValue>,
  kv: fc.record({ key: anyString, value: tie('value') }) as fc.Arbitrary<OtlpAttribute>,
}));

/** Keys the normaliser reads, to receive arbitrary values too. */
const SEMANTIC = [
  'gen_ai.request.model',
  'gen_ai.response.model',
  'user.id',
  'tokenmeter.feature',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.reasoning.output_tokens',
  'gen_ai.usage.cost.amount',
  'gen_ai.response.finish_reasons',
  'gen_ai.response.time_to_first_chunk',
];

const spanArb = fc.record({
  strings: fc.array(anyString, { maxLength: 4 }),
  values: fc.array(anyValue, { maxLength: 4 }),
  anyKeys: fc.array(fc.record({ key: anyString, value: anyValue }), { maxLength: 3 }),
  semantic: fc.array(fc.tuple(fc.constantFrom(...SEMANTIC), anyValue), { maxLength: 3 }),
  name: anyString,
  encoding: fc.constantFrom<'json' | 'protobuf'>('json', 'protobuf'),
});

describe('every acknowledged span is stored', () => {
  it(`holds for ${RUNS} runs of 4 generated spans`, async () => {
    const tally = { sent: 0, acknowledged: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(spanArb, { minLength: 4, maxLength: 4 }), async (specs) => {
        const sent = specs.map((g) => {
          const span = chatSpan(7, {
            name: g.name,
            extra: [
              ...g.strings.map((s, i) => str(`x.s${i}`, s)),
              ...g.values.map((value, i) => ({ key: `x.v${i}`, value })),
              ...g.anyKeys,
              ...g.semantic.map(([k, value]) => ({ key: k, value })),
            ],
          });
          return { g, span };
        });
        const answers = await Promise.all(
          sent.map(({ g, span }) => {
            const request = otlpRequest([span]);
            return postTraces(running.url, key, g.encoding === 'json' ? request : toProtobuf(request));
          }),
        );
        const acknowledged = sent.filter((_, i) => {
          const a = answers[i]!;
          expect(a.status, a.message).toBe(200);
          return a.rejected === 0;
        });
        tally.sent += sent.length;
        tally.acknowledged += acknowledged.length;
        tally.rejected += sent.length - acknowledged.length;
        if (acknowledged.length === 0) return;
        const ids = acknowledged.map(({ span }) => `'${span.spanId}'`).join(',');
        const deadline = Date.now() + 10_000;
        let rows: { id: string; name: string; attrs: Record<string, string>; calls: string }[] = [];
        while (Date.now() < deadline) {
          rows = await querySql(
            running.url,
            ADMIN,
            `SELECT SpanId AS id, SpanName AS name, SpanAttributes AS attrs,
                    (SELECT count() FROM ai_calls WHERE tenant = 'prop' AND span_id = SpanId) AS calls
             FROM otel_traces WHERE TenantId = 'prop' AND SpanId IN (${ids})`,
          );
          if (rows.length === acknowledged.length && rows.every((r) => Number(r.calls) === 1)) break;
          await new Promise((r) => setTimeout(r, 40));
        }
        expect(rows.map((r) => [r.id, Number(r.calls)]).sort()).toEqual(
          acknowledged.map(({ span }) => [span.spanId, 1]).sort(),
        );
        for (const { g, span } of acknowledged) {
          const row = rows.find((r) => r.id === span.spanId)!;
          const fix = FIX[g.encoding];
          expect(row.name).toBe(fix(g.name));
          g.strings.forEach((s, i) => expect(row.attrs[`x.s${i}`]).toBe(fix(s)));
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    // Nothing acknowledged was refused by ClickHouse.
    expect((await metricSamples(running.url, ADMIN, 'tokenmeter_batch_failures_total')).get('')).toBe(0);
    expect(tally.acknowledged).toBeGreaterThan(tally.sent / 2);
    console.log(JSON.stringify({ property: tally }));
  }, 120_000);
});
