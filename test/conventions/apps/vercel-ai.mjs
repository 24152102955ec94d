// Vercel AI SDK: `ai` with experimental_telemetry, provider @ai-sdk/openai, against the replay.
// The SDK writes its ai.* spans to the global tracer provider registered here.
import { createOpenAI } from '@ai-sdk/openai';
import { embed, generateText, streamText } from 'ai';
import common from './common.cjs';

const { env, startTracing } = common;
const provider = startTracing();
const openai = createOpenAI({ apiKey: 'sk-replay', baseURL: `${env('REPLAY_URL')}/v1` });
const cached = createOpenAI({
  apiKey: 'sk-replay',
  baseURL: `${env('REPLAY_URL')}/v1`,
  headers: { 'x-replay-scenario': 'cache' },
});
const telemetry = (functionId) => ({
  isEnabled: true,
  functionId,
  metadata: { userId: 'u-vercel', feature: 'conventions' },
});
const prompt = 'What is the capital of France?';
// No retries: a retried request would be a second (failed) call, and the test counts calls.

await generateText({
  model: openai.chat('gpt-4o-mini'),
  prompt,
  maxRetries: 0,
  experimental_telemetry: telemetry('plain'),
});
const stream = streamText({
  model: openai.chat('gpt-4o-mini'),
  prompt,
  maxRetries: 0,
  experimental_telemetry: telemetry('stream'),
});
for await (const _text of stream.textStream) {
  // drain
}
await stream.usage;
await generateText({
  model: cached.chat('gpt-4o-mini'),
  prompt,
  maxRetries: 0,
  experimental_telemetry: telemetry('cache'),
});
await embed({
  model: openai.embedding('text-embedding-3-small'),
  value: 'The capital of France',
  experimental_telemetry: telemetry('embed'),
});
await provider.shutdown();
