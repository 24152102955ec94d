import { type Response, Router } from 'express';
import type { Logger } from 'pino';
import { type KeyResolver, requireRole } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/client.js';
import { readSettings } from './read.js';
import { HttpError, handle, propertyFilters, queryEnum, queryInstant, tenantOf } from './request.js';

/** The exported columns of `ai_calls`, in order (a fixed list: identifiers never come from the request). */
export const EXPORT_COLUMNS = [
  'timestamp',
  'service',
  'trace_id',
  'span_id',
  'provider',
  'operation',
  'request_model',
  'model',
  'user_id',
  'team',
  'feature',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'priced',
  'cost_usd',
  'status',
  'error_type',
  'duration_ms',
  'ttft_ms',
  'is_streaming',
  'properties',
] as const;

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Rows per ClickHouse query: bounds memory even where results are buffered (embedded chdb). */
export const EXPORT_PAGE_ROWS = 20_000;
/** Bytes gathered before one write to the socket. */
const WRITE_BYTES = 64 * 1024;

/** Conditions for `property.<name>=<value>` filters: names and values are bound parameters. */
function propertySql(properties: Record<string, string>): { sql: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const sql = Object.entries(properties)
    .map(([name, value], i) => {
      params[`fp_name_${i}`] = name;
      params[`fp_value_${i}`] = value;
      return `\n  AND properties[{fp_name_${i}:String}] = {fp_value_${i}:String}`;
    })
    .join('');
  return { sql, params };
}

const selectSql = (props: string) => `
SELECT toString(timestamp) AS timestamp, service, trace_id, span_id, provider, operation, request_model, model,
       user_id, team, feature, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
       priced, if(priced, toString(cost_usd), NULL) AS cost_usd, status, error_type, duration_ms, ttft_ms, is_streaming,
       properties
FROM ai_calls
WHERE tenant = {tenant:String}
  AND timestamp >= {from:DateTime64(9, 'UTC')} AND timestamp < {to:DateTime64(9, 'UTC')}
  AND (timestamp, trace_id, span_id) > ({after_ts:DateTime64(9, 'UTC')}, {after_trace:String}, {after_span:String})${props}
ORDER BY timestamp, trace_id, span_id
LIMIT {limit:UInt32}`;

const hoursSql = (props: string) => `
SELECT toUnixTimestamp(toStartOfHour(timestamp)) AS hour, count() AS n FROM ai_calls
WHERE tenant = {tenant:String} AND timestamp >= {from:DateTime64(9, 'UTC')} AND timestamp < {to:DateTime64(9, 'UTC')}${props}
GROUP BY hour ORDER BY hour`;

/**
 * Consecutive hours grouped into windows of about `pageRows` rows (pure): each page query then
 * reads its own window only, so an export costs one pass over the rows, not one per page.
 */
export function exportWindows(
  hours: readonly { hour: number; n: number }[],
  pageRows: number,
  from: number,
  to: number,
): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  let start: number | undefined;
  let rows = 0;
  for (const h of hours) {
    if (start !== undefined && rows + h.n > pageRows) {
      out.push({ from: Math.max(from, start), to: Math.min(to, h.hour) });
      start = undefined;
      rows = 0;
    }
    start ??= h.hour;
    rows += h.n;
  }
  if (start !== undefined) out.push({ from: Math.max(from, start), to });
  return out;
}

type Row = Record<(typeof EXPORT_COLUMNS)[number], unknown>;

/**
 * GET /api/v1/export?format=csv|json|ndjson&from&to[&property.<name>=<value>…]: every call of
 * the tenant in [from, to) (with those custom properties), streamed. Rows are read in windows of whole hours of about a page each (from the per-hour
 * counts), and within a window page by page (keyset on timestamp, trace_id, span_id), with the
 * client's streaming result, and each write waits for the socket to drain, so memory stays
 * flat however many rows there are. The row count comes first, in X-Total-Rows.
 */
