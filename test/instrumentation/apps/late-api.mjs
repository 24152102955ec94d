// For late-api.test.ts: an ES module that first uses OpenTelemetry late, after start-up (when
// register has loaded none of it). PROVIDER=after registers the app's own tracer provider once
// the API is loaded; PROVIDER=before means own-provider-first.cjs did it before register ran.
// Prints what it saw; its spans go to OTEL_EXPORTER_OTLP_ENDPOINT.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);
const otelBefore = Object.keys(require.cache).filter((f) => f.includes('/@opentelemetry/'));
await sleep(5);
const api = await import('@opentelemetry/api');
const { context, createContextKey, propagation, trace } = api;
let provider;
if (process.env.PROVIDER === 'after') {
  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'late-api-app' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
}
const key = createContextKey('late-api.value');
const seen = await context.with(context.active().setValue(key, 'kept'), async () => {
  await sleep(5);
  return context.active().getValue(key);
});
const { start, withUsageContext } = await import('@tokenmeter/instrumentation');
const { default: OpenAI } = await import('openai');
const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${process.env.REPLAY_URL}/v1` });
const appSpan = await trace.getTracer('late-api-app').startActiveSpan('app operation', async (span) => {
  await withUsageContext({ tenant: 'acme', feature: 'late-api' }, () =>
    openai.chat.completions.create({ model: process.env.OPENAI_MODEL, messages: [{ role: 'user', content: 'Hi' }] }),
  );
  const recording = span.isRecording();
  span.end();
  return { recording, spanId: span.spanContext().spanId };
});
await start().flush();
await provider?.shutdown();
console.log(JSON.stringify({ otelBefore, seen, propagated: propagation.fields(), appSpan }));
