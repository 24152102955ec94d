import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

export const SCOPE_NAME = '@tokenmeter/instrumentation';
export const SCOPE_VERSION = '0.1.0';

/**
 * Which tracer our spans go to. An explicit provider (an instrumentation class given one by
 * NodeSDK) wins; then the app's global provider once it has one; until then the provider
 * `register` started, kept private so that an app starting its own NodeSDK later still can.
 */
let explicitProvider: TracerProvider | undefined;
let fallbackProvider: TracerProvider | undefined;
let lastDelegate: unknown;
let cached: Tracer | undefined;

export function setExplicitTracerProvider(p: TracerProvider | undefined): void {
  explicitProvider = p;
  cached = undefined;
}

export function setFallbackTracerProvider(p: TracerProvider | undefined): void {
  fallbackProvider = p;
  cached = undefined;
}

export function currentTracer(): Tracer {
  if (explicitProvider) {
    if (!cached || lastDelegate !== explicitProvider) {
      lastDelegate = explicitProvider;
      cached = explicitProvider.getTracer(SCOPE_NAME, SCOPE_VERSION);
    }
    return cached;
  }
  const global = trace.getTracerProvider() as TracerProvider & {
    getDelegate?: () => TracerProvider;
  };
  const delegate = global.getDelegate ? global.getDelegate() : global;
  if (cached && delegate === lastDelegate) return cached;
  lastDelegate = delegate;
  const useFallback = fallbackProvider !== undefined && isNoop(delegate);
  cached = (useFallback ? (fallbackProvider as TracerProvider) : global).getTracer(SCOPE_NAME, SCOPE_VERSION);
  return cached;
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
