import type { TracerProvider } from '@opentelemetry/api';
import { diagLog } from './otel-api.js';

/**
 * What every copy of @tokenmeter/instrumentation in one process shares. A bundler may put a copy
 * into a route (Next.js, esbuild) beside the one `register` started from node_modules: through
 * this registry, on `globalThis` under a `Symbol.for` key, the copy finds the tracer provider
 * `register` started, and a warning is given once per process, not once per copy.
 */
export interface Registry {
  /** The provider `register` started, kept off the OTel global (see tracer.ts). */
  fallbackProvider: TracerProvider | undefined;
  /** A provider given to one of our instrumentation classes (NodeSDK). */
  explicitProvider: TracerProvider | undefined;
  /** `register`/`start()` ran in this process (in any copy). */
  started: boolean;
  /** The app chose not to export traces (OTEL_TRACES_EXPORTER=none): no warning for that. */
  tracesOff: boolean;
  /** Warnings given, by key. */
  warned: Set<string>;
  /** Our own faults, by where they happened (faults.ts; made on the first). */
  faults?: Map<string, number>;
}

const KEY = Symbol.for('@tokenmeter/instrumentation.registry');

let shared: Registry | undefined;

export function registry(): Registry {
  if (shared) return shared;
  const g = globalThis as { [KEY]?: Registry };
  g[KEY] ??= {
    fallbackProvider: undefined,
    explicitProvider: undefined,
    started: false,
    tracesOff: false,
    warned: new Set(),
  };
  shared = g[KEY];
  return shared;
}

/**
 * A problem that makes tokenmeter record nothing: said once per process, on stderr as a
 * `TokenmeterWarning` process warning and in the OTel diag log, with the fix in the message.
 */
export function warnOnce(key: string, message: string): void {
  const warned = registry().warned;
  if (warned.has(key)) return;
  warned.add(key);
  diagLog('warn', `@tokenmeter/instrumentation: ${message}`);
  process.emitWarning(message, 'TokenmeterWarning');
}
