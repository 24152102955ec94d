import { context } from '@opentelemetry/api';
import { type Call, type CallSpec, startCall } from './call.js';
import { isInstrumentationEnabled } from './enabled.js';
import { recordFault } from './faults.js';
import { checkGuard, hasGuard } from './guard.js';
import { metricsEnabled } from './metrics.js';
import { registry, warnOnce } from './registry.js';
import { currentTracer, isTracingConfigured } from './tracer.js';
import { getUsageContext } from './usage-context.js';

export { isInstrumentationEnabled, setInstrumentationEnabled } from './enabled.js';

/**
 * What a blocked call returns: every wrapped SDK method returns a promise (a Stainless
 * `APIPromise` for openai and Anthropic), so a block is a rejection, as an API error would be,
 * never a synchronous throw that a `.then()` chain would miss. The SDKs' own promise methods
 * (`withResponse()`, `asResponse()`, `_thenUnwrap()` under `.parse()`/`.stream()`) reject with
 * the same error instead of failing with a TypeError. Off the hot path: only blocked calls.
 */
function rejected(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  const proxy: Promise<never> = new Proxy(promise, {
    get(target, prop) {
      if (prop === 'then' || prop === 'catch' || prop === 'finally') {
        const method = target[prop] as (...args: unknown[]) => unknown;
        return method.bind(target);
      }
      if (prop in target) return Reflect.get(target, prop, target);
      // Any SDK-specific promise method: the same rejection.
      return () => proxy;
    },
  });
  return proxy;
}

/**
 * The one path every wrapped SDK method takes:
 * describe → start span → guard (may stop the call before the provider sees it) → invoke the
 * SDK inside the span's context → observe the result (adapter). Our faults fall back to the
 * bare call; the app's errors pass through unchanged.
 */
export function runCall<T>(
  describe: () => CallSpec | undefined,
  invoke: (call: Call | undefined) => T,
  observe: (result: T, call: Call) => T,
): T {
  if (!isInstrumentationEnabled()) return invoke(undefined);
  let call: Call | undefined;
  try {
    // Nothing would be exported, checked or counted: the bare call (nothing added to the request).
    if (!isTracingConfigured() && !hasGuard() && !metricsEnabled()) {
      // Traces turned off on purpose (OTEL_TRACES_EXPORTER=none, OTEL_SDK_DISABLED) are not a problem to report.
      if (!registry().tracesOff && process.env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true') warnNoTracerProvider();
      return invoke(undefined);
    }
    const spec = describe();
    // The tracer isTracingConfigured() just looked up (cached): not looked up a second time.
    if (spec) call = startCall(spec, context.active(), currentTracer());
  } catch (err) {
    recordFault('call.start', err);
  }
  // No span (disabled, or our fault): the bare call, with nothing added to the request.
  if (!call) return invoke(undefined);
  if (!call.span.isRecording() && !hasGuard() && !metricsEnabled()) {
    // Sampled out: nothing of it is exported, so nothing is added to the request either.
    // (Still in its context: children are sampled out too, and the request is known as seen.)
    call.end();
    return context.with(call.ctx, invoke, undefined, undefined);
  }
  if (hasGuard()) {
    const c = call;
    try {
      // ── Budget guards go here: before the provider is called. ──
      checkGuard(() => ({
        provider: c.spec.provider,
        operation: c.spec.operation,
        requestModel: c.spec.requestModel,
        isStreaming: c.spec.isStreaming,
        context: getUsageContext(),
        span: c.span,
      }));
    } catch (blocked) {
      c.end(blocked);
      return rejected(blocked) as T;
    }
  }
  let result: T;
  try {
    result = context.with(call.ctx, invoke, undefined, call);
  } catch (err) {
    call.end(err);
    throw err;
  }
  try {
    return observe(result, call);
  } catch (err) {
    recordFault('call.observe', err);
    call.end();
    return result;
  }
}

function warnNoTracerProvider(): void {
  warnOnce(
    'no-tracer-provider',
    registry().started
      ? 'an AI call was made but no tracer provider is set up, so it is not recorded. ' +
          'Check OTEL_TRACES_EXPORTER, or start tokenmeter before your own OpenTelemetry SDK.'
      : 'an AI call was instrumented but tokenmeter was never started in this process, so it is not recorded ' +
          '(this copy of @tokenmeter/instrumentation may be bundled). Start it first: ' +
          '`node --import @tokenmeter/instrumentation/register`, or in Next.js an instrumentation.ts that imports ' +
          "'@tokenmeter/instrumentation/register', with '@tokenmeter/instrumentation' in serverExternalPackages; " +
          'or register an OpenTelemetry tracer provider.',
  );
}
