import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { registry } from './registry.js';

export const SCOPE_NAME = '@tokenmeter/instrumentation';
export const SCOPE_VERSION = '0.1.0';

/**
 * Which tracer our spans go to. An explicit provider (an instrumentation class given one by
 * NodeSDK) wins; then the app's global provider once it has one; until then the provider
 * `register` started, kept private so that an app starting its own NodeSDK later still can.
 * The explicit and fallback providers live in the process-wide registry, so that a copy of
 * this package bundled into a route uses the provider `register` started (registry.ts).
 */
let lastDelegate: unknown;
let lastExplicit: TracerProvider | undefined;
let lastFallback: TracerProvider | undefined;
let cached: Tracer | undefined;
let cachedIsNoop = true;

export function setExplicitTracerProvider(p: TracerProvider | undefined): void {
  registry().explicitProvider = p;
}

export function setFallbackTracerProvider(p: TracerProvider | undefined): void {
  registry().fallbackProvider = p;
}

export function currentTracer(): Tracer {
  const { explicitProvider, fallbackProvider } = registry();
  const global = trace.getTracerProvider() as TracerProvider & {
    getDelegate?: () => TracerProvider;
  };
  const delegate = global.getDelegate ? global.getDelegate() : global;
  if (cached && delegate === lastDelegate && explicitProvider === lastExplicit && fallbackProvider === lastFallback) {
    return cached;
  }
  lastDelegate = delegate;
  lastExplicit = explicitProvider;
  lastFallback = fallbackProvider;
  const chosen = explicitProvider ?? (isNoop(delegate) && fallbackProvider ? fallbackProvider : global);
  cachedIsNoop = chosen === global && isNoop(delegate);
  cached = chosen.getTracer(SCOPE_NAME, SCOPE_VERSION);
  return cached;
}

/** False when our spans go nowhere: no provider of ours, of the app's, or given by NodeSDK. */
export function isTracingConfigured(): boolean {
  currentTracer();
  return !cachedIsNoop;
}

/** True when the app has registered a tracer provider of its own. */
export function hasGlobalProvider(): boolean {
  const global = trace.getTracerProvider() as TracerProvider & {
    getDelegate?: () => TracerProvider;
  };
  return !isNoop(global.getDelegate ? global.getDelegate() : global);
}

function isNoop(p: unknown): boolean {
  return (p as { constructor?: { name?: string } })?.constructor?.name === 'NoopTracerProvider';
}
