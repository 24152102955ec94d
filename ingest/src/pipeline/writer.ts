import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { TupleParam } from '@clickhouse/client';
import type { Logger } from 'pino';
import { insertSettings, type Store } from '../store/client.js';
import type { Metrics } from '../metrics.js';
import type { CallRow, TraceRow } from './rows.js';
import { CallNesting } from './nested-calls.js';
import { RecentKeys } from './recent-keys.js';
import { type Spool, type SpoolEntry, SpoolFullError } from './spool.js';

export interface WriterOptions {
  store: Store;
  /** The write-ahead spool every batch is appended to before it is acknowledged. */
  spool: Spool;
  maxRows: number;
  maxDelayMs: number;
  log: Logger;
  metrics: Metrics;
  /** Rows waiting for a batch beyond which new requests are refused (backpressure, not growth). */
  maxQueuedRows?: number;
  /** How long a request waits for its batch to reach ClickHouse before it is answered on the spool's word. */
  ackWaitMs?: number;
  /** How many span keys the in-memory dedup window remembers. */
  recentKeys?: number;
}

export interface WriteResult {
  written: number;
  duplicates: number;
}

/** The service cannot take this batch now; the client should retry after `retryAfterS`. */
export class BackpressureError extends Error {
  constructor(
    message: string,
    readonly reason: 'spool_full' | 'queue_full' | 'storage_unavailable' | 'closing',
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

interface Pending {
  traces: TraceRow[];
  calls: CallRow[];
  resolve: (r: WriteResult) => void;
  reject: (err: Error) => void;
}

/** One spool record: the rows of one batch, already deduplicated, inserted verbatim. */
interface SpoolBatch {
  traces: TraceRow[];
  calls: CallRow[];
}

/**
 * Batches rows from many requests into few inserts, bounded by rows and by time,
 * appends each batch to the write-ahead spool (fsynced), and drains the spool into
 * ClickHouse in order. A request is answered once its batch is in ClickHouse, or,
 * when ClickHouse is failing or slow (ackWaitMs), once it is fsynced in the spool.
 *
 * Counted once, however a span is re-sent, re-batched or replayed (ingest/README.md):
 * 1. a span key (tenant, trace id, span id) already taken is dropped before the batch
 *    is spooled: keys in this batch, in the in-memory window (every key spooled by
 *    this process, and every key of records replayed at start), and — for spans older
 *    than the window can vouch for — keys found in `ai_calls`;
 * 2. a spooled batch is inserted verbatim, however often it is retried or replayed,
 *    with a deterministic `insert_deduplication_token` per table derived from its keys
 *    and deduplication into the materialized views, so an insert that landed (even
 *    half: the table but not a rollup) before a failure or a crash is completed, not
 *    doubled, by ClickHouse itself.
 * Flushes run one at a time and one drainer inserts, so two batches never race on a key.
 */
export class BatchWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly recent: RecentKeys;
  private readonly nesting = new CallNesting();
  /**
   * Spans that started up to here may have been counted before this process started: the
   * start time, or later if an earlier process took spans dated ahead of the clock
   * (`horizon.json` in the spool directory remembers the latest such start).
   */
  private startedAtNs = BigInt(Date.now()) * 1_000_000n;
  private horizonNs = 0n;
  /** Requests waiting for their spool record to reach ClickHouse, by record seq. */
  private readonly waiting = new Map<number, () => void>();
  private draining: Promise<void> | undefined;
  private drainWake: (() => void) | undefined;
  /** True while the drainer's last insert failed: acknowledge on the spool's word at once. */
  private degraded = false;
  private stopDrain = false;

  constructor(private readonly opts: WriterOptions) {
    this.recent = new RecentKeys(opts.recentKeys ?? 1_000_000);
    opts.metrics.spoolAge.source = () => opts.spool.oldestAgeMs() / 1000;
  }

  /**
   * Replay at start: every key of a record still in the spool is taken (it will be
   * drained), so a client resending it now is not counted twice. Then start draining.
   */
  async start(): Promise<void> {
    const { spool, log } = this.opts;
    try {
      this.horizonNs = BigInt((JSON.parse(readFileSync(join(spool.dir, 'horizon.json'), 'utf8')) as { ns: string }).ns);
      if (this.horizonNs > this.startedAtNs) this.startedAtNs = this.horizonNs;
    } catch {
      // No span dated ahead of the clock was ever taken.
    }
    let rows = 0;
    for (const entry of spool.list()) {
      const batch = decodeRecord(await spool.read(entry));
      for (const t of batch.traces) this.recent.add(spanKey(t.TenantId, t.TraceId, t.SpanId), traceStartNs(t));
      for (const c of batch.calls)
        this.recent.add(spanKey(c.tenant, c.trace_id, c.span_id), dateTime64ToNs(c.timestamp));
      rows += batch.traces.length;
    }
    if (spool.pendingRecords > 0) {
      log.info({ records: spool.pendingRecords, rows, bytes: spool.pendingBytes }, 'replaying the spool');
    }
    this.updateSpoolMetrics();
    this.wakeDrainer();
  }

  write(traces: TraceRow[], calls: CallRow[]): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new BackpressureError('shutting down', 'closing', 5));
    if (traces.length === 0 && calls.length === 0) return Promise.resolve({ written: 0, duplicates: 0 });
    const maxQueued = this.opts.maxQueuedRows ?? this.opts.maxRows * 4;
    if (this.queuedRows > 0 && this.queuedRows + traces.length > maxQueued) {
      return Promise.reject(new BackpressureError(`${this.queuedRows} rows already waiting`, 'queue_full', 1));
    }
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ traces, calls, resolve, reject });
      this.queuedRows += traces.length;
      this.opts.metrics.pendingRows.set(this.queuedRows);
      if (this.queuedRows >= this.opts.maxRows) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.opts.maxDelayMs);
    });
  }

  /** Spool everything queued, give the drainer a moment, then stop. What is left drains at next start. */
  async close(drainMs = 5000): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.flushing) {
      this.kick();
      await this.flushing;
    }
    const deadline = Date.now() + drainMs;
    while (this.opts.spool.pendingRecords > 0 && !this.degraded && Date.now() < deadline) {
      this.wakeDrainer();
      await sleep(20);
    }
    this.stopDrain = true;
    this.wakeDrainer();
    await this.draining;
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    await this.opts.spool.close();
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
      const { results, wait } = await this.spoolBatch(batch);
      // Not awaited: the next batch is spooled while this one is inserted (the drainer groups them).
      void wait.then(() => {
        for (const [i, p] of batch.entries()) p.resolve(results[i]!);
      });
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }

  /** Deduplicate a batch and append it to the spool; `wait` settles when it may be acknowledged. */
  private async spoolBatch(batch: Pending[]): Promise<{ results: WriteResult[]; wait: Promise<void> }> {
    const { metrics, spool } = this.opts;
    let stored: Set<string>;
    try {
      stored = await this.storedKeys(batch.flatMap((p) => p.calls));
    } catch (err) {
      // Without ClickHouse nobody can vouch for spans older than this process: let the client retry.
      throw new BackpressureError(
        `cannot check older spans for duplicates: ${(err as Error).message}`,
        'storage_unavailable',
        5,
      );
    }
    const seen = new Set<string>();
    const results: WriteResult[] = [];
    const traces: TraceRow[] = [];
    const calls: CallRow[] = [];
    const hits: string[] = [];
    for (const p of batch) {
      let duplicates = 0;
      for (const t of p.traces) {
        const key = spanKey(t.TenantId, t.TraceId, t.SpanId);
        const where = seen.has(key) ? 'batch' : this.recent.has(key) ? 'window' : stored.has(key) ? 'clickhouse' : '';
        if (where) {
          duplicates++;
          hits.push(where);
          continue;
        }
        seen.add(key);
        traces.push(t);
      }
      for (const c of p.calls) {
        const key = spanKey(c.tenant, c.trace_id, c.span_id);
        // `seen` holds exactly the span keys kept above: a call goes with its span.
        if (seen.has(key)) calls.push(c);
      }
      results.push({ written: p.traces.length - duplicates, duplicates });
    }
    const unique = dedupeCalls(calls);
    const nested = this.nesting.nested(unique);
    for (const _ of nested) hits.push('nested_call');
    const record: SpoolBatch = { traces, calls: nested.size ? unique.filter((c) => !nested.has(c)) : unique };
    if (traces.length === 0) {
      for (const where of hits) metrics.dedupHits.inc({ where });
      return { results, wait: Promise.resolve() };
    }
    let entry: SpoolEntry;
    try {
      entry = await spool.append(encodeRecord(record));
    } catch (err) {
      if (err instanceof SpoolFullError) {
        metrics.spoolFull.inc();
        throw new BackpressureError(err.message, 'spool_full', this.retryAfterS());
      }
      throw err;
    }
    for (const where of hits) metrics.dedupHits.inc({ where });
    this.rememberFutureDated(traces);
    // The keys are taken from now on: the record will reach ClickHouse, whatever happens.
    for (const t of traces) this.recent.add(spanKey(t.TenantId, t.TraceId, t.SpanId), traceStartNs(t));
    this.updateSpoolMetrics();
    const wait = this.degraded
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.waiting.delete(entry.seq);
            resolve();
          }, this.opts.ackWaitMs ?? 5000);
          this.waiting.set(entry.seq, () => {
            clearTimeout(timer);
            resolve();
          });
        });
    this.wakeDrainer();
    return { results, wait };
  }

  /** Note the latest start of a span dated ahead of the clock, for the next process's watermark. */
  private rememberFutureDated(traces: TraceRow[]): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    let latest = this.horizonNs;
    for (const t of traces) {
      const ns = traceStartNs(t);
      if (ns > nowNs && ns > latest) latest = ns;
    }
    if (latest === this.horizonNs) return;
    this.horizonNs = latest;
    const path = join(this.opts.spool.dir, 'horizon.json');
    writeFileSync(`${path}.tmp`, JSON.stringify({ ns: String(latest) }));
    renameSync(`${path}.tmp`, path);
  }

  private wakeDrainer(): void {
    if (this.drainWake) {
      const wake = this.drainWake;
      this.drainWake = undefined;
      wake();
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** The one inserter: oldest spool record first, retried until it is in ClickHouse. */
  private async drain(): Promise<void> {
    const { spool, metrics, log } = this.opts;
    let backoffMs = 100;
    let failures = 0;
    while (!this.stopDrain) {
      const group = spool.nextGroup(DRAIN_GROUP_BYTES);
      const entry = group[0];
      if (!entry) {
        await new Promise<void>((r) => {
          this.drainWake = r;
        });
        continue;
      }
      const started = performance.now();
      try {
        const batches: SpoolBatch[] = [];
        for (const e of group) batches.push(decodeRecord(await spool.read(e)));
        const batch: SpoolBatch = { traces: batches.flatMap((b) => b.traces), calls: batches.flatMap((b) => b.calls) };
        await this.insertBatch(batch);
        metrics.insertSeconds.observe((performance.now() - started) / 1000);
        for (const e of group) await spool.ack(e);
        metrics.batchesWritten.inc();
        metrics.spansAccepted.inc(batch.traces.length);
        for (const c of batch.calls) metrics.aiCalls.inc({ cost_source: c.cost_source || 'unpriced' });
        if (this.degraded) log.info({ pending: spool.pendingRecords }, 'ClickHouse writes recovered; draining');
        this.degraded = false;
        backoffMs = 100;
        failures = 0;
        for (const e of group) {
          this.waiting.get(e.seq)?.();
          this.waiting.delete(e.seq);
        }
        this.updateSpoolMetrics();
      } catch (err) {
        metrics.batchFailures.inc();
        failures++;
        if (failures >= QUARANTINE_AFTER && isBadData(err)) {
          await this.quarantine(group, err as Error);
          failures = 0;
          continue;
        }
        if (!this.degraded) {
          log.warn(
            { err: (err as Error).message, pending: spool.pendingRecords },
            'batch insert failed; acknowledging from the spool and retrying the identical insert',
          );
        }
        this.degraded = true;
        // Every waiting batch is durable in the spool: answer them now.
        for (const resolve of this.waiting.values()) resolve();
        this.waiting.clear();
        this.updateSpoolMetrics();
        await new Promise<void>((r) => {
          const timer = setTimeout(r, backoffMs);
          this.drainWake = () => {
            if (this.stopDrain) {
              clearTimeout(timer);
              r();
            }
          };
        });
        this.drainWake = undefined;
        backoffMs = Math.min(5000, backoffMs * 2);
      }
    }
  }

  /**
   * ClickHouse refused this record's data itself, again and again (not a network or
   * load failure): move it aside, so one poisoned batch cannot block every later one.
   * Nothing is deleted; an operator can fix and replay the file.
   */
  private async quarantine(group: SpoolEntry[], err: Error): Promise<void> {
    const { spool, metrics, log } = this.opts;
    for (const entry of group) {
      const batch = decodeRecord(await spool.read(entry));
      const path = spool.quarantine(entry, Buffer.from(JSON.stringify(batch)));
      metrics.spoolQuarantined.inc();
      metrics.spansRejected.inc({ reason: 'storage_rejected' }, batch.traces.length);
      log.error(
        { err: err.message, path, rows: batch.traces.length },
        'ClickHouse refused a spooled batch; moved aside',
      );
      await spool.ack(entry);
      this.waiting.get(entry.seq)?.();
      this.waiting.delete(entry.seq);
    }
    this.updateSpoolMetrics();
  }

  private async insertBatch(batch: SpoolBatch): Promise<void> {
    if (batch.traces.length > 0)
      await this.insert(
        'otel_traces',
        batch.traces,
        batch.traces.map((t) => spanKey(t.TenantId, t.TraceId, t.SpanId)),
      );
    if (batch.calls.length > 0)
      await this.insert(
        'ai_calls',
        batch.calls,
        batch.calls.map((c) => spanKey(c.tenant, c.trace_id, c.span_id)),
      );
  }

  private retryAfterS(): number {
    // Roughly how long the spool takes to make room: longer while ClickHouse is failing.
    return this.degraded ? 10 : 2;
  }

  private updateSpoolMetrics(): void {
    const { spool, metrics } = this.opts;
    metrics.spoolBytes.set(spool.pendingBytes);
    metrics.spoolRecords.set(spool.pendingRecords);
    metrics.spoolAgeSeconds.set(spool.oldestAgeMs() / 1000);
  }

  /** Whether the spool can take another batch (it may go past its limit by one batch). */
  get spoolHasRoom(): boolean {
    return this.opts.spool.hasRoom;
  }

  /** Whether ClickHouse writes are failing and batches are being held in the spool. */
  get isDegraded(): boolean {
    return this.degraded;
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
    const found = new Set<string>();
    // Query parameters travel in the URL over HTTP (ClickHouse takes up to 1 MiB): ask in slices.
    for (let i = 0; i < suspects.length; i += 2000) {
      for (const key of await this.lookupKeys(suspects.slice(i, i + 2000))) found.add(key);
    }
    return found;
  }

  private async lookupKeys(suspects: CallRow[]): Promise<string[]> {
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
    const rows = await rs.json<{ tenant: string; trace_id: string; span_id: string }>();
    return rows.map((r) => spanKey(r.tenant, r.trace_id, r.span_id));
  }
}

const QUARANTINE_AFTER = 5;
/** How much of the spool one insert takes while catching up (whole records; one record may be larger). */
const DRAIN_GROUP_BYTES = 16 * 1024 * 1024;

/** ClickHouse error codes that mean "this data can never be inserted", as opposed to "not now". */
const BAD_DATA_CODES = new Set(['6', '26', '27', '38', '41', '53', '69', '70', '72', '117', '16', '62']);

function isBadData(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && BAD_DATA_CODES.has(code);
}

/**
 * A spool record's payload: 'Z' + the batch as JSON, deflated at the fastest level. The
 * rows of one service repeat most of their text, so a record is about a tenth of its JSON
 * and the spool holds ten times the outage. 'J' + plain JSON is read too.
 */
function encodeRecord(batch: SpoolBatch): Buffer {
  return Buffer.concat([Buffer.from('Z'), deflateRawSync(JSON.stringify(batch), { level: 1 })]);
}

function decodeRecord(payload: Buffer): SpoolBatch {
  const body = payload.subarray(1);
  const json = payload[0] === 0x5a ? inflateRawSync(body) : body;
  return JSON.parse(json.toString('utf8')) as SpoolBatch;
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

function traceStartNs(t: TraceRow): bigint {
  return BigInt(Date.parse(`${t.Timestamp.replace(' ', 'T').slice(0, 23)}Z`)) * 1_000_000n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
