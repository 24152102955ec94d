/**
 * The write path's front: batches requests, has each batch deduplicated (`dedup.ts`),
 * appends it to the spool and answers its requests when the drainer (`spool-drainer.ts`)
 * has inserted it, or on the spool's word. Owns batching, backpressure and shutdown.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/client.js';
import type { Metrics } from '../metrics.js';
import { BackpressureError } from './backpressure.js';
import { SpanDedup } from './dedup.js';
import type { CallRow, TraceRow } from './rows.js';
import { type Spool, type SpoolEntry, SpoolFullError } from './spool.js';
import { SpoolDrainer } from './spool-drainer.js';
import { decodeRecord, encodeRecordAsync } from './spool-record.js';

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
  /** Times a single span ClickHouse refuses as data is tried again before it is quarantined. */
  insertMaxRetries?: number;
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
 * appends each batch to the write-ahead spool (fsynced), and drains the spool into
 * ClickHouse in order. A request is answered once its batch is in ClickHouse, or,
 * when ClickHouse is failing or slow (ackWaitMs), once it is fsynced in the spool.
 *
 * Counted once, however a span is re-sent, re-batched or replayed (ingest/README.md):
 * a key already taken is dropped before the batch is spooled (`SpanDedup`), and a
 * spooled batch is inserted verbatim with deterministic insert tokens (`SpoolDrainer`).
 * Flushes run one at a time and one drainer inserts, so two batches never race on a key.
 */
export class BatchWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly dedup: SpanDedup;
  private readonly drainer: SpoolDrainer;

  constructor(private readonly opts: WriterOptions) {
    this.dedup = new SpanDedup({ store: opts.store, dir: opts.spool.dir, recentKeys: opts.recentKeys ?? 1_000_000 });
    this.drainer = new SpoolDrainer({
      store: opts.store,
      spool: opts.spool,
      log: opts.log,
      metrics: opts.metrics,
      maxRetries: opts.insertMaxRetries,
    });
  }

  /**
   * Replay at start: every key of a record still in the spool is taken (it will be
   * drained), so a client resending it now is not counted twice. Then start draining.
   */
  async start(): Promise<void> {
    const { spool, log } = this.opts;
    this.dedup.loadHorizon();
    let rows = 0;
    for (const entry of spool.list()) {
      const batch = decodeRecord(await spool.read(entry)).rows();
      this.dedup.takeSpooled(batch);
      rows += batch.traces.length;
    }
    if (spool.pendingRecords > 0) {
      log.info({ records: spool.pendingRecords, rows, bytes: spool.pendingBytes }, 'replaying the spool');
    }
    this.drainer.updateSpoolMetrics();
    this.drainer.wake();
  }

  write(traces: TraceRow[], calls: CallRow[]): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new BackpressureError('shutting down', 'closing', 5));
    if (traces.length === 0 && calls.length === 0) return Promise.resolve({ written: 0, duplicates: 0 });
    if (this.queuedRows > 0 && this.queuedRows + traces.length > this.maxQueuedRows) {
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
    await this.drainer.stop(drainMs);
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
      // Only the answers wait for the insert, not the rows (they are in the spool record now).
      answerOnInsert(
        wait,
        batch.map((p) => p.resolve),
        results,
      );
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }

  /** Deduplicate a batch and append it to the spool; `wait` settles when it may be acknowledged. */
  private async spoolBatch(batch: Pending[]): Promise<{ results: WriteResult[]; wait: Promise<void> }> {
    const { metrics, spool } = this.opts;
    const { duplicates, record, hits } = await this.dedup.select(batch);
    const results = batch.map((p, i): WriteResult => ({
      written: p.traces.length - duplicates[i]!,
      duplicates: duplicates[i]!,
    }));
    if (record.traces.length === 0) {
      for (const where of hits) metrics.dedupHits.inc({ where });
      return { results, wait: Promise.resolve() };
    }
    let entry: SpoolEntry;
    try {
      const encoded = await encodeRecordAsync(record);
      entry = await spool.append(encoded.payload);
      this.drainer.remember(entry, encoded.record);
    } catch (err) {
      if (err instanceof SpoolFullError) {
        metrics.spoolFull.inc();
        throw new BackpressureError(err.message, 'spool_full', this.retryAfterS());
      }
      throw err;
    }
    for (const where of hits) metrics.dedupHits.inc({ where });
    this.dedup.take(record.traces);
    this.drainer.updateSpoolMetrics();
    const wait = this.drainer.waitForInsert(entry.seq, this.opts.ackWaitMs ?? 5000);
    this.drainer.wake();
    return { results, wait };
  }

  private retryAfterS(): number {
    // Roughly how long the spool takes to make room: longer while ClickHouse is failing.
    return this.drainer.isDegraded ? 10 : 2;
  }

  private get maxQueuedRows(): number {
    return this.opts.maxQueuedRows ?? this.opts.maxRows * 4;
  }

  /**
   * Whether rows waiting for a batch are at their bound, so any request with a span would now be
   * refused (queue_full): the receiver asks before reading and decoding a body, so an overload
   * costs no decode and build of requests refused afterwards.
   */
  get isQueueFull(): boolean {
    return this.queuedRows >= this.maxQueuedRows;
  }

  /** Whether the spool can take another batch (it may go past its limit by one batch). */
  get spoolHasRoom(): boolean {
    return this.opts.spool.hasRoom;
  }

  /** Whether ClickHouse writes are failing and batches are being held in the spool. */
  get isDegraded(): boolean {
    return this.drainer.isDegraded;
  }

  /** How long every insert has been failing (0: the last one went through), and the last error. */
  failing(): { forMs: number; error: string | undefined } {
    return this.drainer.failing();
  }
}

/**
 * Resolve the requests of a spooled batch once `wait` settles. A function of its own so that its
 * closure holds the resolvers only: rows held until ClickHouse has them would outlive young-generation
 * collections and be copied and promoted, for nothing (a gateway's rows are not awaited by anyone).
 */
function answerOnInsert(wait: Promise<void>, resolves: ((r: WriteResult) => void)[], results: WriteResult[]): void {
  void wait.then(() => {
    for (let i = 0; i < resolves.length; i++) resolves[i]!(results[i]!);
  });
}
