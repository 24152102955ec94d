/**
 * How a drain group that ClickHouse refuses as data is cut down until the bad spans are
 * isolated: first one part per tenant (one tenant's poison never holds another's rows),
 * then halves, down to single spans. Pure: a part is a range over a tenant's spans in
 * group order, so the same group always splits the same way, the parts are small enough
 * to write down after every step, and each part's rows (and so its insert tokens) are the
 * same after a restart.
 */
import { spanKey } from './rows.js';
import type { SpoolBatch } from './spool-record.js';

export interface SplitPart {
  /** Unset: every tenant of the group (the group as it was first tried). */
  tenant?: string;
  /** The part's spans: [from, to) of the tenant's spans (or of all spans) in group order; no `to`: to the end. */
  from: number;
  to?: number;
  /** Its otel_traces rows are in (what failed was ai_calls): only ai_calls is tried again. */
  tracesDone: boolean;
  /** Times this one span was refused as data so far. */
  failures: number;
}

export interface GroupSpan {
  key: string;
  tenant: string;
}

/** Every span of a group once, in group order: its trace rows, then any call without a trace row. */
export function spansOf(batch: SpoolBatch): GroupSpan[] {
  const spans: GroupSpan[] = [];
  const seen = new Set<string>();
  const add = (key: string, tenant: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    spans.push({ key, tenant });
  };
  for (const t of batch.traces) add(spanKey(t.TenantId, t.TraceId, t.SpanId), t.TenantId);
  for (const c of batch.calls) add(spanKey(c.tenant, c.trace_id, c.span_id), c.tenant);
  return spans;
}

/** The group as it is first tried: every span, which it need not even list (the usual, hot path). */
export function wholeGroup(): SplitPart {
  return { from: 0, tracesDone: false, failures: 0 };
}

/** The spans a part covers. */
export function spansIn(spans: GroupSpan[], part: SplitPart): GroupSpan[] {
  const own = part.tenant === undefined ? spans : spans.filter((s) => s.tenant === part.tenant);
  return own.slice(part.from, part.to);
}

/** The rows of a part, in group order (otel_traces rows left out once they are in). */
export function rowsOf(batch: SpoolBatch, spans: () => GroupSpan[], part: SplitPart): SpoolBatch {
  if (part.tenant === undefined && part.from === 0 && part.to === undefined) {
    return { traces: part.tracesDone ? [] : batch.traces, calls: batch.calls };
  }
  const keys = new Set(spansIn(spans(), part).map((s) => s.key));
  return {
    traces: part.tracesDone ? [] : batch.traces.filter((t) => keys.has(spanKey(t.TenantId, t.TraceId, t.SpanId))),
    calls: batch.calls.filter((c) => keys.has(spanKey(c.tenant, c.trace_id, c.span_id))),
  };
}

/**
 * What a part refused as data is tried as next: one part per tenant when it holds several,
 * else its two halves; undefined when it is one span (it is retried, then quarantined).
 */
export function splitPart(spans: GroupSpan[], part: SplitPart): SplitPart[] | undefined {
  const own = spansIn(spans, part);
  const { tracesDone } = part;
  if (part.tenant === undefined) {
    const counts = new Map<string, number>();
    for (const s of own) counts.set(s.tenant, (counts.get(s.tenant) ?? 0) + 1);
    if (counts.size > 1) {
      return [...counts].map(([tenant, n]) => ({ tenant, from: 0, to: n, tracesDone, failures: 0 }));
    }
    // One tenant: the same spans, named by tenant, so the halves below are ranges of it.
    const tenant = own[0]?.tenant ?? '';
    return splitPart(spans, { ...part, tenant, from: 0, to: own.length });
  }
  if (own.length <= 1) return undefined;
  const mid = part.from + Math.ceil(own.length / 2);
  return [
    { tenant: part.tenant, from: part.from, to: mid, tracesDone, failures: 0 },
    { tenant: part.tenant, from: mid, to: part.from + own.length, tracesDone, failures: 0 },
  ];
}
