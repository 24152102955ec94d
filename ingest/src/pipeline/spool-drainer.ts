/**
 * The one inserter: drains the spool into ClickHouse, oldest record first, retrying the
 * identical insert with backoff through an outage and quarantining a record ClickHouse
 * refuses for good. Owns the degraded state, the spool gauges, and the requests waiting
 * for their record to land.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { insertSettings, type Store } from '../store/client.js';
import type { Metrics } from '../metrics.js';
import { spanKey } from './rows.js';
import type { Spool, SpoolEntry } from './spool.js';
import { decodeRecord, type SpoolBatch } from './spool-record.js';

export interface DrainerOptions {
  store: Store;
  spool: Spool;
  log: Logger;
  metrics: Metrics;
}

/**
 * A spooled record is inserted verbatim, however often it is retried or replayed, with a
 * deterministic `insert_deduplication_token` per table derived from its keys and
 * deduplication into the materialized views, so an insert that landed (even half: the
 * table but not a rollup) before a failure or a crash is completed, not doubled, by
 * ClickHouse itself. One drainer inserts, so two records never race on a key.
 */
export class SpoolDrainer {
  /** Requests waiting for their spool record to reach ClickHouse, by record seq. */
  private readonly waiting = new Map<number, () => void>();
  private draining: Promise<void> | undefined;
  private drainWake: (() => void) | undefined;
  /** True while the drainer's last insert failed: acknowledge on the spool's word at once. */
  private degraded = false;
  private stopDrain = false;

  constructor(private readonly opts: DrainerOptions) {
    opts.metrics.spoolAge.source = () => opts.spool.oldestAgeMs() / 1000;
  }

  /** Whether ClickHouse writes are failing and batches are being held in the spool. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  /**
   * Settles once record `seq` is in ClickHouse, after `ackWaitMs`, or at once while
   * ClickHouse is failing: when a request may be answered.
   */
  waitForInsert(seq: number, ackWaitMs: number): Promise<void> {
    if (this.degraded) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        resolve();
      }, ackWaitMs);
      this.waiting.set(seq, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Start the drainer, or wake it if it is waiting for a record. */
  wake(): void {
    if (this.drainWake) {
      const wake = this.drainWake;
      this.drainWake = undefined;
      wake();
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Give the drainer up to `drainMs` (unless ClickHouse is failing), then stop it and answer every waiting request. */
  async stop(drainMs: number): Promise<void> {
    const deadline = Date.now() + drainMs;
    while (this.opts.spool.pendingRecords > 0 && !this.degraded && Date.now() < deadline) {
      this.wake();
      await sleep(20);
    }
    this.stopDrain = true;
    this.wake();
    await this.draining;
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }

  updateSpoolMetrics(): void {
    const { spool, metrics } = this.opts;
    metrics.spoolBytes.set(spool.pendingBytes);
    metrics.spoolRecords.set(spool.pendingRecords);
    metrics.spoolAgeSeconds.set(spool.oldestAgeMs() / 1000);
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

  private async insert(table: string, values: unknown[], keys: string[]): Promise<void> {
    const token = `${table}:${createHash('sha256').update(keys.sort().join('\n')).digest('hex')}`;
    await this.opts.store.writer.insert({
      table: `${this.opts.store.database}.${table}`,
      values,
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings(token),
    });
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
