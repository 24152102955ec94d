/**
 * `instrument(client)`: the explicit wrapper for code no hook reaches. Real SDKs against the
 * replay server, nothing hooked in this process except where a test says so: each client's
 * calls are one span with exact tokens and cost, and a client the hooks also reach is still
 * one span per call.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import * as aiModule from 'ai';
import OpenAI, * as openaiModule from 'openai';
import * as openaiV7 from 'openai-v7';
import { context, TraceFlags, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, test } from 'vitest';
import { instrument } from '../../instrumentation/src/instrument.js';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { instrumentAiModule, instrumentModel } from '../../instrumentation/src/instrumentations/vercel-ai.js';
import { replayBedrockClients } from '../replay/client-helpers.js';
import { FIXTURES } from '../replay/fixtures.js';
import { replayOpenAI } from './ai-openai.js';
import { expectExactCall, setupTracing, until, useReplayServer } from './support.js';

const tracing = setupTracing();
const server = useReplayServer(tracing);
const bedrock = replayBedrockClients(() => server.h2Url);
afterAll(() => bedrock.destroyAll());

const user = [{ role: 'user' as const, content: 'Hello' }];
/** Exactly `n` spans of ours once the calls are done (a second span would arrive with the first). */
async function spans(n: number) {
  await until(() => tracing.ours().length >= n);
  await new Promise((r) => setTimeout(r, 20));
  expect(tracing.ours()).toHaveLength(n);
  return tracing.ours();
}

describe('instrument(client): each SDK, nothing hooked', () => {
  test('OpenAI: the same client back; chat plain and streamed, one exact span each, chunks unchanged', async () => {
    const f = FIXTURES.openaiChat.ok;
    const client = instrument(new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }));
    expect(client).toBeInstanceOf(OpenAI);
    const res = await client.chat.completions.create({ model: f.model, messages: user });
    expect(res.choices[0]?.message.content).toBe(f.text);
    const stream = await client.chat.completions.create({ model: f.model, messages: user, stream: true });
    const chunks: unknown[] = [];
    for await (const c of stream) chunks.push(c);
    const [plain, streamed] = await spans(2);
    expectExactCall(plain, 'openai', f.model, f.tokens!);
    expectExactCall(streamed, 'openai', f.model, f.tokens!);
    // The app sees what it would have seen (the injected usage chunk is hidden).
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((c) => (c as { usage?: unknown }).usage == null)).toBe(true);
  });

  test('Anthropic, Google GenAI, Bedrock: one exact span each', async () => {
    const a = FIXTURES.anthropicMessages.ok;
    const anthropic = instrument(new Anthropic({ apiKey: 'k', baseURL: server.url }));
    const msg = await anthropic.messages.create({ model: a.model, max_tokens: 100, messages: user });
    expect(msg.id).toBe(a.id);
    const g = FIXTURES.googleGenerateContent.ok;
    const google = instrument(new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: server.url } }));
    const gen = await google.models.generateContent({ model: g.model, contents: 'Hello' });
    expect(gen.responseId).toBe(g.id);
    const b = FIXTURES.bedrockConverse.ok;
    const runtime = instrument(bedrock.client());
    const conv = await runtime.send(
      new ConverseCommand({ modelId: b.model, messages: [{ role: 'user', content: [{ text: 'Hello' }] }] }),
    );
    expect(conv.usage?.inputTokens).toBe(b.usage?.input);
    const all = await spans(3);
    const by = (p: string) => all.find((s) => s.attributes['gen_ai.provider.name'] === p);
    expectExactCall(by('anthropic'), 'anthropic', a.model, a.tokens!);
    expectExactCall(by('gcp.gen_ai'), 'google', g.model, g.tokens!);
    expectExactCall(by('aws.bedrock'), 'bedrock', b.model, b.tokens!);
  });

  test('a Vercel ai model: generateText and streamText, one exact span each', async () => {
    const f = FIXTURES.openaiChat.ok;
    const model = instrument(replayOpenAI(server).chat(f.model));
    const text = await aiModule.generateText({ model, prompt: 'Hello' });
    expect(text.text).toBe(f.text);
    const streamed = aiModule.streamText({ model, prompt: 'Hello' });
    expect(await streamed.text).toBe(f.text);
    for (const s of await spans(2)) expectExactCall(s, 'openai', f.model, f.tokens!);
  });

  test('something else: returned as it is, with one warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const other = { hello: () => 'world' };
    expect(instrument(other)).toBe(other);
    expect(instrument(other)).toBe(other);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.includes('instrument() was given'))).toHaveLength(1);
  });

  test("instrumentModel() given a model id (Mastra's model config): returned as it is, with one warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    expect(instrumentModel('openai/gpt-4o-mini')).toBe('openai/gpt-4o-mini');
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.includes("the model id 'openai/gpt-4o-mini'"))).toHaveLength(1);
  });
});

describe('hook and wrapper both apply: one span per call', () => {
  test('openai: the hook first (openai 7), then instrument()', async () => {
    new OpenAIInstrumentation().apply(openaiV7);
    const f = FIXTURES.openaiChat.ok;
    const client = instrument(new openaiV7.default({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }));
    await client.chat.completions.create({ model: f.model, messages: user });
    expectExactCall((await spans(1))[0], 'openai', f.model, f.tokens!);
  });

  test('openai: instrument() first, then the hook on the same module (openai 6)', async () => {
    instrument(new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }));
    new OpenAIInstrumentation().apply(openaiModule);
    const f = FIXTURES.openaiChat.ok;
    const client = instrument(new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }));
    await client.chat.completions.create({ model: f.model, messages: user, stream: true }).then(async (s) => {
      for await (const _ of s);
    });
    expectExactCall((await spans(1))[0], 'openai', f.model, f.tokens!);
  });

  test('ai: an instrumented ai module given an instrument()ed model', async () => {
    const ai = instrumentAiModule({ ...aiModule });
    const f = FIXTURES.openaiChat.ok;
    await ai.generateText({ model: instrument(replayOpenAI(server).chat(f.model)), prompt: 'Hello' });
    expectExactCall((await spans(1))[0], 'openai', f.model, f.tokens!);
  });
});

describe('a span that will not be exported', () => {
  test('sampled out (parent not sampled): nothing added to the request, no span, the app sees the same chunks', async () => {
    const f = FIXTURES.openaiChat.ok;
    const client = instrument(new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }));
    const notSampled = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
    });
    const chunks: unknown[] = [];
    await context.with(notSampled, async () => {
      const stream = await client.chat.completions.create({ model: f.model, messages: user, stream: true });
      for await (const c of stream) chunks.push(c);
    });
    expect((server.requests.at(-1)?.body as { stream_options?: unknown }).stream_options).toBeUndefined();
    expect(chunks.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(tracing.ours()).toHaveLength(0);
  });
});
