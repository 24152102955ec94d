// Vercel AI SDK: `ai` with experimental_telemetry, provider @ai-sdk/openai, against the replay.
// The SDK writes its ai.* spans to the global tracer provider registered here.
// AI_SDK_MAJOR=4: the same calls through ai@4 (`ai-v4`, with `ai-sdk-openai-v1` = @ai-sdk/openai@1),
// which writes the v4 attribute names (ai.usage.promptTokens / completionTokens).
import common from './common.cjs';

const { env, startTracing } = common;
const v4 = process.env.AI_SDK_MAJOR === '4';
const { createOpenAI } = await import(v4 ? 'ai-sdk-openai-v1' : '@ai-sdk/openai');
const { embed, generateText, streamText } = await import(v4 ? 'ai-v4' : 'ai');
const provider = startTracing();
// @ai-sdk/openai@1 speaks the OpenAI API itself only in strict mode.
const compat = v4 ? { compatibility: 'strict' } : {};
const openai = createOpenAI({ apiKey: 'sk-replay', baseURL: `${env('REPLAY_URL')}/v1`, ...compat });
const cached = createOpenAI({
  apiKey: 'sk-replay',
  baseURL: `${env('REPLAY_URL')}/v1`,
  headers: { 'x-replay-scenario': 'cache' },
  ...compat,
});
const telemetry = (functionId) => ({
  isEnabled: true,
  functionId,
  metadata: { userId: v4 ? 'u-vercel-v4' : 'u-vercel', feature: 'conventions' },
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
