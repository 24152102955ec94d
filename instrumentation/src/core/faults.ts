import { diagLog } from './otel-api.js';
import { registry } from './registry.js';

/**
 * Our own faults: caught, counted and logged once per kind. The application never sees them.
 * Counted per process (on the registry), whichever copy of this module records them: register's
 * bundle (scripts/bundle-register.mjs) has one, the package's own files another.
 */
const counts = (): Map<string, number> => (registry().faults ??= new Map());

export function recordFault(where: string, err: unknown): void {
  const n = counts().get(where) ?? 0;
  counts().set(where, n + 1);
  if (n === 0) {
    const message = err instanceof Error ? err.message : String(err);
    diagLog('error', `@tokenmeter/instrumentation: fault in ${where} (logged once, counted after): ${message}`);
    if (process.env.TOKENMETER_DEBUG === 'true') console.error('[tokenmeter]', where, err);
  }
}

/** Faults so far, by where they happened. */
export function faultCounts(): Record<string, number> {
  return Object.fromEntries(counts());
}

export function resetFaults(): void {
  counts().clear();
}
