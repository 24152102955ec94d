/**
 * What one spool record holds and how it is written: the rows of one batch, already
 * deduplicated, encoded once as the insert bodies the drainer sends to ClickHouse, and
 * decoded back into rows only when they are needed (replay at start, a split, a quarantine).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { CALL_COLUMNS, type CallRow, spanKey, TRACE_COLUMNS, type TraceRow } from './rows.js';

/** One spool record: the rows of one batch, already deduplicated, inserted verbatim. */
export interface SpoolBatch {
  traces: TraceRow[];
  calls: CallRow[];
}

/** One table's part of a record: its rows as a JSONCompactEachRow body over `columns`, and their span keys. */
export interface TableBody {
  columns: readonly string[];
  /** One JSON array a row, each ending in '\n' (JSON escapes every newline inside a value). */
  text: string;
  keys: string[];
}

/** A record as the drainer reads it: the insert bodies as spooled, the rows on demand. */
export interface SpoolRecord {
  traces: TableBody;
  calls: TableBody;
  /** Each call's cost_source, in order (for the metrics, without decoding the rows). */
  costSources: string[];
  rows(): SpoolBatch;
}

interface Header {
  traceColumns: readonly string[];
  callColumns: readonly string[];
  traceKeys: string[];
  callKeys: string[];
  costSources: string[];
  /** Length of the traces' body (UTF-16 code units); the calls' body follows it. */
  traceChars: number;
}

/** Rows → one table's JSONCompactEachRow body (the one encoder: spool records and split parts). */
export function tableBody<R extends object>(
  rows: readonly R[],
  columns: readonly (keyof R & string)[],
  key: (r: R) => string,
): TableBody {
  let text = '';
  const keys: string[] = new Array(rows.length);
  const values: unknown[] = new Array(columns.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let c = 0; c < columns.length; c++) values[c] = row[columns[c]!];
    text += JSON.stringify(values) + '\n';
    keys[i] = key(row);
  }
  return { columns, text, keys };
}

export const traceKey = (t: TraceRow): string => spanKey(t.TenantId, t.TraceId, t.SpanId);
export const callKey = (c: CallRow): string => spanKey(c.tenant, c.trace_id, c.span_id);

export function traceBody(traces: readonly TraceRow[]): TableBody {
  return tableBody(traces, TRACE_COLUMNS, traceKey);
}

export function callBody(calls: readonly CallRow[]): TableBody {
  return tableBody(calls, CALL_COLUMNS, callKey);
}

/**
 * A spool record's payload: 'C' + deflated (at the fastest level) a JSON header line, then the
 * otel_traces body, then the ai_calls body, each as it is inserted. The rows of one service
 * repeat most of their text, so a record is about a tenth of its text and the spool holds ten
 * times the outage. Records written before ('Z' + deflated JSON of the rows, 'J' + plain JSON)
 * are read too.
 */
export function encodeRecord(batch: SpoolBatch): Buffer {
  const traces = traceBody(batch.traces);
  const calls = callBody(batch.calls);
  const header: Header = {
    traceColumns: traces.columns,
    callColumns: calls.columns,
    traceKeys: traces.keys,
    callKeys: calls.keys,
    costSources: batch.calls.map((c) => c.cost_source),
    traceChars: traces.text.length,
  };
  const text = `${JSON.stringify(header)}\n${traces.text}${calls.text}`;
  return Buffer.concat([Buffer.from('C'), deflateRawSync(text, { level: 1 })]);
}

export function decodeRecord(payload: Buffer): SpoolRecord {
  const body = payload.subarray(1);
  if (payload[0] !== 0x43) {
    const json = payload[0] === 0x5a ? inflateRawSync(body) : body;
    const batch = JSON.parse(json.toString('utf8')) as SpoolBatch;
    return {
      traces: traceBody(batch.traces),
      calls: callBody(batch.calls),
      costSources: batch.calls.map((c) => c.cost_source),
      rows: () => batch,
    };
  }
  const text = inflateRawSync(body).toString('utf8');
  const end = text.indexOf('\n');
  const h = JSON.parse(text.slice(0, end)) as Header;
  const tracesText = text.slice(end + 1, end + 1 + h.traceChars);
  const callsText = text.slice(end + 1 + h.traceChars);
  let rows: SpoolBatch | undefined;
  return {
    traces: { columns: h.traceColumns, text: tracesText, keys: h.traceKeys },
    calls: { columns: h.callColumns, text: callsText, keys: h.callKeys },
    costSources: h.costSources,
    rows: () =>
      (rows ??= {
        traces: rowsFromBody<TraceRow>(tracesText, h.traceColumns),
        calls: rowsFromBody<CallRow>(callsText, h.callColumns),
      }),
  };
}

function rowsFromBody<R>(text: string, columns: readonly string[]): R[] {
  const rows: R[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const values = JSON.parse(line) as unknown[];
    const row = {} as Record<string, unknown>;
    for (let c = 0; c < columns.length; c++) row[columns[c]!] = values[c];
    rows.push(row as R);
  }
  return rows;
}
