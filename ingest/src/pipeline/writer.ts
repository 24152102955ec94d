import { createHash } from 'node:crypto';
import { TupleParam } from '@clickhouse/client';
import type { Logger } from 'pino';
import { insertSettings, type Store } from '../store/client.js';
import type { Metrics } from '../metrics.js';
import type { CallRow, TraceRow } from './rows.js';
import { RecentKeys } from './recent-keys.js';

export interface WriterOptions {
  store: Store;
  maxRows: number;
  maxDelayMs: number;
  log: Logger;
  metrics: Metrics;
  /** Attempts per batch before the waiting requests are failed (the client then retries). */
  attempts?: number;
  /** How many span keys the in-memory dedup window remembers. */
  recentKeys?: number;
}

export interface WriteResult {
  written: number;
  duplicates: number;
}

interface Pending {
  traces: TraceRow[];
  calls: CallRow[];
  resolve: (r: WriteResult) => void;
  reject: (err: Error) => void;
}

/**
 * Batches rows from many requests into few inserts, bounded by rows and by time,
 * and answers each request only once its rows are in ClickHouse.
 *
 * Counted once, however a span is re-sent or re-batched (ingest/README.md):
 * 1. a span key (trace id, span id) already written is dropped: first from an
 *    in-memory window of recent keys, then, for spans older than the window can
 *    vouch for (sent before this process started, or evicted), by asking `ai_calls`;
 * 2. every insert carries a deterministic `insert_deduplication_token` derived from
 *    the keys it holds, with deduplication into the materialized views, so a retried
 *    insert that did land the first time is dropped by ClickHouse itself — in
 *    `ai_calls` and in every rollup.
 * Flushes run one at a time, so two batches never race on the same key.
 */
