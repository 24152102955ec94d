// For late-api.test.ts: late-api.mjs as a CommonJS app (`require` of the API, late).
const { setTimeout: sleep } = require('node:timers/promises');

async function main() {
  const otelBefore = Object.keys(require.cache).filter((f) => f.includes('/@opentelemetry/'));
  await sleep(5);
  const { context, createContextKey, propagation, trace } = require('@opentelemetry/api');
  let provider;
  if (process.env.PROVIDER === 'after') {
    const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
    const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    const { resourceFromAttributes } = require('@opentelemetry/resources');
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
  const { withUsageContext, start } = require('@tokenmeter/instrumentation');
  const OpenAI = require('openai');
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
}
main();
