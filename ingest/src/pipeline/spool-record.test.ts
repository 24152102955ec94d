import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../otlp/decode.js';
import { attr } from '../otlp/encode.js';
import { buildRows } from './build.js';
import { IngestPricer } from './pricing.js';
import { CALL_COLUMNS, spanKey, TRACE_COLUMNS } from './rows.js';
import { decodeRecord, ENCODE_SLICE, encodeRecord, encodeRecordAsync, type SpoolBatch } from './spool-record.js';
import { otlpRequest, svcAttr } from '../../../test/support/otlp.ts';

function batch(): SpoolBatch {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (n: number, extra: Record<string, string>) => ({
    traceId: `${'ab'.repeat(15)}${n.toString(16).padStart(2, '0')}`,
    spanId: `${'cd'.repeat(7)}${n.toString(16).padStart(2, '0')}`,
    name: `chat ${n}`,
    kind: 3,
    startTimeUnixNano: String(now - 1_000_000_000n),
    endTimeUnixNano: String(now),
    attributes: [
      attr('gen_ai.operation.name', 'chat'),
      attr('gen_ai.provider.name', 'openai'),
      attr('gen_ai.request.model', 'gpt-4o-mini'),
      attr('gen_ai.usage.input_tokens', 100 + n),
      attr('gen_ai.usage.output_tokens', 7),
      ...Object.entries(extra).map(([k, v]) => attr(k, v)),
    ],
  });
  const request = otlpRequest(
    [
      span(1, { 'x.text': 'line\nbreak\ttab "quoted" \\ \u0000 é 😀', ['__proto__']: 'data' }),
      span(2, { 'x.other': '[1,2]' }),
      span(3, {}),
    ],
    [svcAttr('svc')],
  );
  const body = Buffer.from(JSON.stringify(request));
  const built = buildRows(decodeTraces(body, 'json').spans, () => 'acme', new IngestPricer(), Date.now());
  expect(built.rejected).toEqual([]);
  // A value the door would have repaired, as a row planted in the spool may hold.
  built.calls[1]!.user_id = '\ud83duser';
  return { traces: built.traces, calls: built.calls };
}

describe('spool records', () => {
  it('carry the insert bodies and give back the same rows, keys and cost sources', () => {
    const b = batch();
    const record = decodeRecord(encodeRecord(b));
    expect(record.traces.keys).toEqual(b.traces.map((t) => spanKey('acme', t.TraceId, t.SpanId)));
    expect(record.calls.keys).toEqual(b.calls.map((c) => spanKey('acme', c.trace_id, c.span_id)));
    expect(record.costSources).toEqual(b.calls.map((c) => c.cost_source));
    // RowBinary where every value has its exact binary form; the lone surrogate keeps the calls as
    // JSON text (one line a row: a newline inside a value never splits a row), which the engine refuses.
    expect(record.traces.format).toBe('RowBinary');
    expect(record.calls.format).toBe('JSONCompactEachRow');
    expect(record.calls.data.toString().split('\n')).toHaveLength(b.calls.length + 1);
    expect(JSON.parse(JSON.stringify(record.rows()))).toEqual(JSON.parse(JSON.stringify(b)));
    expect(record.rows().calls[1]!.user_id).toBe('\ud83duser');
    expect(Object.keys(record.rows().traces[0]!.SpanAttributes)).toContain('__proto__');
  });

  it('is the same record deflated off the event loop (the writer) as on it', async () => {
    const b = batch();
    const sync = encodeRecord(b);
    const async = await encodeRecordAsync(b);
    expect(async.payload.equals(sync)).toBe(true);
  });

  it('is the same record when the writer encodes it a slice of rows at a time', async () => {
    const one = batch();
    const n = 2 * ENCODE_SLICE + 5;
    const copy = <T extends object>(rows: T[], i: number, id: keyof T): T[] =>
      rows.map((r) => ({ ...r, [id]: `${String(r[id]).slice(0, -4)}${i.toString(16).padStart(4, '0')}` }));
    const b: SpoolBatch = { traces: [], calls: [] };
    for (let i = 0; b.traces.length < n; i++) {
      b.traces.push(...copy(one.traces, i, 'SpanId'));
      b.calls.push(...copy(one.calls, i, 'span_id').map((c) => ({ ...c, user_id: 'u' })));
    }
    const sync = decodeRecord(encodeRecord(b));
    const { payload } = await encodeRecordAsync(b);
    expect(payload.equals(encodeRecord(b))).toBe(true);
    expect(sync.traces.format).toBe('RowBinary');
    expect(sync.calls.format).toBe('RowBinary');
    expect(new Set(sync.traces.keys).size).toBeGreaterThan(2 * ENCODE_SLICE);
    // A value without a binary form in the last slice: the whole table falls back, the same way.
    b.calls.at(-1)!.user_id = '\ud83duser';
    const fallback = await encodeRecordAsync(b);
    expect(fallback.payload.equals(encodeRecord(b))).toBe(true);
    expect(fallback.record.calls.format).toBe('JSONCompactEachRow');
  });

  it('hands the drainer the record its bytes decode to (bodies, keys, cost sources, rows)', async () => {
    const b = batch();
    const { payload, record } = await encodeRecordAsync(b);
    const read = decodeRecord(payload);
    for (const table of ['traces', 'calls'] as const) {
      expect(record[table].data.equals(read[table].data)).toBe(true);
      expect({ ...record[table], data: undefined }).toEqual({ ...read[table], data: undefined });
    }
    expect(record.costSources).toEqual(read.costSources);
    expect(JSON.stringify(record.rows())).toBe(JSON.stringify(read.rows()));
  });

  it('reads records spooled before bodies were (deflated JSON of the rows), with the same keys', () => {
    const b = batch();
    const old = Buffer.concat([Buffer.from('Z'), deflateRawSync(JSON.stringify(b))]);
    const record = decodeRecord(old);
    const now = decodeRecord(encodeRecord(b));
    expect(record.traces).toEqual(now.traces);
    expect(record.calls).toEqual(now.calls);
    expect(record.rows()).toEqual(JSON.parse(JSON.stringify(b)));
  });

  it('reads records spooled as JSON text bodies (before RowBinary) and inserts them as they are', () => {
    const b = batch();
    const text = (rows: object[], columns: readonly string[]) =>
      rows.map((r) => JSON.stringify(columns.map((c) => (r as Record<string, unknown>)[c])) + '\n').join('');
    const traces = text(b.traces, TRACE_COLUMNS);
    const header = {
      traceColumns: TRACE_COLUMNS,
      callColumns: CALL_COLUMNS,
      traceKeys: b.traces.map((t) => spanKey('acme', t.TraceId, t.SpanId)),
      callKeys: b.calls.map((c) => spanKey('acme', c.trace_id, c.span_id)),
      costSources: b.calls.map((c) => c.cost_source),
      traceChars: traces.length,
    };
    const old = Buffer.concat([
      Buffer.from('C'),
      deflateRawSync(`${JSON.stringify(header)}\n${traces}${text(b.calls, CALL_COLUMNS)}`),
    ]);
    const record = decodeRecord(old);
    expect(record.traces.format).toBe('JSONCompactEachRow');
    expect(record.traces.data.toString()).toBe(traces);
    expect(record.traces.keys).toEqual(header.traceKeys);
    expect(record.calls.keys).toEqual(header.callKeys);
    expect(record.costSources).toEqual(header.costSources);
    expect(JSON.parse(JSON.stringify(record.rows()))).toEqual(JSON.parse(JSON.stringify(b)));
  });
});
