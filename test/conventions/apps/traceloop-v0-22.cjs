// OpenLLMetry before its move to the current names: @traceloop/instrumentation-openai 0.22 (installed as
// traceloop-openai-v0-22) writes llm.* and gen_ai.usage.prompt_tokens/completion_tokens.
'use strict';
const { startTracing, openaiClient, openaiCalls } = require('./common.cjs');

const provider = startTracing();
const { OpenAIInstrumentation } = require('traceloop-openai-v0-22');
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
