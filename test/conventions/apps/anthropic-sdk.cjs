// The Anthropic SDK's own telemetry (on by default since 0.137; scope com.anthropic.sdk.typescript):
// current gen_ai.* names with cache reads and writes, written by the real @anthropic-ai/sdk.
'use strict';
const { env, startTracing } = require('./common.cjs');

const provider = startTracing();
const { Anthropic } = require('@anthropic-ai/sdk');

(async () => {
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
  await provider.shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
