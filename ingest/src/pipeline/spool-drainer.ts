/**
 * The one inserter: drains the spool into ClickHouse, oldest record first, retrying the
 * identical insert with backoff through an outage, and splitting a batch ClickHouse refuses
 * as data until only the bad spans are left, which it quarantines. Owns the degraded and
 * failing state, the spool gauges, and the requests waiting for their record to land.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../store/client.js';
import type { Metrics } from '../metrics.js';
import { insertBody } from './insert.js';
import { classifyInsertError, type InsertFailure } from './insert-errors.js';
import type { Spool, SpoolEntry } from './spool.js';
import {
  callBody,
  decodeRecord,
  type SpoolBatch,
  type SpoolRecord,
  type TableBody,
  traceBody,
} from './spool-record.js';
import { type GroupSpan, type SplitPart, rowsOf, spansIn, spansOf, splitPart, wholeGroup } from './split.js';

export interface DrainerOptions {
  store: Store;
  spool: Spool;
  log: Logger;
  metrics: Metrics;
  /** Times a single span ClickHouse refuses as data is tried again before it is quarantined. */
  maxRetries?: number;
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
  /** Since when every insert has failed (undefined: the last one went through), and the error's name (never its data). */
  private failingSince: number | undefined;
  private lastFailure: string | undefined;
  private stopDrain = false;
  private readonly maxRetries: number;
  /**
   * Records the writer just appended, as they decode from their spooled bytes (encodeRecordAsync),
   * so the hot path inserts them without reading, inflating and parsing them back. Bounded: past
   * `MEMO_BYTES` (ClickHouse slow or down, the spool growing) a record is read from the spool.
   */
  private readonly memo = new WeakMap<SpoolEntry, SpoolRecord>();
  private memoBytes = 0;

  constructor(private readonly opts: DrainerOptions) {
    opts.metrics.spoolAge.source = () => opts.spool.oldestAgeMs() / 1000;
    this.maxRetries = opts.maxRetries ?? 3;
  }

  /** Whether ClickHouse writes are failing and batches are being held in the spool. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  /** How long writes have been failing without one going through (0: they are not), and the last error. */
  failing(now = Date.now()): { forMs: number; error: string | undefined } {
    return { forMs: this.failingSince === undefined ? 0 : now - this.failingSince, error: this.lastFailure };
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

  /** The record just appended as `entry`, as it decodes (kept while there is room, see `memo`). */
  remember(entry: SpoolEntry, record: SpoolRecord): void {
    const bytes = record.traces.data.length + record.calls.data.length;
    if (this.memoBytes + bytes > MEMO_BYTES || this.memo.has(entry)) return;
    this.memo.set(entry, record);
    this.memoBytes += bytes;
  }

  /** A record to insert: the one remembered for `entry` (then forgotten), else read from the spool. */
  private async recordOf(entry: SpoolEntry): Promise<SpoolRecord> {
    return this.forget(entry) ?? decodeRecord(await this.opts.spool.read(entry));
  }

  /** Drop what is remembered for `entry` (also when it is drained: nothing stays counted). */
  private forget(entry: SpoolEntry): SpoolRecord | undefined {
    const record = this.memo.get(entry);
    if (!record) return undefined;
    this.memo.delete(entry);
    this.memoBytes -= record.traces.data.length + record.calls.data.length;
    return record;
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

  /**
   * The one inserter: oldest spool record first. A write that fails for now is retried
   * (the identical insert, with backoff) until it lands; rows ClickHouse refuses as data
   * are isolated by splitting (insertGroup) and only they are quarantined.
   */
  private async drain(): Promise<void> {
    const { spool, metrics, log } = this.opts;
    let backoffMs = 100;
    while (!this.stopDrain) {
      const group = await spool.nextGroup(DRAIN_GROUP_BYTES);
      if (!group[0]) {
        await new Promise<void>((r) => {
          this.drainWake = r;
        });
        continue;
      }
      const started = performance.now();
      try {
        const records: SpoolRecord[] = [];
        for (const e of group) records.push(await this.recordOf(e));
        const wasDegraded = this.degraded;
        const stored = await this.insertGroup(group, records);
        if (!stored) break; // stopping in the middle of a split: it resumes from split.json at next start
        metrics.insertSeconds.observe((performance.now() - started) / 1000);
        for (const e of group) {
          this.forget(e);
          await spool.ack(e);
        }
        spool.clearSplit();
        metrics.batchesWritten.inc();
        metrics.spansAccepted.inc(stored.traces);
        for (const source of stored.costSources) metrics.aiCalls.inc({ cost_source: source || 'unpriced' });
        if (wasDegraded) log.info({ pending: spool.pendingRecords }, 'ClickHouse writes recovered; draining');
        this.writing();
        backoffMs = 100;
        for (const e of group) {
          this.waiting.get(e.seq)?.();
          this.waiting.delete(e.seq);
        }
        this.updateSpoolMetrics();
      } catch (err) {
        metrics.batchFailures.inc();
        if (!this.degraded) {
          log.warn(
            { err: (err as Error).message, pending: spool.pendingRecords },
            'batch insert failed; acknowledging from the spool and retrying the identical insert',
          );
        }
        this.failed(classifyInsertError(err).kind);
        await this.pause(backoffMs);
        backoffMs = Math.min(5000, backoffMs * 2);
      }
    }
  }

  /**
   * Insert one group, part by part. It starts whole (the usual case: one insert per table,
   * nothing written down); once ClickHouse refuses it as data it is split, one part per
   * tenant, then halves (split.ts), breadth first so that another tenant's part is tried
   * before the poisoned one is cut further. The parts left are fsynced (split.json) before
   * the next insert, so a kill -9 resumes with the same parts and the same insert tokens.
   * A single span still refused after `maxRetries` tries is quarantined. A transient
   * failure throws: drain() retries the same part after a backoff.
   * Returns what was stored, or undefined when the drainer is stopping.
   */
  private async insertGroup(
    group: SpoolEntry[],
    records: SpoolRecord[],
  ): Promise<{ traces: number; costSources: string[] } | undefined> {
    const { spool, metrics, log } = this.opts;
    const head = group[0]!;
    // Rows decoded and spans listed only once the group has to be split: the hot path inserts
    // the records' bodies as they were spooled.
    let merged: SpoolBatch | undefined;
    const batch = () =>
      (merged ??= {
        traces: records.flatMap((r) => r.rows().traces),
        calls: records.flatMap((r) => r.rows().calls),
      });
    let listed: GroupSpan[] | undefined;
    const spans = () => (listed ??= spansOf(batch()));
    const saved = spool.loadSplit<SplitState>(head, group.length);
    const state: SplitState = saved ?? { parts: [wholeGroup()] };
    /** Whether split.json holds this group's parts (then every step is written down). */
    let split = saved !== undefined;
    if (saved) log.info({ parts: saved.parts.length }, 'resuming the split of a batch ClickHouse refused as data');
    const stored = { traces: 0, costSources: [] as string[] };
    while (state.parts.length > 0) {
      if (this.stopDrain) return undefined;
      const part = state.parts[0]!;
      if (part.failures > 0 && !(await this.pause(retryDelayMs(part.failures)))) return undefined;
      const bodies = bodiesOf(records, batch, spans, part);
      try {
        if (bodies.traces.keys.length > 0) {
          await insertBody(this.opts.store, 'otel_traces', bodies.traces);
          part.tracesDone = true;
        }
        await insertBody(this.opts.store, 'ai_calls', bodies.calls);
      } catch (err) {
        const failure = classifyInsertError(err);
        // Tried again as it is (what it wrote before failing is deduplicated by its tokens).
        if (failure.retryable) throw err;
        metrics.batchFailures.inc();
        this.failed(`${failure.kind} (${failure.reason})`);
        state.parts.shift();
        const parts = splitPart(spans(), part);
        const own = spansIn(spans(), part);
        if (parts) {
          state.parts.push(...parts);
          const tenants = [...new Set(own.map((s) => s.tenant))];
          log.warn(
            { err: failure.message, reason: failure.reason, tenants, spans: own.length, parts: parts.length },
            'ClickHouse refused rows as data; splitting the batch to isolate them',
          );
        } else if (part.failures < this.maxRetries) {
          state.parts.push({ ...part, failures: part.failures + 1 });
        } else {
          this.quarantine(head, batch(), spans(), part, failure);
          this.writing();
        }
        spool.saveSplit(head, group.length, state);
        split = true;
        continue;
      }
      state.parts.shift();
      stored.traces += bodies.traces.keys.length;
      stored.costSources.push(...bodies.costSources);
      this.writing();
      if (split && state.parts.length > 0) spool.saveSplit(head, group.length, state);
    }
    return stored;
  }

  /**
   * One span ClickHouse refused as data every time: its rows (only its ai_calls row, when
   * its otel_traces row is in) go to the spool's quarantine/ folder with the error, for an
   * operator to inspect, fix and send again; counted by reason and logged with the tenant.
   */
  private quarantine(
    head: SpoolEntry,
    batch: SpoolBatch,
    spans: GroupSpan[],
    part: SplitPart,
    failure: InsertFailure,
  ): void {
    const { spool, metrics, log } = this.opts;
    const rows = rowsOf(batch, () => spans, part);
    const span = spansIn(spans, part)[0]!;
    const name = `${head.appendedAt}-${head.segment}-${head.offset}-${createHash('sha256').update(span.key).digest('hex').slice(0, 16)}`;
    const path = spool.quarantine(
      name,
      JSON.stringify({
        tenant: span.tenant,
        reason: failure.reason,
        error: failure.message,
        tries: part.failures + 1,
        quarantinedAt: new Date().toISOString(),
        rows,
      }),
    );
    metrics.spoolQuarantined.inc({ reason: failure.reason });
    metrics.spansRejected.inc({ reason: 'storage_rejected' });
    log.error(
      { tenant: span.tenant, reason: failure.reason, err: failure.message, path, tries: part.failures + 1 },
      'ClickHouse refused a span as data; quarantined',
    );
  }

  /** An insert (or a quarantine) went through: writes are not failing. */
  private writing(): void {
    this.degraded = false;
    this.failingSince = undefined;
    this.lastFailure = undefined;
  }

  /** An insert failed: answer every waiting request on the spool's word (their batches are durable). */
  private failed(kind: string): void {
    this.degraded = true;
    this.failingSince ??= Date.now();
    this.lastFailure = kind;
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
    this.updateSpoolMetrics();
  }

  /** Wait `ms`, or less when the drainer is stopped. False when it is stopping. */
  private async pause(ms: number): Promise<boolean> {
    await new Promise<void>((r) => {
      const timer = setTimeout(r, ms);
      this.drainWake = () => {
        if (this.stopDrain) {
          clearTimeout(timer);
          r();
        }
      };
    });
    this.drainWake = undefined;
    return !this.stopDrain;
  }
}

/**
 * What a part inserts into each table: the records' bodies as spooled when the part is the
 * whole group (the hot path), else its rows (split.ts) encoded the same way.
 */
function bodiesOf(
  records: SpoolRecord[],
  batch: () => SpoolBatch,
  spans: () => GroupSpan[],
  part: SplitPart,
): { traces: TableBody; calls: TableBody; costSources: string[] } {
  const first = records[0]!;
  const sameShape = records.every((r) => sameBody(r.traces, first.traces) && sameBody(r.calls, first.calls));
  if (part.tenant === undefined && part.from === 0 && part.to === undefined && sameShape) {
    const join = (bodies: TableBody[]): TableBody =>
      bodies.length === 1
        ? bodies[0]!
        : {
            ...bodies[0]!,
            data: Buffer.concat(bodies.map((b) => b.data)),
            keys: bodies.flatMap((b) => b.keys),
          };
    const traces = join(records.map((r) => r.traces));
    return {
      traces: part.tracesDone ? { ...traces, data: Buffer.alloc(0), keys: [] } : traces,
      calls: join(records.map((r) => r.calls)),
      costSources: records.flatMap((r) => r.costSources),
    };
  }
  const rows = rowsOf(batch(), spans, part);
  return {
    traces: traceBody(rows.traces),
    calls: callBody(rows.calls),
    costSources: rows.calls.map((c) => c.cost_source),
  };
}

/** Whether two bodies can be sent as one: the same format over the same columns of the same types. */
function sameBody(a: TableBody, b: TableBody): boolean {
  return a.format === b.format && sameList(a.columns, b.columns) && sameList(a.types ?? [], b.types ?? []);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What split.json holds for a group being split: the parts still to insert, in order. */
interface SplitState {
  parts: SplitPart[];
}

/** A span refused as data is tried again after 250 ms, 500 ms, 1 s, … (5 s at most). */
function retryDelayMs(failures: number): number {
  return Math.min(5000, 250 * 2 ** (failures - 1));
}

/**
 * How much of the spool one insert takes while catching up (whole records; one record may be
 * larger): 4 MiB deflated is about 30,000 spans, ~40 MB of RowBinary held while it is inserted
 * (16 MiB took the service past 1 GiB at 1 M spans: bench/ingest/README.md).
 */
const DRAIN_GROUP_BYTES = 4 * 1024 * 1024;

/** Bodies of just-appended records kept in memory for the drainer: ~45,000 spans of RowBinary. */
const MEMO_BYTES = 64 * 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
