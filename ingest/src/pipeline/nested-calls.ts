import type { CallRow } from './rows.js';

/**
 * One AI call seen by two instrumentations (an Anthropic SDK's own span inside
 * OpenLIT's or ours, traceloop inside OpenInference) arrives as two call spans, one
 * the parent of the other. Only one may count. This remembers recent call spans and
 * their parents (bounded), and tells which of a batch's calls are the second sighting
 * of a call already counted:
 * - a call whose child call (same provider) was counted is the outer wrapper: dropped;
 * - a call whose parent call (same provider) was counted is the inner one: dropped;
 * - within one batch the inner (the span closest to the provider) is kept.
 * Its otel_traces row is always kept: the span is real, only the call is not twice.
 * The first sighting to arrive is the one counted (usually the inner span, which ends
 * first), with the attribution it carries.
 * What it cannot see: a pair split across a restart of the service (memory only).
 */
export class CallNesting {
  private readonly calls = new Map<string, string>();
  private readonly parents = new Map<string, string>();

  constructor(private readonly capacity = 200_000) {}

  /** The calls of a batch that are nested sightings of another call (to drop from ai_calls). */
  nested(batch: CallRow[]): Set<CallRow> {
    const batchParents = new Map<string, string>();
    for (const c of batch) if (c.parent_span_id) batchParents.set(key(c.trace_id, c.parent_span_id), c.provider);
    const dropped = new Set<CallRow>();
    for (const c of batch) {
      const own = key(c.trace_id, c.span_id);
      const parent = c.parent_span_id ? key(c.trace_id, c.parent_span_id) : '';
      if (
        this.parents.get(own) === c.provider ||
        (parent && this.calls.get(parent) === c.provider) ||
        batchParents.get(own) === c.provider
      ) {
        dropped.add(c);
      }
    }
    // Remember every call, dropped ones too, so a chain of three collapses to one.
    for (const c of batch) {
      this.remember(this.calls, key(c.trace_id, c.span_id), c.provider);
      if (c.parent_span_id) this.remember(this.parents, key(c.trace_id, c.parent_span_id), c.provider);
    }
    return dropped;
  }

  private remember(map: Map<string, string>, k: string, provider: string): void {
    map.set(k, provider);
    if (map.size > this.capacity) map.delete(map.keys().next().value as string);
  }
}

/**
 * By trace and span id alone: the two sightings may carry different tenants when the
 * tenant comes from span attributes only one instrumentation sets. Trace ids are
 * 128-bit random, so one tenant cannot aim at another's call by guessing them.
 */
function key(trace: string, span: string): string {
  return `${trace}/${span}`;
}
