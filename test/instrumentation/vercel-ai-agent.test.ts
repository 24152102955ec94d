/**
 * Vercel `ai` (v6) agents against the replay server. `ToolLoopAgent` (also exported as
 * `Experimental_Agent`) calls ai's internal generateText/streamText, not the exported ones we
 * wrap: its `generate()` and `stream()` must still give one exact span per provider request
 * (per step), with the engine's cost and the usage context, the ai SDK's retries continuing a
 * span, string model ids resolved as ai resolves them, and one call counted once.
 * (ai 4, the `ai-v4` alias, has no agent class.)
 */
import * as aiModule from 'ai';
import OpenAI, * as openaiModule from 'openai';
import { afterEach, describe, expect, test } from 'vitest';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { instrumentAiModule } from '../../instrumentation/src/instrumentations/vercel-ai.js';
import { AFTER_TOOL, FIXTURES } from '../replay/fixtures.js';
import type { Scenario } from '../replay/server.js';
import { replayOpenAI } from './ai-openai.js';
import {
  countedCalls,
  expectContext,
  expectExactCall,
  expectToolLoopSpans,
  inContext,
  oneSpan as oneOf,
  sdkBackedModel,
  setupTracing,
  until,
  useReplayServer,
} from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);
// The module object as register's hook sees it (a copy here: an ESM namespace is frozen).
const ai = instrumentAiModule({ ...aiModule });
const globals = globalThis as { AI_SDK_DEFAULT_PROVIDER?: unknown };

const server = useReplayServer(tracing);
afterEach(() => {
  delete globals.AI_SDK_DEFAULT_PROVIDER;
});

const provider = (scenario?: Scenario) => replayOpenAI(server, scenario);
const oneSpan = () => oneOf(tracing);
const chat = FIXTURES.openaiChat.ok;
const toolCall = FIXTURES.openaiChat['tool-call'];
const afterTool = AFTER_TOOL.openaiChat!;
const weather = (calls: unknown[]) => ({
  get_weather: aiModule.tool({
    description: 'weather',
    inputSchema: aiModule.jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } } }),
    execute: async (input: unknown) => {
      calls.push(input);
      return { temperature: 18 };
    },
  }),
});
const toolLoopSpans = (totalUsage: { inputTokens?: number; outputTokens?: number }) =>
  expectToolLoopSpans(tracing, 'openai', [toolCall, afterTool], totalUsage);

test('the installed ai exports one agent class, under two names', () => {
  expect(typeof ai.ToolLoopAgent).toBe('function');
  expect(ai.Experimental_Agent).toBe(ai.ToolLoopAgent);
});

describe('a tool-loop agent: one exact span per step', () => {
  test('generate(): two steps, two spans summing to totalUsage, in the usage context', async () => {
    const calls: unknown[] = [];
    const agent = new ai.ToolLoopAgent({ model: provider('tool-call').chat(toolCall.model), tools: weather(calls) });
    const r = await inContext(() => agent.generate({ prompt: 'Weather in Paris?' }));
    expect(calls).toEqual([toolCall.toolCall!.arguments]);
    expect(r.steps).toHaveLength(2);
    expect(r.text).toBe(afterTool.text);
    await toolLoopSpans(r.totalUsage);
  });

  test('stream(), read outside the usage context: two steps, two spans summing to totalUsage', async () => {
    const calls: unknown[] = [];
    const agent = new ai.Experimental_Agent({
      model: provider('tool-call').chat(toolCall.model),
      tools: weather(calls),
    });
    const r = await inContext(() => agent.stream({ prompt: 'Weather in Paris?' }));
    let text = '';
    for await (const t of r.textStream) text += t;
    expect(text).toBe(afterTool.text);
    expect(calls).toHaveLength(1);
    await toolLoopSpans(await r.totalUsage);
    expect(tracing.ours().every((s) => s.attributes['gen_ai.request.stream'] === true)).toBe(true);
  });

  test('an agent reused for two calls: each call its own spans', async () => {
    const agent = new ai.ToolLoopAgent({ model: provider().chat(chat.model) });
    await inContext(() => agent.generate({ prompt: 'Hello' }));
    await inContext(() => agent.generate({ prompt: 'Hello again' }));
    await until(() => tracing.ours().length >= 2);
    expect(tracing.ours()).toHaveLength(2);
    for (const s of tracing.ours()) {
      expectExactCall(s, 'openai', chat.model, chat.tokens!);
      expectContext(s);
    }
  });

  test('the model chosen by the agent’s prepareCall is the one recorded', async () => {
    const mini = FIXTURES.openaiResponses.ok;
    const agent = new ai.ToolLoopAgent({
      model: provider().chat('never-called'),
      prepareCall: (args) => ({ ...args, model: provider()(mini.model) }),
    });
    const r = await inContext(() => agent.generate({ prompt: 'Hello' }));
    expect(r.text).toBe(mini.text);
    const span = await oneSpan();
    expectExactCall(span, 'openai', mini.model, mini.tokens!);
    expectContext(span);
  });
});

describe('the ai SDK’s own retries (429 with retry-after: 0, then 200): one span, one cost', () => {
  test('generate()', async () => {
    const agent = new ai.ToolLoopAgent({ model: provider('rate-limit-once').chat(chat.model) });
    const r = await inContext(() => agent.generate({ prompt: 'Hello' }));
    expect(r.text).toBe(chat.text);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'openai', chat.model, chat.tokens!);
    expectContext(span);
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.attributes['tokenmeter.request.retries']).toBe(1);
  });

  test('stream()', async () => {
    const f = FIXTURES.openaiResponses.ok;
    const agent = new ai.ToolLoopAgent({ model: provider('rate-limit-once')(f.model) });
    const r = await inContext(() => agent.stream({ prompt: 'Hello' }));
    let text = '';
    for await (const t of r.textStream) text += t;
    expect(text).toBe(f.text);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes['tokenmeter.request.retries']).toBe(1);
  });
});

describe('string model ids and SDK-backed models', () => {
  test('a string id resolved through the default provider (the AI Gateway): the creator’s model and price', async () => {
    const f = FIXTURES.gatewayLanguageModel.ok;
    globals.AI_SDK_DEFAULT_PROVIDER = aiModule.createGateway({ apiKey: 'gw-test', baseURL: `${server.url}/v3/ai` });
    const agent = new ai.ToolLoopAgent({ model: f.model });
    const r = await inContext(() => agent.generate({ prompt: 'Hello' }));
    expect(r.text).toBe(f.text);
    const slash = f.model.indexOf('/');
    const span = await oneSpan();
    expectExactCall(span, f.model.slice(0, slash), f.model.slice(slash + 1), f.tokens!);
    expectContext(span);
  });

  test('a model built on the instrumented openai SDK: the SDK span is the one counted call', async () => {
    const model = sdkBackedModel(new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }), chat.model);
    const agent = new ai.ToolLoopAgent({ model });
    const r = await inContext(() => agent.generate({ prompt: 'Hello' }));
    expect(r.text).toBe(chat.text);
    await until(() => tracing.ours().length >= 2);
    const calls = countedCalls(tracing.spans());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.usage.inputTokens).toBe(chat.tokens!.inputTokens); // the SDK's count, not the model's 999
    expect(tracing.ours().filter((s) => s.attributes['tokenmeter.call.delegated'] === true)).toHaveLength(1);
    for (const s of tracing.ours()) expectContext(s);
  });
});
