/**
 * `@opentelemetry/api`, loaded on first use. Start-up is paid by every process and most never
 * touch OpenTelemetry: the API alone is 44 files (25–30 ms of CPU on Node 20). Every copy of the
 * API (1.x) keeps its globals (context manager, propagator, tracer provider, diag logger) on one
 * `globalThis` property, read on each use and never at load (globals.ts watches that read).
 */
export type OtelApi = typeof import('@opentelemetry/api');

/** The key every copy of @opentelemetry/api 1.x keeps its globals under (its internal/global-utils). */
export const API_GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

let api: OtelApi | undefined;

export function otelApi(): OtelApi {
  return (api ??= require('@opentelemetry/api') as OtelApi);
}

/** What some copy of the API has registered so far, read without counting as a use (globals.ts). */
export function apiGlobals(): Record<string, unknown> | undefined {
  const d = Object.getOwnPropertyDescriptor(globalThis, API_GLOBAL_KEY);
  return d && 'value' in d ? (d.value as Record<string, unknown> | undefined) : undefined;
}

/**
 * diag.warn/error. Nobody can be listening before some copy of the API has registered a global
 * (a diag logger is one), so until then the API is not loaded for it.
 */
export function diagLog(level: 'warn' | 'error', message: string): void {
  if (apiGlobals() === undefined) return;
  otelApi().diag[level](message);
}
