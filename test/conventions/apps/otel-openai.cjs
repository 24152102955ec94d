// OpenTelemetry's own @opentelemetry/instrumentation-openai, enabled the documented way
// (registerInstrumentations before the app requires openai: its require hook patches the SDK;
// it has no manual API), driving the real openai SDK.
'use strict';
const { startTracing, openaiClient, openaiCalls } = require('./common.cjs');
// @opentelemetry/instrumentation comes with every instrumentation package (and the OTel SDK).
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');

const provider = startTracing();
registerInstrumentations({ tracerProvider: provider, instrumentations: [new OpenAIInstrumentation()] });
const openai = require('openai');

(async () => {
  const client = openaiClient(openai);
  await openaiCalls(client);
  // Its Responses API spans use the current names (gen_ai.provider.name), chat the older gen_ai.system.
  await client.responses.create({ model: 'gpt-4o-mini', input: 'What is the capital of France?' });
  const stream = await client.responses.create({
    model: 'gpt-4o-mini',
    input: 'What is the capital of France?',
    stream: true,
  });
  for await (const _event of stream) {
    // drain: usage arrives with response.completed
  }
  await provider.shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
