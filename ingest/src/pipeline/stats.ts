import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { insertSettings, type Store } from '../store/client.js';

/** Counter (written as the increase since the last flush) or gauge (written as its value), by ingest_stats metric name. */
const COUNTERS = {
  spans_received: 'tokenmeter_spans_received_total',
  spans_accepted: 'tokenmeter_spans_accepted_total',
  spans_rejected: 'tokenmeter_spans_rejected_total',
  values_repaired: 'tokenmeter_values_repaired_total',
  span_costs_refused: 'tokenmeter_span_costs_refused_total',
  requests_rejected: 'tokenmeter_requests_rejected_total',
  dedup_hits: 'tokenmeter_dedup_hits_total',
  batches_written: 'tokenmeter_batches_written_total',
  batch_failures: 'tokenmeter_batch_failures_total',
  auth_failures: 'tokenmeter_auth_failures_total',
  rate_limited: 'tokenmeter_rate_limited_total',
  spool_full: 'tokenmeter_spool_full_total',
  spool_quarantined: 'tokenmeter_spool_quarantined_total',
} as const;
const GAUGES = {
  spool_bytes: 'tokenmeter_spool_bytes',
  spool_records: 'tokenmeter_spool_records',
  spool_age_seconds: 'tokenmeter_spool_age_seconds',
  pending_rows: 'tokenmeter_pending_rows',
} as const;

export interface StatRow {
  ts: string;
  instance: string;
  metric: string;
  reason: string;
  value: number;
}

/**
 * Writes the service's own counters to `ingest_stats` once a minute, so the
 * pipeline-health dashboard reads them from ClickHouse: counters as their increase
 * over the interval (sum() over time gives totals, across instances too), gauges as
 * their value, and `insert_ms_p99` from the insert-latency histogram of the interval.
 * The label of a counter (reason, where) goes into `reason`.
 */
export class StatsFlusher {
  private last = new Map<string, number>();
  private lastBuckets = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly instance: string;

  constructor(
    private readonly opts: { store: Store; metrics: Metrics; log: Logger; intervalMs: number; instance?: string },
  ) {
    this.instance = opts.instance ?? process.env.HOSTNAME ?? `${hostname()}:${process.pid}`;
  }

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.flushNow(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Flush now (or join the flush in progress), besides the interval's; never throws. */
  flushNow(): Promise<void> {
    this.running ??= this.flush()
      .catch((err) => this.opts.log.warn({ err: (err as Error).message }, 'cannot write ingest_stats'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** The rows for this moment (and remember the counters for the next deltas). */
  async snapshot(now = new Date()): Promise<StatRow[]> {
    const ts = now.toISOString().slice(0, 19).replace('T', ' ');
    const rows: StatRow[] = [];
    const byName = new Map((await this.opts.metrics.registry.getMetricsAsJSON()).map((m) => [m.name, m]));
    for (const [metric, name] of Object.entries(COUNTERS)) {
      const values = (byName.get(name)?.values ?? []) as { value: number; labels: Record<string, unknown> }[];
      if (values.length === 0) rows.push({ ts, instance: this.instance, metric, reason: '', value: 0 });
      for (const v of values) {
        const reason = String(Object.values(v.labels)[0] ?? '');
        const key = `${metric}/${reason}`;
        rows.push({ ts, instance: this.instance, metric, reason, value: v.value - (this.last.get(key) ?? 0) });
        this.last.set(key, v.value);
      }
    }
    for (const [metric, name] of Object.entries(GAUGES)) {
      const v = (byName.get(name)?.values ?? [])[0] as { value: number } | undefined;
      rows.push({ ts, instance: this.instance, metric, reason: '', value: v?.value ?? 0 });
    }
    rows.push({ ts, instance: this.instance, metric: 'insert_ms_p99', reason: '', value: this.insertP99Ms(byName) });
    return rows;
  }

  async flush(now = new Date()): Promise<void> {
    const rows = await this.snapshot(now);
    const { store } = this.opts;
    await store.writer.insert({
      table: `${store.database}.ingest_stats`,
      values: rows,
      format: 'JSONEachRow',
      clickhouse_settings: insertSettings(`ingest_stats:${this.instance}:${rows[0]?.ts}`),
    });
  }

  /** p99 of the inserts since the last flush: the upper bound of the bucket it falls in. */
  private insertP99Ms(byName: Map<string, { values: unknown[] }>): number {
    const values = (byName.get('tokenmeter_insert_duration_seconds')?.values ?? []) as {
      value: number;
      metricName?: string;
      labels: { le?: number | string };
    }[];
    const buckets = values
      .filter((v) => v.metricName?.endsWith('_bucket'))
      .map((v) => ({ le: v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le), count: v.value }));
    const delta = buckets.map((b) => ({ le: b.le, count: b.count - (this.lastBuckets.get(b.le) ?? 0) }));
    for (const b of buckets) this.lastBuckets.set(b.le, b.count);
    const total = delta.at(-1)?.count ?? 0;
    if (total <= 0) return 0;
    const target = total * 0.99;
    const hit = delta.find((b) => b.count >= target);
    const le = hit?.le ?? Number.POSITIVE_INFINITY;
    // Past the largest bucket: report that bound rather than infinity.
    return (Number.isFinite(le) ? le : (buckets.at(-2)?.le ?? 0)) * 1000;
  }
}