export function exportRouter(deps: {
  store: Store;
  keys: KeyResolver;
  metrics: Metrics;
  log: Logger;
  /** Rows per page (tests use small pages to cross many page boundaries). */
  pageRows?: number;
}): Router {
  const router = Router();
  const pageRows = deps.pageRows ?? EXPORT_PAGE_ROWS;
  router.get(
    '/api/v1/export',
    requireRole('read', deps.keys, deps.metrics),
    handle(deps.log, async (req, res) => {
      const tenant = tenantOf(req);
      const format = queryEnum<ExportFormat>(req, 'format', EXPORT_FORMATS, 'csv');
      const to = queryInstant(req, 'to') ?? new Date();
      const from = queryInstant(req, 'from') ?? new Date(0);
      if (from >= to) throw new HttpError(400, 'from must be before to');
      const props = propertySql(propertyFilters(req));
      const range = { tenant, from: toNs(from), to: toNs(to), ...props.params };
      const hoursRs = await deps.store.reader.query({
        query: hoursSql(props.sql),
        format: 'JSONEachRow',
        query_params: range,
        clickhouse_settings: readSettings(),
      });
      const hours = (await hoursRs.json<{ hour: string; n: string }>()).map((h) => ({
        hour: Number(h.hour),
        n: Number(h.n),
      }));
      const total = hours.reduce((a, h) => a + h.n, 0);
      const windows = exportWindows(hours, pageRows, from.getTime() / 1000, to.getTime() / 1000);
      res.status(200);
      res.setHeader('content-type', CONTENT_TYPES[format]);
      res.setHeader('x-total-rows', String(total));
      if (format === 'csv') {
        res.setHeader('content-disposition', `attachment; filename="tokenmeter-${tenant}-calls.csv"`);
      }
      let aborted = false;
      res.on('close', () => {
        aborted = !res.writableFinished;
      });
      const out = new Chunker(res);
      out.write(format === 'csv' ? `${EXPORT_COLUMNS.join(',')}\n` : format === 'json' ? '[' : '');
      let written = 0;
      for (const w of windows) {
        // Within a window, keyset pages (an hour may hold more than one page).
        let after = { ts: '1970-01-01 00:00:00', trace: '', span: '' };
        for (;;) {
          const rs = await deps.store.reader.query({
            query: selectSql(props.sql),
            format: 'JSONEachRow',
            query_params: {
              ...props.params,
              tenant,
              from: w.from.toFixed(3),
              to: w.to.toFixed(3),
              after_ts: after.ts,
              after_trace: after.trace,
              after_span: after.span,
              limit: pageRows,
            },
            // The output column `timestamp` is text; WHERE and ORDER BY must see the DateTime64 column.
            clickhouse_settings: readSettings({
              output_format_json_quote_64bit_integers: 0,
              prefer_column_name_to_alias: 1,
            }),
          });
          let inPage = 0;
          let lastText: string | undefined;
          for await (const batch of rs.stream()) {
            if (aborted) break;
            for (const r of batch as { text: string; json<T>(): T }[]) {
              // JSON formats pass ClickHouse's own row text through; only CSV parses each row.
              const text = r.text;
              const line =
                format === 'csv' ? formatRow('csv', r.json<Row>(), false) : jsonLine(format, text, written === 0);
              const wait = out.write(line);
              if (wait) await wait;
              written++;
              inPage++;
              lastText = text;
            }
          }
          if (aborted) {
            deps.log.info({ tenant, written, total }, 'export aborted by the client');
            return;
          }
          if (inPage < pageRows || lastText === undefined) break;
          const last = JSON.parse(lastText) as Row;
          after = { ts: String(last.timestamp), trace: String(last.trace_id), span: String(last.span_id) };
        }
      }
      out.write(format === 'json' ? ']\n' : '');
      await out.flush();
      res.end();
    }),
  );
  return router;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

function toNs(d: Date): string {
  return (d.getTime() / 1000).toFixed(3);
}

function jsonLine(format: ExportFormat, text: string, first: boolean): string {
  if (format === 'ndjson') return `${text}\n`;
  return first ? `\n${text}` : `,\n${text}`;
}

export function formatRow(format: ExportFormat, row: Row, first: boolean): string {
  if (format === 'csv') return `${EXPORT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\n`;
  const json = JSON.stringify(row);
  if (format === 'ndjson') return `${json}\n`;
  return first ? `\n${json}` : `,\n${json}`;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'boolean' ? (v ? 'true' : 'false') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Gathers small strings into ~64 KiB writes and waits for 'drain' when the socket is full. */
class Chunker {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly res: Response) {}

  /** Queue `s`; returns a promise only when a write had to wait for the socket to drain. */
  write(s: string): Promise<void> | undefined {
    if (s === '') return undefined;
    this.parts.push(s);
    this.size += s.length;
    return this.size >= WRITE_BYTES ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.res.write(chunk) && !this.res.destroyed) await drained(this.res);
  }
}

/** Resolves on 'drain' or 'close', removing both listeners (no listener left behind per wait). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
