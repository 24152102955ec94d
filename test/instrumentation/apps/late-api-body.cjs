// What late-api.mjs and late-api.cjs do once each has loaded @opentelemetry/api its own way
// (`import` or `require`): `load` loads a package the same way. PROVIDER=after registers the
// app's own tracer provider now; PROVIDER=before means own-provider-first.cjs did it before
// register ran. Prints what it saw; its spans go to OTEL_EXPORTER_OTLP_ENDPOINT.
const { setTimeout: sleep } = require('node:timers/promises');

module.exports = async function lateApiApp(api, load, otelBefore) {
  const { context, createContextKey, propagation, trace } = api;
  let provider;
  if (process.env.PROVIDER === 'after') {
    const { NodeTracerProvider } = await load('@opentelemetry/sdk-trace-node');
    const { BatchSpanProcessor } = await load('@opentelemetry/sdk-trace-base');
    const { OTLPTraceExporter } = await load('@opentelemetry/exporter-trace-otlp-proto');
    const { resourceFromAttributes } = await load('@opentelemetry/resources');
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
  const { start, withUsageContext } = await load('@tokenmeter/instrumentation');
  const sdk = await load('openai');
  const OpenAI = sdk.default ?? sdk;
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
};
