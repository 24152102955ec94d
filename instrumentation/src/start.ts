import { configure } from './core/config.js';
import { DeferredSpanExporter, DeferredTracerProvider } from './core/deferred.js';
import { recordFault } from './core/faults.js';
import { setGlobalsOnFirstUse } from './core/globals.js';
import { apiGlobals, diagLog, otelApi } from './core/otel-api.js';
import { registry } from './core/registry.js';
import { watchUnseenCalls } from './core/unseen-calls.js';
import { watchInstrumentedPackages } from './instrumentations/lazy.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { InstrumentationOptions } from './types.js';

export interface StartOptions extends InstrumentationOptions {
  /** Defaults to process.env (OTEL_* variables). */
  env?: NodeJS.ProcessEnv;
}

export interface Started {
  /** Export what is buffered now. */
  flush(): Promise<void>;
  /** Flush, then stop the provider tokenmeter started (if it started one). */
  shutdown(): Promise<void>;
  /** 'own' when tokenmeter started a tracer provider, 'app' when the app has its own, 'none' when disabled. */
  tracing: 'own' | 'app' | 'none';
}

const STARTED = Symbol.for('@tokenmeter/instrumentation.started');

/**
 * What `register` runs: hook the SDKs, then export spans with the OTLP exporters, configured
 * by the standard OTEL_* variables, unless the app runs its own tracer provider.
 * Idempotent; never throws.
 *
 * Start-up is paid by every process, most of which (a serverless cold start, a job) may never
 * make an AI call: nothing is loaded before it is needed. An SDK's patch module (with the span,
 * pricing and stream code) loads when that SDK does (instrumentations/lazy.ts); OpenTelemetry's
 * API and the context manager when that patch loads or anything first uses the API
 * (core/globals.ts); the tracing SDK on the first span; the configured exporter, and only that
 * one, on the first export; the price catalogue on the first call it prices; the budget guard
 * only when configured (core/deferred.ts).
 */
export function start(options: StartOptions = {}): Started {
  // Once per process, also when a bundled copy of this package calls it again (core/registry.ts).
  const shared = registry() as { [STARTED]?: Started };
  if (shared[STARTED]) return shared[STARTED];
  const env = options.env ?? process.env;
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') {
    (require('./core/enabled.js') as typeof import('./core/enabled.js')).setInstrumentationEnabled(false);
    shared[STARTED] = { flush: async () => {}, shutdown: async () => {}, tracing: 'none' };
    return shared[STARTED];
  }
  registry().started = true;
  diagnosticsFromEnv(env);
  configure(options);
  if (env.TOKENMETER_BUDGET_GUARD?.toLowerCase() === 'true') {
    try {
      (require('./guard/budget-guard.js') as typeof import('./guard/budget-guard.js')).budgetGuardFromEnv(env);
    } catch (err) {
      recordFault('budget-guard.start', err);
    }
  }
  try {
    watchInstrumentedPackages();
  } catch (err) {
    recordFault('start.instrumentations', err);
  }
  // The context manager and propagator: now if the API is in use already, else on its first use.
  setGlobalsOnFirstUse();
  // A model API request that no wrapper of ours saw: said once (an SDK bundled or loaded too early).
  watchUnseenCalls();
  let provider: DeferredTracerProvider | undefined;
  const exporterName = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',')[0]?.trim().toLowerCase();
  registry().tracesOff = exporterName === 'none';
  if (!hasGlobalProvider() && exporterName !== 'none') {
    try {
      const createExporter = traceExporter(exporterName, env);
      provider = new DeferredTracerProvider(() => {
        const base = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
        return new base.BasicTracerProvider({
          resource: resource(env),
          spanProcessors: [new base.BatchSpanProcessor(new DeferredSpanExporter(createExporter))],
        });
      });
      // Kept private (not registered globally): an app that starts its own NodeSDK later still
      // can, and our spans then go to its provider (see core/tracer.ts).
      registry().fallbackProvider = provider;
    } catch (err) {
      recordFault('start.provider', err);
    }
  }
  const metricsProvider = startMetrics(env);
  const flush = async () => {
    await Promise.allSettled([provider?.forceFlush(), metricsProvider?.forceFlush()]);
  };
  const shutdown = async () => {
    await Promise.allSettled([provider?.shutdown(), metricsProvider?.shutdown()]);
  };
  const started: Started = { flush, shutdown, tracing: provider ? 'own' : hasGlobalProvider() ? 'app' : 'none' };
  shared[STARTED] = started;
  flushOnExit(flush);
  return started;
}

/** True when the app has registered a tracer provider: before anyone used the API, none (and it is not loaded). */
function hasGlobalProvider(): boolean {
  if (apiGlobals() === undefined) return false;
  return (require('./core/tracer.js') as typeof import('./core/tracer.js')).hasGlobalProvider();
}

/** OTEL_LOG_LEVEL (none, error, warn, info, debug, verbose, all), as the OTel SDKs read it. */
function diagnosticsFromEnv(env: NodeJS.ProcessEnv): void {
  const name = env.OTEL_LOG_LEVEL?.trim().toUpperCase();
  if (!name) return;
  const { DiagConsoleLogger, DiagLogLevel, diag } = otelApi();
  const level = DiagLogLevel[name as keyof typeof DiagLogLevel];
  if (level === undefined) {
    process.emitWarning(
      `OTEL_LOG_LEVEL=${env.OTEL_LOG_LEVEL} is not a level (none, error, warn, info, debug, verbose, all)`,
      'TokenmeterWarning',
    );
    return;
  }
  if (level !== DiagLogLevel.NONE)
    diag.setLogger(new DiagConsoleLogger(), { logLevel: level, suppressOverrideMessage: true });
}

