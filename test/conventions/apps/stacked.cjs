// Two instrumentations on one openai client, as happens when an app adds OpenInference while
// OpenTelemetry's own instrumentation is already on: each writes a span for the same call.
'use strict';
const { startTracing, openaiClient } = require('./common.cjs');
const { OpenAIInstrumentation: TraceloopInstrumentation } = require('@traceloop/instrumentation-openai');
const {
  OpenAIInstrumentation: OpenInferenceInstrumentation,
} = require('@arizeai/openinference-instrumentation-openai');

const provider = startTracing();
const openai = require('openai');
const traceloop = new TraceloopInstrumentation();
traceloop.setTracerProvider(provider);
traceloop.manuallyInstrument(openai.OpenAI);
const openinference = new OpenInferenceInstrumentation();
openinference.setTracerProvider(provider);
openinference.manuallyInstrument(openai);

(async () => {
  await openaiClient(openai).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'What is the capital of France?' }],
  });
  await provider.shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
