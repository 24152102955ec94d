/**
 * The real `openai` SDK against the replay server, instrumented: every call kind's span
 * carries the fixture's exact tokens, the engine's cost and the usage context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import OpenAI, * as openaiModule from 'openai';
import { describe, expect, test } from 'vitest';
import { setInstrumentationEnabled } from '../../instrumentation/src/core/run.js';
import { withUsageContext } from '../../instrumentation/src/core/usage-context.js';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { type ContentScenario, FIXTURES, type Fixture } from '../replay/fixtures.js';
import { SCENARIO_HEADER, type Scenario } from '../replay/server.js';
import { expectExactCall, setupTracing, until, useReplayServer } from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);

const server = useReplayServer(tracing);

const openai = (scenario?: Scenario, maxRetries = 2) =>
  new OpenAI({
    apiKey: 'sk-test',
    baseURL: `${server.url}/v1`,
    defaultHeaders: scenario ? { [SCENARIO_HEADER]: scenario } : {},
    maxRetries,
  });
const user = [{ role: 'user' as const, content: 'Hello' }];
const scenarios = (f: Partial<Record<ContentScenario, Fixture>>) => Object.entries(f) as [ContentScenario, Fixture][];
// Finalization callbacks only run after a collection: expose gc() to this test process.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function collectGarbageUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}
const oneSpan = async () => {
  await until(() => tracing.ours().length >= 1);
  expect(tracing.ours()).toHaveLength(1);
  return tracing.ours()[0];
};

describe('chat.completions.create', () => {
  test.each(scenarios(FIXTURES.openaiChat))('%s: plain', async (scenario, f) => {
    const res = await withUsageContext({ tenant: 'acme', userId: 'u-1', team: 'search', feature: scenario }, () =>
      openai(scenario).chat.completions.create({ model: f.model, messages: user }),
    );
    expect(res.id).toBe(f.id);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expect(span?.name).toBe(`chat ${f.model}`);
    expect(span?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': f.model,
      'gen_ai.response.model': f.model,
      'gen_ai.response.id': f.id,
      'gen_ai.response.finish_reasons': [f.finishReason],
      'tokenmeter.tenant': 'acme',
      'user.id': 'u-1',
      'tokenmeter.team': 'search',
      'tokenmeter.feature': scenario,
      'server.address': '127.0.0.1',
    });
    expect(span?.attributes['gen_ai.input.messages']).toBeUndefined();
  });

  test.each(scenarios(FIXTURES.openaiChat).filter(([s]) => s !== 'audio'))(
    '%s: stream without include_usage: usage injected, app sees the same chunks',
    async (scenario, f) => {
      const stream = await openai(scenario).chat.completions.create({ model: f.model, messages: user, stream: true });
      const chunks: any[] = [];
      for await (const c of stream) chunks.push(c);
      const sent = server.requests.at(-1)?.body as any;
      expect(sent.stream_options).toEqual({ include_usage: true });
      expect(chunks.every((c) => c.choices.length > 0 && !('usage' in c))).toBe(true);
      expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(f.text);
      const span = await oneSpan();
      expectExactCall(span, 'openai', f.model, f.tokens!);
      expect(span?.attributes['gen_ai.request.stream']).toBe(true);
      expect(span?.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    },
  );

  test.each(scenarios(FIXTURES.openaiChat).filter(([s]) => s !== 'audio'))(
    '%s: the chunks are identical with and without the instrumentation',
    async (scenario, f) => {
      const read = async () => {
        const stream = await openai(scenario).chat.completions.create({ model: f.model, messages: user, stream: true });
        const chunks: unknown[] = [];
        for await (const c of stream) chunks.push(c);
        return chunks;
      };
      setInstrumentationEnabled(false);
      const without = await read().finally(() => setInstrumentationEnabled(true));
      expect((server.requests.at(-1)?.body as any)?.stream_options).toBeUndefined();
      const withIt = await read();
      expect((server.requests.at(-1)?.body as any)?.stream_options).toEqual({ include_usage: true });
      // The replay stamps `created` with the current second, as the API does: two answers a
      // second apart (a loaded machine) differ there and only there.
      const unstamped = (chunks: unknown[]) => chunks.map((c) => ({ ...(c as Record<string, unknown>), created: 0 }));
      expect(unstamped(withIt)).toEqual(unstamped(without));
      expect(JSON.stringify(unstamped(withIt))).toBe(JSON.stringify(unstamped(without)));
      expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
    },
  );

  test('stream: the app asked usage itself: it gets the usage chunk, nothing hidden', async () => {
    const f = FIXTURES.openaiChat.ok;
    const stream = await openai().chat.completions.create({
      model: f.model,
      messages: user,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.at(-1)?.usage?.prompt_tokens).toBe(f.usage?.input);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('.stream() helper and .parse() helper: one span each, exact usage', async () => {
    const f = FIXTURES.openaiChat.ok;
    const runner = openai().chat.completions.stream({ model: f.model, messages: user });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(f.text);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
    tracing.reset();
    const parsed = await openai().chat.completions.parse({ model: f.model, messages: user });
    expect(parsed.choices[0]?.message.content).toBe(f.text);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('429 then 200 inside the SDK: one span, one cost', async () => {
    const f = FIXTURES.openaiChat.ok;
    const res = await openai('rate-limit-once').chat.completions.create({ model: f.model, messages: user });
    expect(res.id).toBe(f.id);
    expect(server.requests).toHaveLength(2);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('500: the app gets the SDK error unchanged; the span has error.type and no cost', async () => {
    const f = FIXTURES.openaiChat.ok;
    const err = await openai('error-500', 0)
      .chat.completions.create({ model: f.model, messages: user })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(500);
    const span = await oneSpan();
    expect(span?.attributes['error.type']).toBe('InternalServerError');
    expect(span?.status.code).toBe(2);
    expect(span?.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
  });

  test('abort mid-stream: the span ends with what was seen, estimated', async () => {
    const f = FIXTURES.openaiChat.ok;
    const stream = await openai('slow-stream').chat.completions.create({
      model: f.model,
      messages: user,
      stream: true,
    });
    const seen: string[] = [];
    for await (const c of stream) {
      seen.push(c.choices[0]?.delta.content ?? '');
      if (seen.length === 2) stream.controller.abort();
    }
    const span = await oneSpan();
    expect(span?.attributes['tokenmeter.usage.estimated']).toBe(true);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBeLessThan(f.tokens!.outputTokens + 1);
  });

  test('for-await break: span ends, SDK stream closed', async () => {
    const f = FIXTURES.openaiChat.ok;
    const stream = await openai().chat.completions.create({ model: f.model, messages: user, stream: true });
    for await (const _ of stream) break;
    const span = await oneSpan();
    expect(span?.attributes['tokenmeter.usage.estimated']).toBe(true);
    expect(stream.controller.signal.aborted).toBe(true);
  });

  test('a stream the app never iterates: its span ends when the stream is collected, dated when it arrived', async () => {
    const f = FIXTURES.openaiChat.ok;
    let arrived = 0;
    await (async () => {
      await openai().chat.completions.create({ model: f.model, messages: user, stream: true });
      arrived = Date.now();
    })();
    await collectGarbageUntil(() => tracing.ours().length >= 1);
    const span = await oneSpan();
    expect(span?.attributes['tokenmeter.stream.dropped']).toBe(true);
    expect(span?.attributes['tokenmeter.usage.estimated']).toBe(true);
    // Nothing was read: the prompt is estimated, no output.
    expect(span?.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBe(0);
    const endMs = span!.endTime[0] * 1000 + span!.endTime[1] / 1e6;
    expect(Math.abs(endMs - arrived)).toBeLessThan(50);
  });

  test('a stream read part-way and dropped without break: ends when collected, with what was read', async () => {
    const f = FIXTURES.openaiChat.ok;
    await (async () => {
      const stream = await openai().chat.completions.create({ model: f.model, messages: user, stream: true });
      const it = stream[Symbol.asyncIterator]();
      await it.next();
      await it.next();
    })();
    await collectGarbageUntil(() => tracing.ours().length >= 1);
    const span = await oneSpan();
    expect(span?.attributes['tokenmeter.stream.dropped']).toBe(true);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBeLessThan(f.tokens!.outputTokens);
  });

  test('the Stream object collected while its iterator is read to the end: exact usage, not dropped', async () => {
    const f = FIXTURES.openaiChat.ok;
    let text = '';
    for await (const c of await openai().chat.completions.create({ model: f.model, messages: user, stream: true })) {
      text += c.choices[0]?.delta.content ?? '';
      gc();
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(text).toBe(f.text);
    const span = await oneSpan();
    expect(span?.attributes['tokenmeter.stream.dropped']).toBeUndefined();
    expectExactCall(span, 'openai', f.model, f.tokens!);
  });

  test('tee(): both halves see every chunk; one span with exact usage', async () => {
    const f = FIXTURES.openaiChat.ok;
    const stream = await openai().chat.completions.create({ model: f.model, messages: user, stream: true });
    const [a, b] = stream.tee();
    const read = async (s: typeof a) => {
      let text = '';
      for await (const c of s) text += c.choices[0]?.delta.content ?? '';
      return text;
    };
    expect(await Promise.all([read(a), read(b)])).toEqual([f.text, f.text]);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('no usage from the host: estimated with a tokenizer, marked estimated', async () => {
    const f = FIXTURES.openaiChat.ok;
    await openai('no-usage').chat.completions.create({ model: f.model, messages: user });
    const span = await oneSpan();
    expect(span?.attributes['tokenmeter.usage.estimated']).toBe(true);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBe(7); // "The capital of France is Paris." in o200k
  });
});

describe('responses.create', () => {
  // Built-in tool calls cost more than the tokens: openai-tools.test.ts checks that scenario.
  const tokenScenarios = scenarios(FIXTURES.openaiResponses).filter(([name]) => name !== 'web-search');
  test.each(tokenScenarios)('%s: plain and stream', async (scenario, f) => {
    const res = await openai(scenario).responses.create({ model: f.model, input: 'Hello' });
    expect(res.id).toBe(f.id);
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
    tracing.reset();
    const stream = await openai(scenario).responses.create({ model: f.model, input: 'Hello', stream: true });
    for await (const _ of stream) {
    }
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expect(span?.attributes['gen_ai.response.id']).toBe(f.id);
  });
});

test('responses.stream() helper: one span, exact usage', async () => {
  const f = FIXTURES.openaiResponses.ok;
  const final = await openai().responses.stream({ model: f.model, input: 'Hello' }).finalResponse();
  expect(final.id).toBe(f.id);
  expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
});

describe('embeddings.create', () => {
  test('ok', async () => {
    const f = FIXTURES.openaiEmbeddings.ok;
    const res = await openai().embeddings.create({ model: f.model, input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expect(span?.name).toBe(`embeddings ${f.model}`);
  });
});

describe('OpenAI-compatible hosts are recognised from the base URL', () => {
  test.each([
    ['https://api.groq.com/openai/v1', 'groq'],
    ['https://api.deepseek.com', 'deepseek'],
    ['https://openrouter.ai/api/v1', 'openrouter'],
    ['https://my-res.openai.azure.com/openai', 'azure.ai.openai'],
    ['https://api.x.ai/v1', 'x_ai'],
    ['https://api.mistral.ai/v1', 'mistral_ai'],
    ['https://api.together.xyz/v1', 'together_ai'],
  ])('%s → %s', async (baseURL, providerName) => {
    const fetch = async () =>
      Response.json({ id: 'x', model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } });
    const client = new OpenAI({ apiKey: 'k', baseURL, fetch: fetch as any });
    await client.chat.completions.create({ model: 'm', messages: user });
    expect((await oneSpan())?.attributes['gen_ai.provider.name']).toBe(providerName);
  });
});
