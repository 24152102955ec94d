// OpenInference: @arizeai/openinference-instrumentation-openai drives the real openai SDK.
'use strict';
const { startTracing, openaiClient, openaiCalls } = require('./common.cjs');

const provider = startTracing();
const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
const instrumentation = new OpenAIInstrumentation();
instrumentation.setTracerProvider(provider);
const openai = require('openai');
instrumentation.manuallyInstrument(openai);

(async () => {
  await openaiCalls(openaiClient(openai));
  await provider.shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
