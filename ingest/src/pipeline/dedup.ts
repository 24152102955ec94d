/**
 * Counted once on the way in: which spans of a batch are new, before the batch is
 * spooled. Owns the in-memory window of taken keys, the nested-call pairs, the start
 * watermark (`horizon.json`) and the lookup of older keys in `ai_calls`.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TupleParam } from '@clickhouse/client';
import type { Store } from '../store/client.js';
import { BackpressureError } from './backpressure.js';
import { CallNesting } from './nested-calls.js';
import { RecentKeys } from './recent-keys.js';
import { type CallRow, spanKey, type TraceRow } from './rows.js';
import type { SpoolBatch } from './spool-record.js';

export interface DedupOptions {
  store: Store;
  /** Where `horizon.json` is kept (the spool directory). */
  dir: string;
  /** How many span keys the in-memory window remembers. */
  recentKeys: number;
}

/** The rows one request brought. */
interface RequestRows {
  traces: TraceRow[];
  calls: CallRow[];
}

export interface Selection {
  /** Per request, in order: how many of its spans were already taken. */
  duplicates: number[];
  /** The rows to spool: every span not taken yet, and its call unless it is a nested sighting. */
  record: SpoolBatch;
  /** Where each dropped span or call was found (`batch`, `window`, `clickhouse`, `nested_call`). */
  hits: string[];
}

/**
 * A span key (tenant, trace id, span id) already taken is dropped before the batch is
 * spooled: keys in this batch, in the in-memory window (every key spooled by this
 * process, and every key of records replayed at start), and — for spans older than the
 * window can vouch for — keys found in `ai_calls`. A call seen twice through two
 * instrumentations (one span nested in the other) keeps one `ai_calls` row.
 */
export class SpanDedup {
  private readonly recent: RecentKeys;
  private readonly nesting = new CallNesting();
  /**
   * Spans that started up to here may have been counted before this process started: the
   * start time, or later if an earlier process took spans dated ahead of the clock
   * (`horizon.json` in the spool directory remembers the latest such start).
   */
  private startedAtNs = BigInt(Date.now()) * 1_000_000n;
  private horizonNs = 0n;

  constructor(private readonly opts: DedupOptions) {
    this.recent = new RecentKeys(opts.recentKeys);
  }

  /** At start: move the watermark past spans an earlier process took dated ahead of the clock. */
  loadHorizon(): void {
    try {
      this.horizonNs = BigInt(
        (JSON.parse(readFileSync(join(this.opts.dir, 'horizon.json'), 'utf8')) as { ns: string }).ns,
      );
      if (this.horizonNs > this.startedAtNs) this.startedAtNs = this.horizonNs;
    } catch {
      // No span dated ahead of the clock was ever taken.
    }
  }

  /** A record still in the spool at start will be drained: its keys are taken. */
  takeSpooled(batch: SpoolBatch): void {
    for (const t of batch.traces) this.recent.add(spanKey(t.TenantId, t.TraceId, t.SpanId), traceStartNs(t));
    for (const c of batch.calls) this.recent.add(spanKey(c.tenant, c.trace_id, c.span_id), dateTime64ToNs(c.timestamp));
  }

  /**
   * Split a batch of requests into what to spool and what was already taken. Takes
   * nothing yet (but for the nested-call memory): call `take` once the record is spooled.
   */
  async select(requests: readonly RequestRows[]): Promise<Selection> {
    let stored: Set<string>;
    try {
      stored = await this.storedKeys(requests.flatMap((p) => p.calls));
    } catch (err) {
      // Without ClickHouse nobody can vouch for spans older than this process: let the client retry.
      throw new BackpressureError(
        `cannot check older spans for duplicates: ${(err as Error).message}`,
        'storage_unavailable',
        5,
      );
    }
    const seen = new Set<string>();
    const duplicatesPerRequest: number[] = [];
    const traces: TraceRow[] = [];
    const calls: CallRow[] = [];
    const hits: string[] = [];
    for (const p of requests) {
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
      duplicatesPerRequest.push(duplicates);
    }
    const unique = dedupeCalls(calls);
    const nested = this.nesting.nested(unique);
    for (const _ of nested) hits.push('nested_call');
    const record: SpoolBatch = { traces, calls: nested.size ? unique.filter((c) => !nested.has(c)) : unique };
    return { duplicates: duplicatesPerRequest, record, hits };
  }

  /** These spans are spooled: their keys are taken from now on (the record will reach ClickHouse, whatever happens). */
  take(traces: TraceRow[]): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    let latest = this.horizonNs;
    for (const t of traces) {
      const ns = traceStartNs(t);
      if (ns > nowNs && ns > latest) latest = ns;
      this.recent.add(spanKey(t.TenantId, t.TraceId, t.SpanId), ns);
    }
    this.rememberFutureDated(latest);
  }

  /** Note the latest start of a span dated ahead of the clock, for the next process's watermark. */
  private rememberFutureDated(latest: bigint): void {
    if (latest === this.horizonNs) return;
    this.horizonNs = latest;
    const path = join(this.opts.dir, 'horizon.json');
    writeFileSync(`${path}.tmp`, JSON.stringify({ ns: String(latest) }));
    renameSync(`${path}.tmp`, path);
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
  // The rows of a batch share a few seconds: the second's parse is reused while it repeats.
  if (s.length === 29 && s.startsWith(lastSecond) && s.charCodeAt(19) === 0x2e) {
    let frac = 0;
    for (let i = 20; i < 29; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return parseDateTime64(s);
      frac = frac * 10 + d;
    }
    return lastSecondNs + BigInt(frac);
  }
  return parseDateTime64(s);
}
let lastSecond = '\u0000';
let lastSecondNs = 0n;

function parseDateTime64(s: string): bigint {
  const ms = Date.parse(`${s.replace(' ', 'T').slice(0, 19)}Z`);
  if (Number.isFinite(ms) && s.length === 29) {
    lastSecond = s.slice(0, 19);
    lastSecondNs = BigInt(ms) * 1_000_000n;
  }
  return BigInt(ms) * 1_000_000n + BigInt(s.slice(20, 29).padEnd(9, '0') || '0');
}

/** A span's start to the nanosecond, as the call's timestamp is read (a cut to the millisecond
 * would leave a span dated ahead of the clock past the watermark: counted twice after a restart). */
function traceStartNs(t: TraceRow): bigint {
  return dateTime64ToNs(t.Timestamp);
}
