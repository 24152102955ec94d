/**
 * Shared by the peer apps: a tracer provider that exports with the real OTLP exporter
 * straight to the tokenmeter service, and the OpenAI calls every app makes against the
 * replay server. Plain CommonJS run with `node`, so each peer's require hooks work as
 * they do in a user's application.
 *
 * Environment (set by convention.test.ts):
 *   OTLP_URL, OTLP_KEY   the service's /v1/traces and its bearer key
 *   OTLP_PROTOCOL        proto | json (which real exporter to use)
 *   REPLAY_URL           the replay server (OpenAI base URL is REPLAY_URL + '/v1')
 *   TENANT, SERVICE      resource attributes, so the test finds this app's rows
 *   DUMP_SPANS           when set, print every finished span's attributes (debugging)
 */
'use strict';
const { NodeTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { resourceFromAttributes } = require('@opentelemetry/resources');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function otlpExporter() {
  const pkg =
    env('OTLP_PROTOCOL') === 'json'
      ? require('@opentelemetry/exporter-trace-otlp-http')
      : require('@opentelemetry/exporter-trace-otlp-proto');
  return new pkg.OTLPTraceExporter({ url: env('OTLP_URL'), headers: { authorization: `Bearer ${env('OTLP_KEY')}` } });
}

function resourceAttributes() {
  return { 'service.name': env('SERVICE'), 'tokenmeter.tenant': env('TENANT') };
}

/** Prints spans as JSON lines on stdout when DUMP_SPANS is set. */
const dumpProcessor = {
  onStart() {},
  onEnd(span) {
    if (!process.env.DUMP_SPANS) return;
    process.stdout.write(
      `${JSON.stringify({ name: span.name, scope: span.instrumentationScope?.name, status: span.status, attributes: span.attributes })}\n`,
    );
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** A registered NodeTracerProvider exporting every span at once (SimpleSpanProcessor: nothing waits for a batch timer). */
function startTracing() {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes(resourceAttributes()),
    spanProcessors: [new SimpleSpanProcessor(otlpExporter()), dumpProcessor],
  });
  provider.register();
  return provider;
}

/** An OpenAI client (the `openai` module given) pointed at the replay server. */
function openaiClient(openaiModule) {
  const OpenAI = openaiModule.OpenAI ?? openaiModule.default ?? openaiModule;
  return new OpenAI({ apiKey: 'sk-replay', baseURL: `${env('REPLAY_URL')}/v1`, maxRetries: 0 });
}

const MESSAGES = [{ role: 'user', content: 'What is the capital of France?' }];

/**
 * The calls every OpenAI-driven app makes, one span each: a plain chat call, a streamed
 * one (usage in the last chunk), one whose prompt was read from the cache, one with reasoning
 * tokens (o4-mini), one to a model without a price, one the provider fails, and an embedding.
 */
async function openaiCalls(client, { embeddings = true } = {}) {
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _chunk of stream) {
    // drain: the usage arrives with the last chunk
  }
  await client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: MESSAGES },
    { headers: { 'x-replay-scenario': 'cache' } },
  );
  await client.chat.completions.create(
    { model: 'o4-mini', messages: [{ role: 'user', content: "How many r's are in strawberry?" }] },
    { headers: { 'x-replay-scenario': 'reasoning' } },
  );
  // A model no price list knows (a private deployment): the row must say unpriced, never $0.
  await client.chat.completions.create({ model: 'acme-private-llm-1', messages: MESSAGES });
  // A call the provider fails (500, no retries): the span records the error and no usage.
  await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: MESSAGES }, { headers: { 'x-replay-scenario': 'error-500' } })
    .then(
      () => {
        throw new Error('the replay was asked for a 500');
      },
      () => undefined,
    );
  if (embeddings) await client.embeddings.create({ model: 'text-embedding-3-small', input: 'The capital of France' });
}

module.exports = { env, otlpExporter, resourceAttributes, dumpProcessor, startTracing, openaiClient, openaiCalls };
