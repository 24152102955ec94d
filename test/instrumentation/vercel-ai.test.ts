/**
 * Vercel `ai` (v6) with `@ai-sdk/openai` against the replay server: each provider request
 * (one per step of a tool loop) is one span with exact usage, the engine's cost and the usage
 * context; with the ai SDK's own telemetry on, or when the provider goes through an SDK we
 * instrument too, one call is still counted once. Failures: vercel-ai-failures.test.ts;
 * string model ids (AI Gateway): vercel-ai-gateway.test.ts.
 */
import * as aiModule from 'ai';
import OpenAI, * as openaiModule from 'openai';
import { describe, expect, test } from 'vitest';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { instrumentAiModule, instrumentModel } from '../../instrumentation/src/instrumentations/vercel-ai.js';
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

const server = useReplayServer(tracing);

const provider = (scenario?: Scenario, fetch?: typeof globalThis.fetch) => replayOpenAI(server, scenario, fetch);
const oneSpan = () => oneOf(tracing);

/**
 * The replay answers prose; generateObject and streamObject need JSON. This fetch rewrites the
 * answer's text to `{"city":"Paris"}` (JSON body or SSE chunks) and keeps everything else,
 * usage included: a stand-in for a model that answers in JSON.
 */
const CITY = JSON.stringify({ city: 'Paris' });
const jsonAnswers: typeof globalThis.fetch = async (url, init) => {
  const res = await fetch(url, init);
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    const body: any = await res.json();
    body.choices[0].message.content = CITY;
    return Response.json(body);
  }
  let first = true;
  const sse = (await res.text()).replace(/^data: (\{.*\})$/gm, (_line, json: string) => {
    const chunk = JSON.parse(json);
    const delta = chunk.choices?.[0]?.delta;
    if (delta && typeof delta.content === 'string') {
      delta.content = first ? CITY : '';
      first = false;
    }
    return `data: ${JSON.stringify(chunk)}`;
  });
  return new Response(sse, { status: res.status, headers: res.headers });
};
const citySchema = aiModule.jsonSchema<{ city: string }>({
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
});

describe('one provider request, one span', () => {
  test('generateText (chat model): exact usage, attributes, context', async () => {
    const f = FIXTURES.openaiChat.ok;
    const r = await inContext(() => ai.generateText({ model: provider().chat(f.model), prompt: 'Hello' }));
    expect(r.text).toBe(f.text);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': f.model,
      'gen_ai.response.model': f.model,
      'gen_ai.response.id': f.id,
      'gen_ai.response.finish_reasons': ['stop'],
    });
  });

  test.each(['ok', 'cache', 'reasoning'] as const)(
    'streamText (responses model), %s: exact usage (cache read, reasoning)',
    async (scenario) => {
      const f = FIXTURES.openaiResponses[scenario];
      const r = inContext(() => ai.streamText({ model: provider(scenario)(f.model), prompt: 'Hello' }));
      let text = '';
      for await (const t of r.textStream) text += t;
      expect(text).toBe(f.text);
      const span = await oneSpan();
      expectExactCall(span, 'openai', f.model, f.tokens!);
      expectContext(span);
      expect(span.attributes['gen_ai.request.stream']).toBe(true);
      expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    },
  );

  test('generateObject: exact usage', async () => {
    const f = FIXTURES.openaiChat.cache;
    const r = await inContext(() =>
      ai.generateObject({ model: provider('cache', jsonAnswers).chat(f.model), schema: citySchema, prompt: 'Hello' }),
    );
    expect(r.object).toEqual({ city: 'Paris' });
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
  });

  test('streamObject: exact usage from the stream’s usage chunk', async () => {
    const f = FIXTURES.openaiChat.ok;
    const r = inContext(() =>
      ai.streamObject({ model: provider(undefined, jsonAnswers).chat(f.model), schema: citySchema, prompt: 'Hello' }),
    );
    for await (const _ of r.partialObjectStream) {
    }
    expect(await r.object).toEqual({ city: 'Paris' });
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes['gen_ai.request.stream']).toBe(true);
  });

  test('embed and embedMany: one span each with the provider’s token count', async () => {
    const f = FIXTURES.openaiEmbeddings.ok;
    const r = await inContext(() => ai.embed({ model: provider().embedding(f.model), value: 'Hello' }));
    expect(r.embedding).toHaveLength(f.dimensions!);
    let span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes['gen_ai.operation.name']).toBe('embeddings');
    tracing.reset();
    const many = await inContext(() => ai.embedMany({ model: provider().embedding(f.model), values: ['a', 'b'] }));
    expect(many.embeddings).toHaveLength(2);
    span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
  });
});

describe('tool loops: one span per step', () => {
  const f = FIXTURES.openaiChat['tool-call'];
  const after = AFTER_TOOL.openaiChat!;
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

  /** The tool step and the answer step: each its own exact span, in context; the sum is the call's total. */
  const expectTwoSteps = (totalUsage: { inputTokens?: number; outputTokens?: number }) =>
    expectToolLoopSpans(tracing, 'openai', [f, after], totalUsage);

  test('generateText with a tool and stopWhen: two steps, two exact spans', async () => {
    const calls: unknown[] = [];
    const r = await inContext(() =>
      ai.generateText({
        model: provider('tool-call').chat(f.model),
        prompt: 'Weather in Paris?',
        tools: weather(calls),
        stopWhen: aiModule.stepCountIs(3),
      }),
    );
    expect(calls).toEqual([f.toolCall!.arguments]);
    expect(r.steps).toHaveLength(2);
    expect(r.text).toBe(after.text);
    await expectTwoSteps(r.totalUsage);
  });

  test('streamText with a tool, read outside the usage context: both steps carry it', async () => {
    const calls: unknown[] = [];
    const r = inContext(() =>
      ai.streamText({
        model: provider('tool-call').chat(f.model),
        prompt: 'Weather in Paris?',
        tools: weather(calls),
        stopWhen: aiModule.stepCountIs(3),
      }),
    );
    let text = '';
    for await (const t of r.textStream) text += t;
    expect(text).toBe(after.text);
    expect(calls).toHaveLength(1);
    await expectTwoSteps(await r.totalUsage);
  });
});

describe('one call counted once', () => {
  test('the ai SDK’s own telemetry on: its doGenerate span is marked delegated', async () => {
    const f = FIXTURES.openaiChat.ok;
    await ai.generateText({
      model: provider().chat(f.model),
      prompt: 'Hello',
      experimental_telemetry: { isEnabled: true },
    });
    await oneSpan();
    expect(tracing.spans().some((s) => s.name === 'ai.generateText.doGenerate')).toBe(true);
    const calls = countedCalls(tracing.spans());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.scopeName).toBe('@tokenmeter/instrumentation');
    expect(calls[0]?.spanCost).toBeDefined();
  });

  test('a provider built on the openai SDK: the inner SDK span is the call, the ai span is delegated', async () => {
    const f = FIXTURES.openaiChat.ok;
    const model = sdkBackedModel(new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }), f.model);
    const r = await inContext(() => ai.generateText({ model: instrumentModel(model) as any, prompt: 'Hello' }));
    expect(r.text).toBe(f.text);
    await until(() => tracing.ours().length >= 2);
    const calls = countedCalls(tracing.spans());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.usage.inputTokens).toBe(f.tokens!.inputTokens); // the SDK's exact count, not the wrapper's 999
    const delegated = tracing.ours().find((s) => s.attributes['tokenmeter.call.delegated'] === true);
    expect(delegated?.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    for (const s of tracing.ours()) expectContext(s);
  });
});
