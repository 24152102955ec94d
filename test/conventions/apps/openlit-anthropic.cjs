// OpenLIT on the real @anthropic-ai/sdk. Anthropic reports input_tokens WITHOUT the cache, and
// OpenLIT copies it to gen_ai.usage.input_tokens as is (its wrapper says so), next to the cache
// read and creation counts. Pricing inline as in openlit.cjs: Anthropic's published prices.
// The SDK's own spans are off unless the test turns them on (ANTHROPIC_OPEN_TELEMETRY=true) to
// show two instrumentations on one call.
'use strict';
process.env.ANTHROPIC_OPEN_TELEMETRY ??= 'false';
const { trace } = require('@opentelemetry/api');
const { env } = require('./common.cjs');
const anthropic = require('@anthropic-ai/sdk');
const { Openlit } = require('openlit');

const PRICING = {
  chat: {
    'claude-haiku-4-5-20251001': {
      promptPrice: 0.001,
      completionPrice: 0.005,
      cacheReadPrice: 0.0001,
      cacheCreationPrice: 0.00125,
    },
  },
};

Openlit.init({
  applicationName: env('SERVICE'),
  otlpEndpoint: env('OTLP_URL'),
  otlpHeaders: { authorization: `Bearer ${env('OTLP_KEY')}` },
  customSpanAttributes: { 'tokenmeter.tenant': env('TENANT') },
  disableBatch: true,
  disableMetrics: true,
  disableEvents: true,
  // OpenLIT also loads OTel's HTTP client instrumentations when they are installed (they are,
  // through @mastra/core's dependencies): their HTTP spans are not what this test counts.
  disabledInstrumentors: ['http', 'undici'],
  pricingJson: PRICING,
  instrumentations: { anthropic },
});

(async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const Anthropic = anthropic.Anthropic ?? anthropic.default;
  const client = new Anthropic({ apiKey: 'sk-ant-replay', baseURL: env('REPLAY_URL'), maxRetries: 0 });
  const params = {
    model: 'claude-haiku-4-5-20251001',
    max_tokens: 256,
    messages: [{ role: 'user', content: 'What is the capital of France?' }],
  };
  await client.messages.create(params);
  const stream = await client.messages.create({ ...params, stream: true });
  for await (const _event of stream) {
    // drain: the final usage comes with message_delta
  }
  await client.messages.create(params, { headers: { 'x-replay-scenario': 'cache' } });
  await trace.getTracerProvider().getDelegate().shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
