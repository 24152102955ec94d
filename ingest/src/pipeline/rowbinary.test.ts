import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, rows as query } from '../../../test/support/store.js';
import { otlpRequest, svcAttr } from '../../../test/support/otlp.ts';
import { decodeTraces } from '../otlp/decode.js';
import { attr } from '../otlp/encode.js';
import type { Store } from '../store/client.js';
import { buildRows } from './build.js';
import { insertBody } from './insert.js';
import { classifyInsertError } from './insert-errors.js';
import { IngestPricer } from './pricing.js';
import { type CallRow, nanosToDateTime64, type TraceRow } from './rows.js';
import { CALL_BINARY, decodeRows, encodeRows, Reader, TRACE_BINARY, Writer } from './rowbinary.js';
import { callBody, traceBody } from './spool-record.js';

let store: Store;
beforeAll(async () => {
  store = await openTestStore('rowbinary');
});
afterAll(async () => {
  await store?.close();
});

const NOW = BigInt(Date.now()) * 1_000_000n + 123_456_789n;

/** Rows of one tenant with what is hard to carry: escapes, NUL, emoji, `__proto__`, events, links, no price. */
function rowsFor(tenant: string): { traces: TraceRow[]; calls: CallRow[] } {
  const now = NOW;
  const span = (n: number, extra: Record<string, string | number>) => ({
    traceId: `${'ab'.repeat(15)}${n.toString(16).padStart(2, '0')}`,
    spanId: `${'cd'.repeat(7)}${n.toString(16).padStart(2, '0')}`,
    name: `chat ${n}`,
    kind: 3,
    startTimeUnixNano: String(now - 1_987_654_321n),
    endTimeUnixNano: String(now),
    attributes: [
      attr('gen_ai.operation.name', 'chat'),
      attr('gen_ai.provider.name', 'openai'),
      attr('gen_ai.request.model', n === 3 ? 'no-such-model' : 'gpt-4o-mini'),
      attr('gen_ai.usage.input_tokens', 100 + n),
      attr('gen_ai.usage.output_tokens', 7),
      attr('gen_ai.usage.cache_read_input_tokens', 40),
      attr('gen_ai.response.finish_reasons', ['stop', 'length']),
      attr('gen_ai.response.time_to_first_chunk', 0.25),
      ...Object.entries(extra).map(([k, v]) => attr(k, v)),
    ],
    events: [{ timeUnixNano: String(now - 5n), name: 'gen_ai.choice', attributes: [attr('index', 0)] }],
    links: [{ traceId: 'ef'.repeat(16), spanId: '12'.repeat(8), traceState: 'a=b' }],
  });
  const request = otlpRequest(
    [
      span(1, { 'x.text': 'line\nbreak\ttab "quoted" \\ \u0000 é 😀 \u2028', ['__proto__']: 'data', 'user.id': 'ü-1' }),
      // Two 0x0A bytes in a row: chdb's inline insert data loses one (client.ts); they must arrive.
      span(2, { 'x.long': 'x'.repeat(300), 'x.para': 'one\n\ntwo\n\n', 'tokenmeter.property.plan': 'pro' }),
      span(3, {}),
    ],
    [svcAttr('svc-€')],
  );
  const built = buildRows(
    decodeTraces(Buffer.from(JSON.stringify(request)), 'json').spans,
    () => tenant,
    new IngestPricer(),
    Date.now(),
  );
  expect(built.rejected).toEqual([]);
  return { traces: built.traces, calls: built.calls };
}

