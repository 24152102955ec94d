import type {
  Context,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
  Tracer,
  TracerOptions,
  TracerProvider,
} from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { recordFault } from './faults.js';
import { otelApi } from './otel-api.js';

/**
 * Stand-ins that load what they stand for on first use, so that `register` costs a process that
 * never records a span nothing but these few lines (see start.ts).
 */

interface FlushableProvider extends TracerProvider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The tracer provider `register` starts: the tracing SDK is loaded by the first span's getTracer. */
export class DeferredTracerProvider implements TracerProvider {
  private real: FlushableProvider | undefined;
  private failed = false;

  constructor(private readonly create: () => FlushableProvider) {}

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    if (!this.real && !this.failed) {
      try {
        this.real = this.create();
      } catch (err) {
        this.failed = true;
        recordFault('start.provider', err);
      }
    }
    // Could not load: the API's no-op tracer (no global provider is registered by us).
    return (this.real ?? otelApi().trace.getTracerProvider()).getTracer(name, version, options);
  }

  async forceFlush(): Promise<void> {
    await this.real?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.real?.shutdown();
  }
}

/** A span exporter whose packages (protobuf, gRPC, HTTP) are loaded on the first export. */
export class DeferredSpanExporter implements SpanExporter {
  private real: SpanExporter | undefined;

  constructor(private readonly create: () => SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let exporter: SpanExporter;
    try {
      exporter = this.real ??= this.create();
    } catch (err) {
      recordFault('start.exporter', err);
      // ExportResultCode.FAILED (1), without loading @opentelemetry/core for it.
      resultCallback({ code: 1, error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }
    exporter.export(spans, resultCallback);
  }

  async shutdown(): Promise<void> {
    await this.real?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.real?.forceFlush?.();
  }
}

/** W3C trace context and baggage (as the OTel SDKs default to), @opentelemetry/core loaded on first use. */
export function deferredPropagator(): TextMapPropagator {
  let real: TextMapPropagator | undefined;
  const propagator = (): TextMapPropagator => {
    if (!real) {
      const core = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
      real = new core.CompositePropagator({
        propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
      });
    }
    return real;
  };
  return {
    inject: (ctx: Context, carrier: unknown, setter: TextMapSetter) => propagator().inject(ctx, carrier, setter),
    extract: (ctx: Context, carrier: unknown, getter: TextMapGetter) => propagator().extract(ctx, carrier, getter),
    fields: () => propagator().fields(),
  };
}
