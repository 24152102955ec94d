// An example app for the compose stack: every few seconds it makes a (simulated) AI call and
// exports the span the way tokenmeter's instrumentation would, with OpenTelemetry GenAI
// attributes, over OTLP to the collector (OTEL_EXPORTER_OTLP_ENDPOINT). No provider key needed.
// A real app loads the instrumentation instead: `node --import @tokenmeter/instrumentation/register app.js`.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'example-chat' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
const tracer = trace.getTracer('tokenmeter-example-app');

const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o'],
  ['anthropic', 'claude-haiku-4-5'],
];
const USERS = ['alice', 'bob', 'carol'];
const FEATURES = ['chat', 'summarize'];
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

function call() {
  const [provider, model] = pick(MODELS);
  const span = tracer.startSpan(`chat ${model}`, { kind: SpanKind.CLIENT });
  const input = 200 + Math.floor(Math.random() * 2000);
  const cached = Math.random() < 0.3 ? Math.floor(input / 2) : 0;
  span.setAttributes({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': model,
    'gen_ai.response.model': model,
    'gen_ai.usage.input_tokens': input,
    'gen_ai.usage.output_tokens': 50 + Math.floor(Math.random() * 500),
    'gen_ai.usage.cache_read.input_tokens': cached,
    'user.id': pick(USERS),
    'tokenmeter.team': 'demo',
    'tokenmeter.feature': pick(FEATURES),
  });
  if (Math.random() < 0.02) span.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
  setTimeout(() => span.end(), 300 + Math.random() * 1500);
}

setInterval(call, Number(process.env.EXAMPLE_INTERVAL_MS ?? 3000));
process.on('SIGTERM', () => provider.shutdown().finally(() => process.exit(0)));