describe('RowBinary bodies', () => {
  it('decode back to the rows they were made of', () => {
    const { traces, calls } = rowsFor('acme');
    const json = (x: unknown) => JSON.parse(JSON.stringify(x));
    expect(json(decodeRows(encodeRows(traces, TRACE_BINARY)!, TRACE_BINARY))).toEqual(json(traces));
    expect(json(decodeRows(encodeRows(calls, CALL_BINARY)!, CALL_BINARY))).toEqual(json(calls));
    expect(calls.some((c) => c.cost_usd === null)).toBe(true);
  });

  it('write a cost as the exact Int128 of Decimal(38, 12), on the fast path and the BigInt one', () => {
    const cost = CALL_BINARY.find((c) => c.name === 'cache_savings_usd')!;
    const values = ['0', '1', '0.01716375', '4294.967296', '9999999.999999999999', '12345678.5', '-0.5'];
    values.push('-12345678901234567890.123456789012', '0.000000000001');
    for (let i = 0; i < 2000; i++) values.push(`${(i * 7919) % 10_000_000}.${String(i * 104_729).padStart(12, '0')}`);
    for (const v of values) {
      const w = new Writer(64);
      expect(cost.codec.enc(w, v)).toBe(true);
      const [int, frac = ''] = v.replace('-', '').split('.');
      const scaled = BigInt(int!) * 10n ** 12n + BigInt(frac.padEnd(12, '0'));
      expect((w.buf.readBigInt64LE(8) << 64n) | w.buf.readBigUInt64LE(0)).toBe(v.startsWith('-') ? -scaled : scaled);
      expect(Number(cost.codec.dec(new Reader(w.bytes())))).toBe(Number(v));
    }
    // More than 12 decimals has no exact Decimal(38, 12): kept as JSON text, for the engine to judge.
    expect(cost.codec.enc(new Writer(64), '0.0000000000001')).toBe(false);
  });

  it('write a timestamp and a duration as the exact Int64 / UInt64, on the fast path and the BigInt one', () => {
    const ts = TRACE_BINARY.find((c) => c.name === 'Timestamp')!;
    const duration = TRACE_BINARY.find((c) => c.name === 'Duration')!;
    const nanos = [
      0n,
      999_999_999n,
      1_000_000_000n,
      4_294_967_295n,
      4_294_967_296n,
      NOW,
      4_294_967_295n * 1_000_000_000n,
    ];
    // Seconds whose nanoseconds carry into the high word, and the second after one seen (cached).
    for (let s = 1_700_000_000n; s < 1_700_000_020n; s++)
      for (const f of [0n, 1n, 294_967_295n, 999_999_999n]) nanos.push(s * 1_000_000_000n + f);
    nanos.push(9_000_000_000n * 1_000_000_000n + 5n);
    for (const ns of nanos) {
      const text = nanosToDateTime64(ns);
      for (let round = 0; round < 2; round++) {
        const w = new Writer(64);
        expect(ts.codec.enc(w, text)).toBe(true);
        expect(w.buf.readBigInt64LE(0)).toBe(ns);
      }
      const w = new Writer(64);
      expect(duration.codec.enc(w, String(ns))).toBe(true);
      expect(w.buf.readBigUInt64LE(0)).toBe(ns);
    }
    // Not the builder's form: no binary value (kept as JSON text), whichever second came before.
    for (const bad of [`${nanosToDateTime64(NOW).slice(0, 28)}x`, `${nanosToDateTime64(NOW)}0`, '']) {
      expect(ts.codec.enc(new Writer(64), bad)).toBe(false);
    }
    for (const bad of ['', '12a', '-1', '18446744073709551616'])
      expect(duration.codec.enc(new Writer(64), bad)).toBe(false);
  });

  it('store exactly what the same rows sent as JSON text store, and a retried body once', async () => {
    const asJson = rowsFor('json');
    const asBinary = rowsFor('binary');
    const traces = traceBody(asBinary.traces);
    const calls = callBody(asBinary.calls);
    expect([traces.format, calls.format]).toEqual(['RowBinary', 'RowBinary']);
    const textBody = <T>(b: { columns: readonly string[]; keys: string[] }, rows: T[]) => ({
      columns: b.columns,
      keys: b.keys,
      format: 'JSONCompactEachRow' as const,
      data: Buffer.from(
        rows.map((r) => JSON.stringify(b.columns.map((c) => (r as Record<string, unknown>)[c]))).join('\n') + '\n',
      ),
    });
    await insertBody(store, 'otel_traces', textBody(traceBody(asJson.traces), asJson.traces));
    await insertBody(store, 'ai_calls', textBody(callBody(asJson.calls), asJson.calls));
    for (let i = 0; i < 2; i++) {
      await insertBody(store, 'otel_traces', traces);
      await insertBody(store, 'ai_calls', calls);
    }
    const stored = async (sql: string) => ({
      json: await query(store, sql.replace('{t}', 'json')),
      binary: await query(store, sql.replace('{t}', 'binary')),
    });
    const t = await stored(
      "SELECT * EXCEPT TenantId, toString(Timestamp) AS ts, toString(Events.Timestamp) AS ets FROM otel_traces WHERE TenantId = '{t}' ORDER BY SpanId",
    );
    expect(t.binary).toHaveLength(3);
    expect(t.binary).toEqual(t.json);
    expect((t.binary[1]!.SpanAttributes as Record<string, string>)['x.para']).toBe('one\n\ntwo\n\n');
    const c = await stored(
      "SELECT * EXCEPT (tenant, ingested_at), toString(timestamp) AS ts FROM ai_calls WHERE tenant = '{t}' ORDER BY span_id",
    );
    expect(c.binary).toHaveLength(3);
    expect(c.binary).toEqual(c.json);
    expect(c.binary.map((r) => r.cost_usd === null)).toEqual(asBinary.calls.map((r) => r.cost_usd === null));
    const hourly = await stored(
      "SELECT sum(requests) AS n, sum(input_tokens) AS input FROM ai_rollup_hourly WHERE tenant = '{t}'",
    );
    expect(hourly.binary).toEqual([{ n: 3, input: 101 + 102 + 103 }]);
    expect(hourly.binary).toEqual(hourly.json);
  });

  it('keep as JSON text a row whose value has no exact binary form, which the engine refuses as data', async () => {
    const { calls } = rowsFor('poison');
    calls[1]!.user_id = '\ud83duser';
    const body = callBody(calls);
    expect(body.format).toBe('JSONCompactEachRow');
    const err = await insertBody(store, 'ai_calls', body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyInsertError(err)).toMatchObject({ retryable: false, reason: 'parse' });
    // The other rows alone go as RowBinary and are stored.
    const good = callBody([calls[0]!, calls[2]!]);
    expect(good.format).toBe('RowBinary');
    await insertBody(store, 'ai_calls', good);
    const [n] = await query<{ n: string }>(store, "SELECT count() AS n FROM ai_calls WHERE tenant = 'poison'");
    expect(Number(n!.n)).toBe(2);
  });
});