/** A configuration problem at start-up: once, on stderr as a process warning, and in the OTel diag log. */
function configWarning(message: string): void {
  diagLog('warn', `@tokenmeter/instrumentation: ${message}`);
  process.emitWarning(message, 'TokenmeterWarning');
}

function resource(env: NodeJS.ProcessEnv) {
  const { detectResources, envDetector, processDetector, resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the env detector.
  const detected = detectResources({ detectors: [envDetector, processDetector] });
  const fallback = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME ?? `unknown_service:${process.argv0}`,
    'telemetry.distro.name': '@tokenmeter/instrumentation',
  });
  return fallback.merge(detected);
}

function protocolOf(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS'): string {
  return (env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
}

/**
 * How to make the configured span exporter, decided (and any configuration problem said) now,
 * the exporter itself loaded on the first export: only that one exporter's packages are loaded.
 */
function traceExporter(name: string | undefined, env: NodeJS.ProcessEnv): () => SpanExporter {
  if (name === 'console') {
    return () =>
      new (
        require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base')
      ).ConsoleSpanExporter();
  }
  // Endpoint, headers, timeout and compression come from OTEL_EXPORTER_OTLP_* in the exporters.
  const protocol = protocolOf(env, 'TRACES');
  if (protocol === 'http/json') {
    return () => new (require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter)();
  }
  if (protocol === 'grpc') {
    if (hasOptional('@opentelemetry/exporter-trace-otlp-grpc')) {
      return () => new (require('@opentelemetry/exporter-trace-otlp-grpc').OTLPTraceExporter)();
    }
  } else if (protocol !== 'http/protobuf') {
    configWarning(`unknown OTLP protocol ${protocol} (grpc, http/protobuf, http/json); exporting with http/protobuf`);
  }
  return () => new (require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter)();
}

/**
 * gRPC export is an optional peer dependency: `@grpc/grpc-js` is a sizeable addition to every
 * instrumented app, so it is loaded only when OTEL_EXPORTER_OTLP_PROTOCOL=grpc asks for it and
 * the app has installed the exporter. Without it: one clear warning, then http/protobuf.
 */
function hasOptional(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    configWarning(
      `OTLP protocol grpc needs ${pkg} beside @tokenmeter/instrumentation (npm install ${pkg}); ` +
        'exporting with http/protobuf instead',
    );
    return false;
  }
}

function optionalGrpc(pkg: string): any {
  return hasOptional(pkg) ? require(pkg) : undefined;
}

function startMetrics(env: NodeJS.ProcessEnv): { forceFlush(): Promise<void>; shutdown(): Promise<void> } | undefined {
  const name = env.OTEL_METRICS_EXPORTER?.split(',')[0]?.trim().toLowerCase();
  if (!name || name === 'none') return undefined;
  try {
    const { enableMetrics } = require('./core/metrics.js') as typeof import('./core/metrics.js');
    const global = otelApi().metrics.getMeterProvider() as { constructor?: { name?: string } };
    if (global.constructor?.name !== 'NoopMeterProvider') {
      enableMetrics();
      return undefined;
    }
    const sdk = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
    let exporter: import('@opentelemetry/sdk-metrics').PushMetricExporter;
    if (name === 'console') exporter = new sdk.ConsoleMetricExporter();
    else {
      const protocol = protocolOf(env, 'METRICS');
      const grpc = protocol === 'grpc' ? optionalGrpc('@opentelemetry/exporter-metrics-otlp-grpc') : undefined;
      if (grpc) exporter = new grpc.OTLPMetricExporter();
      else if (protocol === 'http/json') {
        exporter = new (require('@opentelemetry/exporter-metrics-otlp-http').OTLPMetricExporter)();
      } else exporter = new (require('@opentelemetry/exporter-metrics-otlp-proto').OTLPMetricExporter)();
    }
    const provider = new sdk.MeterProvider({
      resource: resource(env),
      readers: [
        new sdk.PeriodicExportingMetricReader({
          exporter,
          exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000),
        }),
      ],
    });
    enableMetrics(provider);
    return provider;
  } catch (err) {
    recordFault('start.metrics', err);
    return undefined;
  }
}

/**
 * Flush when the event loop empties, and on SIGTERM/SIGINT. A signal the app does not handle
 * itself still ends the process as it would have (the signal is raised again after the flush);
 * a signal the app handles is left to the app.
 */
function flushOnExit(flush: () => Promise<void>): void {
  let flushing = false;
  process.on('beforeExit', () => {
    if (flushing) return;
    flushing = true;
    void flush();
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      const appHandles = process.listenerCount(signal) > 1;
      let finished = false;
      const done = () => {
        if (finished || appHandles) return;
        finished = true;
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      };
      const timeout = setTimeout(done, 2000);
      timeout.unref?.();
      flush().then(() => {
        clearTimeout(timeout);
        done();
      }, done);
    };
    process.on(signal, onSignal);
  }
}
