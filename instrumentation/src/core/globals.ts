import { deferredPropagator } from './deferred.js';
import { recordFault } from './faults.js';
import { API_GLOBAL_KEY, otelApi } from './otel-api.js';

/**
 * The OTel globals `register` sets: the context manager (attribution and span parents need one)
 * and the propagator (W3C trace context and baggage). Nothing needs them before some code uses
 * OpenTelemetry, so they are set at that moment, whichever comes first: an instrumented SDK's
 * patch loads (instrumentations/lazy.ts), or any copy of `@opentelemetry/api` first reads its
 * globals (the app's own `context.with` or `trace.getTracer`, its NodeSDK registering, one of
 * tokenmeter's exported functions). A process that does neither loads no OpenTelemetry module.
 *
 * That first read is caught by an accessor on the API's `globalThis` key; the key is made
 * absent again (as it was) before the globals are set, and the read then answered as the API
 * expects. The app's own registrations still come after ours and find ours there, as when ours
 * were set at start: its tracer provider wins (ours is private, core/tracer.ts); a context
 * manager or propagator it sets after is refused by the API as before.
 */
type G = Record<symbol, unknown>;

let pending = false;
let set = false;

/** Set the globals now, or on the API's first use when no copy of it has been used yet. */
export function setGlobalsOnFirstUse(): void {
  if (set || pending) return;
  if (Object.getOwnPropertyDescriptor(globalThis, API_GLOBAL_KEY) !== undefined) {
    setGlobalsNow();
    return;
  }
  pending = true;
  Object.defineProperty(globalThis, API_GLOBAL_KEY, {
    get: onRead,
    set: onWrite,
    configurable: true,
    enumerable: false,
  });
}

/** Set the globals now, if not done (an SDK's patch is loading). */
export function setGlobalsNow(): void {
  if (set) return;
  set = true;
  if (pending) {
    pending = false;
    if (Object.getOwnPropertyDescriptor(globalThis, API_GLOBAL_KEY)?.get === onRead)
      delete (globalThis as G)[API_GLOBAL_KEY];
  }
  try {
    const { context, propagation } = otelApi();
    const { AsyncLocalStorageContextManager } =
      require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
    // Attribution needs a context manager; the app's own, if it set one, wins.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(deferredPropagator());
  } catch (err) {
    recordFault('start.globals', err);
  }
}

function onRead(): unknown {
  setGlobalsNow();
  return (globalThis as G)[API_GLOBAL_KEY];
}

function onWrite(value: unknown): void {
  setGlobalsNow();
  (globalThis as G)[API_GLOBAL_KEY] = value;
}
