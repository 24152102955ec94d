// An app that runs its own tracer provider (after the register ran): tokenmeter must not start
// a second one, and its spans must go through the app's provider.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import OpenAI from 'openai';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'own-provider-app' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
const openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${process.env.REPLAY_URL}/v1` });
await openai.chat.completions.create({ model: process.env.OPENAI_MODEL, messages: [{ role: 'user', content: 'Hi' }] });
await provider.shutdown();
