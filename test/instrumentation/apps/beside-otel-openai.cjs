// A CommonJS app that already traces with OpenTelemetry — its own tracer provider and
// @opentelemetry/instrumentation-openai, enabled the documented way (registerInstrumentations
// before it requires openai) — now also run under `node -r @tokenmeter/instrumentation/register`.
// It makes a plain and a streamed chat call.
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'beside-otel' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()] });
const { OpenAI } = require('openai');

async function main() {
  const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${process.env.REPLAY_URL}/v1`, maxRetries: 0 });
  const plain = await openai.chat.completions.create({
    model: process.env.OPENAI_MODEL,
    messages: [{ role: 'user', content: 'Hi' }],
  });
  const stream = await openai.chat.completions.create({
    model: process.env.OPENAI_MODEL,
    messages: [{ role: 'user', content: 'Hi' }],
    stream: true,
  });
  let text = '';
  const seen = new Set();
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    seen.add(chunk.usage === undefined ? 'absent' : chunk.usage === null ? 'null' : 'usage');
  }
  await provider.shutdown();
  console.log(JSON.stringify({ plain: plain.choices[0]?.message.content, text, seen: [...seen] }));
}
main();
