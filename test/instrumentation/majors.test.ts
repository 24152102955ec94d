/**
 * The current and the previous major of each SDK (ARCHITECTURE.md): openai 7 (installed as
 * the alias `openai-v7`; openai 6 is the root `openai`) and @anthropic-ai/sdk 0.x (alias
 * `anthropic-sdk-v0`; 1.x is the root package), instrumented through the same classes,
 * against the replay server: exact tokens, the engine's cost, streams with usage (and, for
 * Anthropic 0.x, every call kind with the usage context).
 */
import * as anthropicV0 from 'anthropic-sdk-v0';
import * as openaiV7 from 'openai-v7';
import { describe, expect, test } from 'vitest';
import { AnthropicInstrumentation } from '../../instrumentation/src/instrumentations/anthropic.js';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { FIXTURES } from '../replay/fixtures.js';
import { SCENARIO_HEADER, type Scenario } from '../replay/server.js';
import {
  expectContext,
  expectExactCall,
  expectFailedCall,
  inContext,
  scenarios,
  setupTracing,
  tokensOf,
  until,
  useReplayServer,
} from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiV7);
new AnthropicInstrumentation().apply(anthropicV0);

const server = useReplayServer(tracing);

const oneSpan = async () => {
  await until(() => tracing.ours().length >= 1);
  await new Promise((r) => setTimeout(r, 10));
  expect(tracing.ours()).toHaveLength(1);
  return tracing.ours()[0];
};
const user = [{ role: 'user' as const, content: 'Hello' }];

describe('openai 7', () => {
  const OpenAI = openaiV7.default;
  const client = (scenario: string) =>
    new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, defaultHeaders: { [SCENARIO_HEADER]: scenario } });

  test.each(['ok', 'cache', 'reasoning'] as const)('%s: chat.completions.create', async (scenario) => {
    const f = FIXTURES.openaiChat[scenario]!;
    const res = await client(scenario).chat.completions.create({ model: f.model, messages: user });
    expect(res.id).toBe(f.id);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('stream without include_usage: usage injected, the app sees only content chunks', async () => {
    const f = FIXTURES.openaiChat.ok!;
    const stream = await client('ok').chat.completions.create({ model: f.model, messages: user, stream: true });
    const chunks: { choices: { delta: { content?: string | null } }[] }[] = [];
    for await (const c of stream) chunks.push(c);
    expect((server.requests.at(-1)?.body as { stream_options?: unknown }).stream_options).toEqual({
      include_usage: true,
    });
    expect(chunks.every((c) => c.choices.length > 0 && !('usage' in c))).toBe(true);
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe(f.text);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('items: a transcription by its tokens, speech untouched, built-in tool calls, a batch output file', async () => {
    const f = FIXTURES.openaiTranscriptions.ok!;
    const file = await openaiV7.toFile(Buffer.from('RIFF'), 'call.wav', { type: 'audio/wav' });
    const t = await client('ok').audio.transcriptions.create({ model: 'gpt-4o-transcribe', file });
    expect(t.text).toBe(f.text);
    expect(tokensOf((await oneSpan())!)).toEqual(f.tokens);
    tracing.reset();

    const speech = await client('ok').audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there' });
    expect(speech.bodyUsed).toBe(false);
    expect((await speech.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect((await oneSpan())!.attributes['tokenmeter.usage.input_characters']).toBe(11);
    tracing.reset();

    await client('web-search').responses.create({
      model: 'gpt-5',
      tools: [{ type: 'web_search' }, { type: 'file_search', vector_store_ids: ['vs_1'] }],
      input: 'News?',
    });
    const searched = (await oneSpan())!;
    expect(searched.attributes['tokenmeter.usage.web_search.calls']).toBe(2);
    expect(searched.attributes['gen_ai.usage.cost.amount']).toBe('0.0285');
    tracing.reset();

    await (await client('ok').files.content('file-outV7')).text();
    await until(() => tracing.ours().length >= 3);
    expect(tracing.ours().every((s) => s.attributes['tokenmeter.request.batch'] === true)).toBe(true);
  });
});

describe('@anthropic-ai/sdk 0.x', () => {
  const Anthropic = anthropicV0.default;
  const client = (scenario: Scenario, maxRetries = 2) =>
    new Anthropic({
      apiKey: 'sk-ant-test',
      baseURL: server.url,
      defaultHeaders: { [SCENARIO_HEADER]: scenario },
      maxRetries,
    });

  test.each(scenarios(FIXTURES.anthropicMessages))('%s: messages.create, plain and stream', async (scenario, f) => {
    const res = await inContext(() =>
      client(scenario).messages.create({ model: f.model, max_tokens: 256, messages: user }),
    );
    expect(res.id).toBe(f.id);
    let span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
    tracing.reset();
    const stream = await inContext(() =>
      client(scenario).messages.create({ model: f.model, max_tokens: 256, messages: user, stream: true }),
    );
    for await (const _ of stream) {
    }
    span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
  });

  test('messages.stream', async () => {
    const f = FIXTURES.anthropicMessages.cache!;
    const final = await inContext(() =>
      client('cache').messages.stream({ model: f.model, max_tokens: 256, messages: user }).finalMessage(),
    );
    expect(final.id).toBe(f.id);
    const span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
  });

  test('429 then 200: one span, one cost; 500: one failed span', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    await inContext(() =>
      client('rate-limit-once').messages.create({ model: f.model, max_tokens: 10, messages: user }),
    );
    expect(server.requests).toHaveLength(2);
    let span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
    tracing.reset();
    const err = await inContext(() =>
      client('error-500', 0).messages.create({ model: f.model, max_tokens: 10, messages: user }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    span = await oneSpan();
    expectFailedCall(span, 'InternalServerError');
    expectContext(span);
  });

  test('abort mid-stream: input exact from message_start', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const stream = await inContext(() =>
      client('slow-stream').messages.create({ model: f.model, max_tokens: 10, messages: user, stream: true }),
    );
    for await (const e of stream) if (e.type === 'content_block_delta') stream.controller.abort();
    const span = await oneSpan();
    expectContext(span);
    expect(tokensOf(span).inputTokens).toBe(f.tokens!.inputTokens);
    expect(tokensOf(span).outputTokens).toBeLessThan(f.tokens!.outputTokens);
  });
});
