// Vercel AI SDK 4 (`ai-v4` = ai@4, `ai-sdk-openai-v1` = @ai-sdk/openai@1): the v4 attribute
// names (ai.usage.promptTokens / completionTokens), same calls as vercel-ai.mjs.
import { createOpenAI } from 'ai-sdk-openai-v1';
import { embed, generateText, streamText } from 'ai-v4';
import common from './common.cjs';

const { env, startTracing } = common;
const provider = startTracing();
const openai = createOpenAI({ apiKey: 'sk-replay', baseURL: `${env('REPLAY_URL')}/v1`, compatibility: 'strict' });
const cached = createOpenAI({
  apiKey: 'sk-replay',
  baseURL: `${env('REPLAY_URL')}/v1`,
  compatibility: 'strict',
  headers: { 'x-replay-scenario': 'cache' },
});
const telemetry = (functionId) => ({
  isEnabled: true,
  functionId,
  metadata: { userId: 'u-vercel-v4', feature: 'conventions' },
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
