// The usual OpenTelemetry set-up a peer's instrumentations are documented with: the ESM hook
// (import-in-the-middle, so that `import 'openai'` is patched), then a NodeSDK exporting traces
// over OTLP/HTTP protobuf, the same protocol tokenmeter uses by default.
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';

const require = createRequire(import.meta.url);

/**
 * Registers the ESM hook of the `@opentelemetry/instrumentation` copy that `pkg` uses (each
 * peer pins its own, and a hook only serves its own copy of import-in-the-middle), once per copy.
 */
export function registerEsmHook(pkg) {
  const hook = createRequire(require.resolve(pkg)).resolve('@opentelemetry/instrumentation/hook.mjs');
  registered ??= new Set();
  if (registered.has(hook)) return;
  registered.add(hook);
  register(pathToFileURL(hook));
}
let registered;

export function startNodeSdk(instrumentations) {
  new NodeSDK({ traceExporter: new OTLPTraceExporter(), instrumentations }).start();
}
