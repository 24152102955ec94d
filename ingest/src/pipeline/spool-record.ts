/**
 * What one spool record holds and how it is written: the rows of one batch, already
 * deduplicated, encoded once as the insert bodies the drainer sends to ClickHouse, and
 * decoded back into rows only when they are needed (replay at start, a split, a quarantine).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { type CallRow, spanKey, type TraceRow } from './rows.js';
import { type BinaryColumn, binaryColumns, CALL_BINARY, decodeRows, encodeRows, TRACE_BINARY } from './rowbinary.js';

/** One spool record: the rows of one batch, already deduplicated, inserted verbatim. */
export interface SpoolBatch {
  traces: TraceRow[];
  calls: CallRow[];
}

/**
 * One table's part of a record, as it is inserted: its rows as RowBinary over `columns` (of
 * `types`, sent as RowBinaryWithNamesAndTypes so the engine checks both against the table), or,
 * when a value has no exact binary form (rowbinary.ts) or the record predates RowBinary, as
 * JSONCompactEachRow text; and the rows' span keys.
 */
export interface TableBody {
  columns: readonly string[];
  format: BodyFormat;
  /** The columns' ClickHouse types (RowBinary only). */
  types?: readonly string[];
  /** RowBinary rows, or JSON text: one array a row, each ending in '\n'. */
  data: Buffer;
  keys: string[];
}

export type BodyFormat = 'RowBinary' | 'JSONCompactEachRow';

/** A record as the drainer reads it: the insert bodies as spooled, the rows on demand. */
export interface SpoolRecord {
  traces: TableBody;
  calls: TableBody;
  /** Each call's cost_source, in order (for the metrics, without decoding the rows). */
  costSources: string[];
  rows(): SpoolBatch;
}

/** A body in a 'B' record's header: everything but its bytes, which follow the header in order. */
interface BodyHeader {
  columns: readonly string[];
  format: BodyFormat;
  types?: readonly string[];
  keys: string[];
  bytes: number;
}

interface Header {
  traces: BodyHeader;
  calls: BodyHeader;
  costSources: string[];
}

/** Rows → one table's insert body (the one encoder: spool records and split parts). */
export function tableBody<R extends object>(
  rows: readonly R[],
  columns: readonly BinaryColumn[],
  key: (r: R) => string,
): TableBody {
  const keys: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) keys[i] = key(rows[i]!);
  const names = columns.map((c) => c.name);
  const binary = encodeRows(rows, columns);
  if (binary) return { columns: names, format: 'RowBinary', types: columns.map((c) => c.type), data: binary, keys };
  return { columns: names, format: 'JSONCompactEachRow', data: Buffer.from(jsonText(rows, names)), keys };
}

/** Rows `tableBodySliced` encodes between looks at the clock. */
export const ENCODE_SLICE = 16;
/** How long it encodes before letting the event loop turn. */
const ENCODE_TURN_MS = 1;

/**
 * `tableBody`, the same bytes, encoded ENCODE_SLICE rows at a time, the event loop turning once
 * each ENCODE_TURN_MS of encoding (RowBinary rows are independent, so the slices concatenate to
 * the whole body). Turns by time, not every slice: under a flood of requests one turn of the loop
 * can take tens of ms, and a batch of 5,000 rows yielding every 16 rows (640 turns) was not
 * spooled for seconds, holding every request in flight (test/ingest/load.test.ts: all 503).
 */
async function tableBodySliced<R extends object>(
  rows: readonly R[],
  columns: readonly BinaryColumn[],
  key: (r: R) => string,
): Promise<TableBody> {
  if (rows.length <= ENCODE_SLICE) return tableBody(rows, columns, key);
  const parts: Buffer[] = [];
  let since = performance.now();
  for (let i = 0; i < rows.length; i += ENCODE_SLICE) {
    if (i > 0 && performance.now() - since >= ENCODE_TURN_MS) {
      await nextTurn();
      since = performance.now();
    }
    const part = encodeRows(rows.slice(i, i + ENCODE_SLICE), columns);
    // A value without an exact binary form: the whole table as JSON text, as tableBody does.
    if (!part) return tableBody(rows, columns, key);
    parts.push(part);
  }
  const keys: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) keys[i] = key(rows[i]!);
  return {
    columns: columns.map((c) => c.name),
    format: 'RowBinary',
    types: columns.map((c) => c.type),
    data: Buffer.concat(parts),
    keys,
  };
}

function jsonText(rows: readonly object[], columns: readonly string[]): string {
  let text = '';
  const values: unknown[] = new Array(columns.length);
  for (const row of rows) {
    for (let c = 0; c < columns.length; c++) values[c] = (row as Record<string, unknown>)[columns[c]!];
    text += JSON.stringify(values) + '\n';
  }
  return text;
}

export const traceKey = (t: TraceRow): string => spanKey(t.TenantId, t.TraceId, t.SpanId);
export const callKey = (c: CallRow): string => spanKey(c.tenant, c.trace_id, c.span_id);

export function traceBody(traces: readonly TraceRow[]): TableBody {
  return tableBody(traces, TRACE_BINARY, traceKey);
}

export function callBody(calls: readonly CallRow[]): TableBody {
  return tableBody(calls, CALL_BINARY, callKey);
}

/**
 * A spool record's payload: 'B' + deflated (at the fastest level) a JSON header line (each
 * body's columns, format, types, span keys and length; the calls' cost sources), then the
 * otel_traces body, then the ai_calls body, each as it is inserted. Records written before are
 * read too: 'C' (the same with JSONCompactEachRow text bodies), 'Z' (deflated JSON of the rows)
 * and 'J' (plain JSON of the rows).
 */
