// OpenLLMetry: @traceloop/instrumentation-openai drives the real openai SDK.
'use strict';
const { startTracing, openaiClient, openaiCalls } = require('./common.cjs');

const provider = startTracing();
const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai');
const instrumentation = new OpenAIInstrumentation({ enrichTokens: false });
instrumentation.setTracerProvider(provider);
const openai = require('openai');
// Its manuallyInstrument takes the OpenAI class, not the module.
instrumentation.manuallyInstrument(openai.OpenAI);

(async () => {
  await openaiCalls(openaiClient(openai));
  await provider.shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
