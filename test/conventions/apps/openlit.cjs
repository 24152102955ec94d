// OpenLIT: openlit.init() sets up its own tracer provider and OTLP/HTTP JSON exporter (the
// only one it has) and patches the real openai SDK. Its cost comes from a pricing table it
// normally downloads from GitHub; tests have no network, so the table is given inline in
// OpenLIT's own format (USD per 1,000 tokens), with OpenAI's published prices.
'use strict';
const { trace } = require('@opentelemetry/api');
const { env, openaiClient, openaiCalls } = require('./common.cjs');
const openai = require('openai');
const { Openlit } = require('openlit');

const PRICING = {
  chat: { 'gpt-4o-mini': { promptPrice: 0.00015, completionPrice: 0.0006, cacheReadPrice: 0.000075 } },
  embeddings: { 'text-embedding-3-small': 0.00002 },
};

Openlit.init({
  applicationName: env('SERVICE'),
  otlpEndpoint: env('OTLP_URL'),
  otlpHeaders: { authorization: `Bearer ${env('OTLP_KEY')}` },
  // OpenLIT puts no tenant on its resource; tokenmeter reads it from the span when the key is an admin key.
  customSpanAttributes: { 'tokenmeter.tenant': env('TENANT') },
  disableBatch: true,
  disableMetrics: true,
  disableEvents: true,
  // OpenLIT also loads OTel's HTTP client instrumentations when they are installed (they are,
  // through @mastra/core's dependencies): their HTTP spans are not what this test counts.
  disabledInstrumentors: ['http', 'undici'],
  pricingJson: PRICING,
  instrumentations: { openai },
});

(async () => {
  // init() resolves the pricing table asynchronously, even when it is given inline.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await openaiCalls(openaiClient(openai));
  // OpenLIT registered its provider globally; shutting it down flushes the exporter.
  await trace.getTracerProvider().getDelegate().shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