export function encodeRecord(batch: SpoolBatch): Buffer {
  return Buffer.concat([Buffer.from('B'), deflateRawSync(recordPayload(batch), { level: 1 })]);
}

/**
 * The same, deflated on libuv's thread pool instead of the event loop (the writer's path: a
 * batch of 5,000 spans is tens of milliseconds of deflate that requests and the gateway would
 * otherwise wait behind). Also returns the record as `decodeRecord` reads it back from these
 * bytes, so the drainer can insert a record it was just handed without reading, inflating and
 * parsing it again (spool-drainer.ts; the spooled bytes stay what a restart replays).
 */
export async function encodeRecordAsync(batch: SpoolBatch): Promise<{ payload: Buffer; record: SpoolRecord }> {
  // The rows are encoded a slice at a time, the loop's I/O in between: a batch in one go held every
  // request (and the gateway's answers) for milliseconds (400 gateway rows: 3.4 ms at load 9).
  const traces = await tableBodySliced(batch.traces, TRACE_BINARY, traceKey);
  const calls = await tableBodySliced(batch.calls, CALL_BINARY, callKey);
  const { payload, costSources } = recordParts(batch, traces, calls);
  const deflated = await deflateRawAsync(payload, { level: 1 });
  return { payload: Buffer.concat([Buffer.from('B'), deflated]), record: recordOf(traces, calls, costSources) };
}

const deflateRawAsync = promisify(deflateRaw);

function recordPayload(batch: SpoolBatch): Buffer {
  return recordParts(batch).payload;
}

function recordParts(
  batch: SpoolBatch,
  traces = traceBody(batch.traces),
  calls = callBody(batch.calls),
): {
  payload: Buffer;
  traces: TableBody;
  calls: TableBody;
  costSources: string[];
} {
  const head = (b: TableBody): BodyHeader => ({
    columns: b.columns,
    format: b.format,
    ...(b.types ? { types: b.types } : {}),
    keys: b.keys,
    bytes: b.data.length,
  });
  const costSources = batch.calls.map((c) => c.cost_source);
  const header: Header = { traces: head(traces), calls: head(calls), costSources };
  const payload = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), traces.data, calls.data]);
  return { payload, traces, calls, costSources };
}

export function decodeRecord(payload: Buffer): SpoolRecord {
  const body = payload.subarray(1);
  if (payload[0] === 0x42) return decodeBinaryRecord(inflateRawSync(body));
  if (payload[0] === 0x43) return decodeTextRecord(inflateRawSync(body).toString('utf8'));
  const json = payload[0] === 0x5a ? inflateRawSync(body) : body;
  const batch = JSON.parse(json.toString('utf8')) as SpoolBatch;
  return {
    traces: traceBody(batch.traces),
    calls: callBody(batch.calls),
    costSources: batch.calls.map((c) => c.cost_source),
    rows: () => batch,
  };
}

function decodeBinaryRecord(payload: Buffer): SpoolRecord {
  const end = payload.indexOf(0x0a);
  const h = JSON.parse(payload.toString('utf8', 0, end)) as Header;
  const tracesAt = end + 1;
  const callsAt = tracesAt + h.traces.bytes;
  const body = (b: BodyHeader, at: number): TableBody => ({
    columns: b.columns,
    format: b.format,
    ...(b.types ? { types: b.types } : {}),
    data: payload.subarray(at, at + b.bytes),
    keys: b.keys,
  });
  const traces = body(h.traces, tracesAt);
  const calls = body(h.calls, callsAt);
  return recordOf(traces, calls, h.costSources);
}

/** A 'C' record (before RowBinary): a JSON header line, then the two JSONCompactEachRow bodies. */
function decodeTextRecord(text: string): SpoolRecord {
  const end = text.indexOf('\n');
  const h = JSON.parse(text.slice(0, end)) as {
    traceColumns: readonly string[];
    callColumns: readonly string[];
    traceKeys: string[];
    callKeys: string[];
    costSources: string[];
    /** Length of the traces' body (UTF-16 code units); the calls' body follows it. */
    traceChars: number;
  };
  const tracesText = text.slice(end + 1, end + 1 + h.traceChars);
  const callsText = text.slice(end + 1 + h.traceChars);
  const traces: TableBody = {
    columns: h.traceColumns,
    format: 'JSONCompactEachRow',
    data: Buffer.from(tracesText),
    keys: h.traceKeys,
  };
  const calls: TableBody = {
    columns: h.callColumns,
    format: 'JSONCompactEachRow',
    data: Buffer.from(callsText),
    keys: h.callKeys,
  };
  return recordOf(traces, calls, h.costSources);
}

/** A record of two bodies as spooled, its rows decoded once, when first asked for. */
function recordOf(traces: TableBody, calls: TableBody, costSources: string[]): SpoolRecord {
  let rows: SpoolBatch | undefined;
  return {
    traces,
    calls,
    costSources,
    rows: () => (rows ??= { traces: rowsOf<TraceRow>(traces), calls: rowsOf<CallRow>(calls) }),
  };
}

/** A body's rows, decoded from whichever format it is in. */
function rowsOf<R>(body: TableBody): R[] {
  if (body.format === 'RowBinary') return decodeRows<R>(body.data, binaryColumns(body.columns, body.types ?? []));
  const rows: R[] = [];
  for (const line of body.data.toString('utf8').split('\n')) {
    if (line === '') continue;
    const values = JSON.parse(line) as unknown[];
    const row = {} as Record<string, unknown>;
    for (let c = 0; c < body.columns.length; c++) row[body.columns[c]!] = values[c];
    rows.push(row as R);
  }
  return rows;
}