export class BatchWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly recent: RecentKeys;
  private readonly startedAtNs = BigInt(Date.now()) * 1_000_000n;

  constructor(private readonly opts: WriterOptions) {
    this.recent = new RecentKeys(opts.recentKeys ?? 1_000_000);
  }

  write(traces: TraceRow[], calls: CallRow[]): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new Error('writer is closed'));
    if (traces.length === 0 && calls.length === 0) return Promise.resolve({ written: 0, duplicates: 0 });
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ traces, calls, resolve, reject });
      this.queuedRows += traces.length;
      this.opts.metrics.pendingRows.set(this.queuedRows);
      if (this.queuedRows >= this.opts.maxRows) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
    });
  }

  /** Write everything queued, then stop accepting. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) {
        if (this.queuedRows >= this.opts.maxRows || this.closed) this.kick();
        else this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
      }
    });
  }

  private async flush(): Promise<void> {
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.traces.length <= this.opts.maxRows)) {
      const p = this.queue.shift()!;
      batch.push(p);
      rows += p.traces.length;
    }
    this.queuedRows -= rows;
    this.opts.metrics.pendingRows.set(this.queuedRows);
    try {
      const results = await this.writeBatch(batch);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }

  private async writeBatch(batch: Pending[]): Promise<WriteResult[]> {
    const { store, metrics, log } = this.opts;
    // 1. Drop spans already counted (within this batch, recently, or in ClickHouse).
    const stored = await this.storedKeys(batch.flatMap((p) => p.calls));
    const seen = new Set<string>();
    const results: WriteResult[] = [];
    const traces: TraceRow[] = [];
    const calls: CallRow[] = [];
    for (const p of batch) {
      let duplicates = 0;
      for (const t of p.traces) {
        const key = spanKey(t.TenantId, t.TraceId, t.SpanId);
        if (seen.has(key) || this.recent.has(key) || stored.has(key)) {
          duplicates++;
          metrics.dedupHits.inc({ where: seen.has(key) ? 'batch' : this.recent.has(key) ? 'window' : 'clickhouse' });
          continue;
        }
        seen.add(key);
        traces.push(t);
      }
      for (const c of p.calls) {
        const key = spanKey(c.tenant, c.trace_id, c.span_id);
        if (seen.has(key) && !stored.has(key) && !this.recent.has(key)) calls.push(c);
      }
      results.push({ written: p.traces.length - duplicates, duplicates });
    }
    // A call whose span key repeats inside the batch is kept once.
    const uniqueCalls = dedupeCalls(calls);
    // 2. Insert with deterministic tokens; retry the identical insert on failure.
    const attempts = this.opts.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        if (traces.length > 0)
          await this.insert(
            'otel_traces',
            traces,
            traces.map((t) => spanKey(t.TenantId, t.TraceId, t.SpanId)),
          );
        if (uniqueCalls.length > 0)
          await this.insert(
            'ai_calls',
            uniqueCalls,
            uniqueCalls.map((c) => spanKey(c.tenant, c.trace_id, c.span_id)),
          );
        metrics.insertSeconds.observe((performance.now() - started) / 1000);
        break;
      } catch (err) {
        metrics.batchFailures.inc();
        if (attempt >= attempts) {
          log.error(
            { err: (err as Error).message, rows: traces.length },
            'batch write failed; requests answered with an error',
          );
          throw err;
        }
        log.warn({ err: (err as Error).message, attempt }, 'batch write failed; retrying the identical insert');
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
    for (const t of traces)
      this.recent.add(
        spanKey(t.TenantId, t.TraceId, t.SpanId),
        BigInt(Date.parse(`${t.Timestamp.replace(' ', 'T').slice(0, 23)}Z`)) * 1_000_000n,
      );
    metrics.batchesWritten.inc();
    metrics.spansAccepted.inc(traces.length);
    for (const c of uniqueCalls) metrics.aiCalls.inc({ cost_source: c.cost_source || 'unpriced' });
    return results;
  }

  private async insert(table: string, values: unknown[], keys: string[]): Promise<void> {
    const token = `${table}:${createHash('sha256').update(keys.sort().join('\n')).digest('hex')}`;
    await this.opts.store.writer.insert({
      table: `${this.opts.store.database}.${table}`,
      values,
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings(token),
    });
  }

  /**
   * Keys of these calls already in `ai_calls`, for the calls the window cannot vouch
   * for: those that started before this process did, or before its oldest eviction.
   */
  private async storedKeys(calls: CallRow[]): Promise<Set<string>> {
    const watermark = this.recent.evictedUpToNs > this.startedAtNs ? this.recent.evictedUpToNs : this.startedAtNs;
    const suspects = calls.filter(
      (c) => dateTime64ToNs(c.timestamp) <= watermark && !this.recent.has(spanKey(c.tenant, c.trace_id, c.span_id)),
    );
    if (suspects.length === 0) return new Set();
    const times = suspects.map((c) => c.timestamp).sort();
    const rs = await this.opts.store.writer.query({
      query: `SELECT tenant, trace_id, span_id FROM ${this.opts.store.database}.ai_calls
              WHERE timestamp BETWEEN {from:DateTime64(9, 'UTC')} AND {to:DateTime64(9, 'UTC')}
                AND (tenant, trace_id, span_id) IN {keys:Array(Tuple(String, String, String))}`,
      query_params: {
        from: times[0],
        to: times[times.length - 1],
        keys: suspects.map((c) => new TupleParam([c.tenant, c.trace_id, c.span_id])),
      },
      format: 'JSONEachRow',
    });
    const found = await rs.json<{ tenant: string; trace_id: string; span_id: string }>();
    return new Set(found.map((r) => spanKey(r.tenant, r.trace_id, r.span_id)));
  }
}

export function spanKey(tenant: string, traceId: string, spanId: string): string {
  return `${tenant}/${traceId}/${spanId}`;
}

function dedupeCalls(calls: CallRow[]): CallRow[] {
  const seen = new Set<string>();
  return calls.filter((c) => {
    const key = spanKey(c.tenant, c.trace_id, c.span_id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function dateTime64ToNs(s: string): bigint {
  const ms = Date.parse(`${s.replace(' ', 'T').slice(0, 19)}Z`);
  return BigInt(ms) * 1_000_000n + BigInt(s.slice(20, 29).padEnd(9, '0') || '0');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
