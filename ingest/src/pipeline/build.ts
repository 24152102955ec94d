import { normalizeSpan, type SpanInput } from '@tokenmeter/instrumentation/normalize';
import type { SpanRejection } from '../otlp/decode.js';
import type { IngestPricer } from './pricing.js';
import { type CostRefusal, exceedsCap } from './span-cost.js';
import {
  boundProperties,
  DEFAULT_PROPERTY_LIMITS,
  type PropertyDropReason,
  type PropertyLimits,
} from './properties.js';
import { type CallRow, type TraceRow, toCallRow, toTraceRow } from './rows.js';
import { CALL_LIMITS, checkCall } from './validate.js';

export interface BuiltRows {
  traces: TraceRow[];
  calls: CallRow[];
  rejected: SpanRejection[];
  /** Custom properties dropped from kept calls (the call itself is kept). */
  droppedProperties: { spanId: string; name: string; reason: PropertyDropReason }[];
  /** Costs on spans not believed: the call was priced here instead (the call is kept). */
  refusedCosts: { spanId: string; reason: CostRefusal; claimUsd: string }[];
}

/** TOKENMETER_TTL_DAYS's default: how long raw spans and calls are kept. */
export const DEFAULT_RETENTION_DAYS = 90;

/** Attributes on an ai_calls row whose span claimed a cost that was not believed. */
export const ATTR_COST_REFUSED = 'tokenmeter.cost.refused';
export const ATTR_COST_CLAIMED_USD = 'tokenmeter.cost.claimed_usd';

/**
 * Decoded spans → rows for `otel_traces` and `ai_calls`, for one tenant.
 * A span with an unacceptable field is rejected whole (neither row), with its reason;
 * so is a span that starts more than 1 h ahead or before the raw retention.
 */
export function buildRows(
  spans: SpanInput[],
  tenantOf: (span: SpanInput) => string,
  pricer: IngestPricer,
  nowMs: number,
  propertyLimits: PropertyLimits = DEFAULT_PROPERTY_LIMITS,
  retentionDays: number = DEFAULT_RETENTION_DAYS,
): BuiltRows {
  const oldestMs = nowMs - retentionDays * 86_400_000;
  const out: BuiltRows = { traces: [], calls: [], rejected: [], droppedProperties: [], refusedCosts: [] };
  for (const span of spans) {
    const startMs = Number(span.startTimeUnixNano / 1_000_000n);
    if (startMs > nowMs + CALL_LIMITS.maxFutureMs) {
      out.rejected.push({
        reason: 'future_timestamp',
        detail: `span ${span.spanId} starts ${new Date(startMs).toISOString()}, more than 1 h ahead`,
      });
      continue;
    }
    // Raw rows older than the retention are dropped by the TTL as soon as they are written,
    // while the rollups would keep them: refuse such a span, so raw and rollups never disagree.
    if (startMs < oldestMs) {
      out.rejected.push({
        reason: 'beyond_retention',
        detail: `span ${span.spanId} starts ${new Date(startMs).toISOString()}, older than the ${retentionDays}-day retention (TOKENMETER_TTL_DAYS)`,
      });
      continue;
    }
    const tenant = tenantOf(span);
    const call = normalizeSpan(span);
    if (call) {
      const problem = checkCall(call, nowMs);
      if (problem) {
        out.rejected.push({ reason: problem.reason, detail: `span ${span.spanId}: ${problem.detail}` });
        continue;
      }
      const cost = pricer.cost(call, tenant);
      if (cost.usd !== null && exceedsCap(cost.usd, pricer.bounds)) {
        out.rejected.push({
          reason: 'cost_above_cap',
          detail: `span ${span.spanId}: costs ${cost.usd} USD, more than ${pricer.bounds.maxCallUsd} USD a call`,
        });
        continue;
      }
      let attributes = span.attributes;
      if (cost.refused) {
        out.refusedCosts.push({ spanId: span.spanId, ...cost.refused });
        attributes = Object.assign(Object.create(null) as typeof attributes, attributes, {
          [ATTR_COST_REFUSED]: cost.refused.reason,
          [ATTR_COST_CLAIMED_USD]: cost.refused.claimUsd,
        });
      }
      const { kept, dropped } = boundProperties(call.properties, propertyLimits);
      for (const d of dropped) out.droppedProperties.push({ spanId: span.spanId, ...d });
      out.calls.push(toCallRow({ ...call, properties: kept }, tenant, cost, attributes));
    }
    out.traces.push(toTraceRow(span, tenant));
  }
  return out;
}
