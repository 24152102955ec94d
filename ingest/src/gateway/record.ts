import type { HrTime, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Attributes, SpanInput } from '@tokenmeter/instrumentation/normalize';
import { ATTR_TM_TENANT } from '@tokenmeter/instrumentation/semconv';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { buildRows } from '../pipeline/build.js';
import type { IngestPricer } from '../pipeline/pricing.js';
import type { PropertyLimits } from '../pipeline/properties.js';
import type { CallRow, TraceRow } from '../pipeline/rows.js';
import type { BatchWriter } from '../pipeline/writer.js';

/** Told of each call's row (its cost) once it is built, and when the row is written. */
export interface RowListener {
  built(spanId: string, row: CallRow | undefined): void;
  written(spanId: string): void;
}

export interface RecorderDeps {
  writer: BatchWriter;
  pricer: IngestPricer;
  metrics: Metrics;
  log: Logger;
  limits: PropertyLimits;
  retentionDays: number;
  listener?: RowListener;
  env: NodeJS.ProcessEnv;
}

/**
 * The gateway's calls are spans of the instrumentation's own lifecycle (`startCall`), on a
 * tracer provider of the gateway's: each ended span is turned into rows by the pipeline's
 * `buildRows` (the same pricing, validation, property bounds as an OTLP span) and handed to the
 * same `BatchWriter` (spool, dedup, rollups); no OTLP round-trip. With an OTLP endpoint in the
 * environment (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT) the spans are exported there as well.
 */
export function gatewayTracer(deps: RecorderDeps): { tracer: Tracer; shutdown(): Promise<void> } {
  const processors: SpanProcessor[] = [new RowsProcessor(deps)];
  if (deps.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || deps.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': deps.env.OTEL_SERVICE_NAME || 'tokenmeter-gateway' }),
    spanProcessors: processors,
  });
  return { tracer: provider.getTracer('@tokenmeter/gateway', '0.1.0'), shutdown: () => provider.shutdown() };
}

/** Calls recorded between looks at the clock. */
const RECORD_SLICE = 16;
/** How long calls are recorded before the event loop turns (answers waiting go first). */
const RECORD_TURN_MS = 1;

/**
 * Rows are built after the loop's I/O callbacks (setImmediate), all calls ended in one turn
 * together: the answers that are ready are forwarded first, and the recording (normalising,
 * pricing, row building, one write) never sits between a response and its caller; past
 * RECORD_SLICE calls, the rest wait for the next turn.
 */
class RowsProcessor implements SpanProcessor {
  private ended: ReadableSpan[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly deps: RecorderDeps) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.ended.push(span);
    this.scheduled ??= setImmediate(() => this.record());
  }

  private record(all = false): void {
    this.scheduled = undefined;
    if (this.ended.length === 0) return;
    if (all || this.ended.length <= RECORD_SLICE) {
      const spans = this.ended;
      this.ended = [];
      this.recordSlice(spans);
      return;
    }
    // Many calls ended in one turn (~60 µs of row building each): slices for up to RECORD_TURN_MS,
    // then answers in between. By time, not a slice a turn: under load a turn can take tens of
    // ms, and calls would be recorded slower than they end.
    const since = performance.now();
    while (this.ended.length > 0 && performance.now() - since < RECORD_TURN_MS) {
      const spans = this.ended.slice(0, RECORD_SLICE);
      this.ended = this.ended.slice(RECORD_SLICE);
      this.recordSlice(spans);
    }
    if (this.ended.length > 0) this.scheduled = setImmediate(() => this.record());
  }

  private recordSlice(spans: ReadableSpan[]): void {
    try {
      this.recordNow(spans);
    } catch (err) {
      // A bug of ours in row building: counted and logged, never a crash of the service (this runs
      // in a setImmediate), and the calls' budget reservations are released.
      const { deps } = this;
      deps.metrics.gatewayUnrecorded.inc(spans.length);
      deps.log.error(
        { err: (err as Error).message, calls: spans.length },
        'gateway calls not recorded: row building failed',
      );
      for (const span of spans) deps.listener?.built(span.spanContext().spanId, undefined);
    }
  }

  private recordNow(spans: ReadableSpan[]): void {
    const { deps } = this;
    const tenants = new Map<string, string>();
    const inputs = spans.map((span) => {
      const input = spanInput(span);
      const t = input.attributes[ATTR_TM_TENANT];
      tenants.set(input.spanId, typeof t === 'string' ? t : 'default');
      return input;
    });
    const built = buildRows(
      inputs,
      (s) => tenants.get(s.spanId) ?? 'default',
      deps.pricer,
      Date.now(),
      deps.limits,
      deps.retentionDays,
    );
    for (const r of built.rejected) {
      deps.metrics.spansRejected.inc({ reason: r.reason });
      deps.log.info({ reason: r.reason, detail: r.detail }, 'gateway call not recorded');
    }
    for (const d of built.droppedProperties) deps.metrics.propertiesDropped.inc({ reason: d.reason });
    const rowOf = new Map(built.calls.map((c) => [c.span_id, c]));
    for (const input of inputs) deps.listener?.built(input.spanId, rowOf.get(input.spanId));
    if (built.traces.length === 0) return;
    handOff(
      deps,
      built.traces,
      built.calls,
      inputs.map((i) => i.spanId),
    );
  }

  forceFlush(): Promise<void> {
    this.flushNow();
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.flushNow();
    return Promise.resolve();
  }

  private flushNow(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.record(true);
  }
}

/**
 * The rows to the writer. Apart from recordNow so that what waits for the insert (to tell the
 * listener) holds the calls' span ids only, not their spans, inputs and rows: those would
 * otherwise outlive young-generation collections and be promoted, for nothing.
 */
function handOff(deps: RecorderDeps, traces: TraceRow[], calls: CallRow[], spanIds: string[]): void {
  const rows = traces.length;
  deps.writer.write(traces, calls).then(
    () => {
      for (const id of spanIds) deps.listener?.written(id);
    },
    (err: Error) => {
      // The callers have their answers already; the rows are lost only when the spool itself refuses.
      deps.metrics.gatewayUnrecorded.inc(rows);
      deps.log.warn({ err: err.message, calls: rows }, 'gateway calls not recorded: the write path refused them');
    },
  );
}

const ns = (t: HrTime): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);

/** A finished SDK span as the pipeline's decoded-span shape (what decodeTraces gives for OTLP). */
export function spanInput(span: ReadableSpan): SpanInput {
  const sc = span.spanContext();
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    traceState: sc.traceState?.serialize() ?? '',
    name: span.name,
    // The API's SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0.
    kind: span.kind + 1,
    startTimeUnixNano: ns(span.startTime),
    endTimeUnixNano: ns(span.endTime),
    attributes: span.attributes as Attributes,
    resource: span.resource.attributes as Attributes,
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version ?? '' },
    status: { code: span.status.code, message: span.status.message ?? '' },
    events: span.events.map((e) => ({
      name: e.name,
      timeUnixNano: ns(e.time),
      attributes: (e.attributes ?? {}) as Attributes,
    })),
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceState: l.context.traceState?.serialize() ?? '',
      attributes: (l.attributes ?? {}) as Attributes,
    })),
  };
}
