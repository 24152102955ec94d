import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's own metrics, exposed at /metrics in Prometheus text format. */
export function createMetrics() {
  const registry = new Registry();
  const spoolAge = { source: (): number => 0 };
  collectDefaultMetrics({ register: registry, prefix: 'tokenmeter_process_' });
  const m = {
    registry,
    spansReceived: new Counter({
      name: 'tokenmeter_spans_received_total',
      help: 'Spans received in OTLP requests',
      registers: [registry],
    }),
    spansAccepted: new Counter({
      name: 'tokenmeter_spans_accepted_total',
      help: 'Spans accepted and written',
      registers: [registry],
    }),
    spansRejected: new Counter({
      name: 'tokenmeter_spans_rejected_total',
      help: 'Spans rejected, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    valuesRepaired: new Counter({
      name: 'tokenmeter_values_repaired_total',
      help: 'Values in accepted spans changed at the door so ClickHouse takes them (lone surrogate or invalid UTF-8 → U+FFFD, empty or repeated attribute key), by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    spanCostsRefused: new Counter({
      name: 'tokenmeter_span_costs_refused_total',
      help: 'Costs on spans not believed (not a decimal, above TOKENMETER_MAX_CALL_COST_USD, or outside TOKENMETER_SPAN_COST_FACTOR of the catalogue price); the call was priced at ingest instead. By reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    requestsRejected: new Counter({
      name: 'tokenmeter_requests_rejected_total',
      help: 'Whole OTLP requests rejected, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    aiCalls: new Counter({
      name: 'tokenmeter_ai_calls_total',
      help: 'AI calls written, by cost source (span, ingest, unpriced)',
      labelNames: ['cost_source'] as const,
      registers: [registry],
    }),
    gatewayRequests: new Counter({
      name: 'tokenmeter_gateway_requests_total',
      help: 'Requests through the gateway, by route and kind (call: an AI call recorded; passed: forwarded unread; refused: answered by the gateway itself)',
      labelNames: ['route', 'kind'] as const,
      registers: [registry],
    }),
    gatewayRefused: new Counter({
      name: 'tokenmeter_gateway_refused_total',
      help: 'Gateway requests answered by the gateway instead of the provider, by reason (missing_key, wrong_key, rate_limited, budget_exceeded, body_too_large, upstream_unreachable, unknown_route)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    gatewayUnrecorded: new Counter({
      name: 'tokenmeter_gateway_unrecorded_total',
      help: 'Gateway calls whose row the write path refused (spool full or shutting down) or could not be built (a bug, logged); the call itself went through',
      registers: [registry],
    }),
    propertiesDropped: new Counter({
      name: 'tokenmeter_properties_dropped_total',
      help: 'Custom properties dropped from calls, by reason (too_many, name_too_long, invalid_name, value_too_long)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    dedupHits: new Counter({
      name: 'tokenmeter_dedup_hits_total',
      help: 'Spans dropped as already counted, by where the duplicate was found',
      labelNames: ['where'] as const,
      registers: [registry],
    }),
    batchesWritten: new Counter({
      name: 'tokenmeter_batches_written_total',
      help: 'Batches written to ClickHouse',
      registers: [registry],
    }),
    batchFailures: new Counter({
      name: 'tokenmeter_batch_failures_total',
      help: 'Batch write attempts that failed',
      registers: [registry],
    }),
    insertSeconds: new Histogram({
      name: 'tokenmeter_insert_duration_seconds',
      help: 'Time to write one batch to ClickHouse',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'tokenmeter_auth_failures_total',
      help: 'Requests refused for a missing or wrong key, or a role that may not',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    pendingRows: new Gauge({
      name: 'tokenmeter_pending_rows',
      help: 'Rows waiting for the next batch',
      registers: [registry],
    }),
    spoolBytes: new Gauge({
      name: 'tokenmeter_spool_bytes',
      help: 'Bytes in the local spool not yet written to ClickHouse',
      registers: [registry],
    }),
    spoolRecords: new Gauge({
      name: 'tokenmeter_spool_records',
      help: 'Batches in the local spool not yet written to ClickHouse',
      registers: [registry],
    }),
    spoolAgeSeconds: new Gauge({
      name: 'tokenmeter_spool_age_seconds',
      help: 'Age of the oldest batch in the local spool (0 when empty)',
      registers: [registry],
      collect() {
        this.set(spoolAge.source());
      },
    }),
    /** Where the spool age gauge reads from at each scrape (the writer sets it). */
    spoolAge,
    spoolFull: new Counter({
      name: 'tokenmeter_spool_full_total',
      help: 'Batches refused because the spool was full (answered 503 with Retry-After)',
      registers: [registry],
    }),
    spoolQuarantined: new Counter({
      name: 'tokenmeter_spool_quarantined_total',
      help: 'Spans ClickHouse refused as data (after splitting their batch), moved to the spool quarantine/ folder, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'tokenmeter_rate_limited_total',
      help: 'Requests answered 429 by the per-key rate limit',
      registers: [registry],
    }),
    alertTransitions: new Counter({
      name: 'tokenmeter_alert_transitions_total',
      help: 'Alerts raised and resolved by the budget and anomaly evaluator, by alertname and state',
      labelNames: ['alertname', 'state'] as const,
      registers: [registry],
    }),
    evaluatorErrors: new Counter({
      name: 'tokenmeter_evaluator_errors_total',
      help: 'Evaluation rounds that failed, and alert deliveries Alertmanager did not accept, by where',
      labelNames: ['where'] as const,
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
