/**
 * Vercel `ai` (v6) given a model as a string id (`model: 'openai/gpt-4o-mini'`), which `ai`
 * resolves through `globalThis.AI_SDK_DEFAULT_PROVIDER`, else its AI Gateway provider: the
 * same one span with exact usage, the provider taken from the id's prefix.
 *
 * Stand-in: the real gateway (ai-gateway.vercel.sh) cannot be reached here. The real
 * `@ai-sdk/gateway` client (`createGateway` from `ai`) is pointed at the replay server, which
 * answers the gateway's wire protocol (test/replay/gateway.ts), and installed as the global
 * default provider, as an app configures a gateway with its own base URL.
 */
import { createOpenAI } from '@ai-sdk/openai';
import * as aiModule from 'ai';
import OpenAI, * as openaiModule from 'openai';
import { afterEach, describe, expect, test } from 'vitest';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { instrumentAiModule, instrumentModel } from '../../instrumentation/src/instrumentations/vercel-ai.js';
import { FIXTURES } from '../replay/fixtures.js';
import { SCENARIO_HEADER, type Scenario } from '../replay/server.js';
import {
  countedCalls,
  expectContext,
  expectExactCall,
  expectFailedCall,
  inContext,
  oneSpan as oneOf,
  scenarios,
  sdkBackedModel,
  setupTracing,
  until,
  useReplayServer,
} from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);
const ai = instrumentAiModule({ ...aiModule });
const globals = globalThis as { AI_SDK_DEFAULT_PROVIDER?: unknown };

const server = useReplayServer(tracing);
afterEach(() => {
  delete globals.AI_SDK_DEFAULT_PROVIDER;
});

const oneSpan = () => oneOf(tracing);
const gateway = (scenario?: Scenario) =>
  aiModule.createGateway({
    apiKey: 'gw-test',
    baseURL: `${server.url}/v3/ai`,
    headers: scenario ? { [SCENARIO_HEADER]: scenario } : {},
  });
/** `creator/model` → the tokenmeter provider and model the span must name. */
const routed = (slug: string) => ({ provider: slug.split('/')[0]!, model: slug.slice(slug.indexOf('/') + 1) });

describe('the AI Gateway as the default provider', () => {
  test.each(scenarios(FIXTURES.gatewayLanguageModel).filter(([s]) => s !== 'tool-call'))(
    "%s: generateText({ model: 'creator/model' }): one span, the creator's provider and price",
    async (scenario, f) => {
      globals.AI_SDK_DEFAULT_PROVIDER = gateway(scenario);
      const r = await inContext(() => ai.generateText({ model: f.model, prompt: 'Hello' }));
      expect(r.text).toBe(f.text);
      expect(server.requests[0]?.headers['ai-language-model-id']).toBe(f.model);
      const { provider, model } = routed(f.model);
      const span = await oneSpan();
      expectExactCall(span, provider, model, f.tokens!);
      expectContext(span);
      expect(span.name).toBe(`chat ${model}`);
      expect(span.attributes).toMatchObject({
        'gen_ai.provider.name': { google: 'gcp.gen_ai' }[provider] ?? provider,
        'gen_ai.request.model': model,
        'gen_ai.response.id': f.id, // the gateway's generation id
      });
    },
  );

  test.each(scenarios(FIXTURES.gatewayLanguageModel).filter(([s]) => s !== 'tool-call'))(
    '%s: streamText with a string id: one span, exact usage',
    async (scenario, f) => {
      globals.AI_SDK_DEFAULT_PROVIDER = gateway(scenario);
      const r = inContext(() => ai.streamText({ model: f.model, prompt: 'Hello' }));
      let text = '';
      for await (const t of r.textStream) text += t;
      expect(text).toBe(f.text);
      const { provider, model } = routed(f.model);
      const span = await oneSpan();
      expectExactCall(span, provider, model, f.tokens!);
      expectContext(span);
      expect(span.attributes['gen_ai.request.stream']).toBe(true);
      expect(span.attributes['gen_ai.response.id']).toBe(f.id);
      // response-metadata names the slug (`openai/gpt-4o-mini`): the span names the creator's model.
      expect(span.attributes['gen_ai.response.model']).toBe(model);
    },
  );

  test('tool call: the app gets the tool call; one exact span', async () => {
    const f = FIXTURES.gatewayLanguageModel['tool-call'];
    globals.AI_SDK_DEFAULT_PROVIDER = gateway('tool-call');
    const r = await inContext(() =>
      ai.generateText({
        model: f.model,
        prompt: 'Weather in Paris?',
        tools: { get_weather: aiModule.tool({ inputSchema: aiModule.jsonSchema({ type: 'object' }) }) },
      }),
    );
    expect(r.toolCalls[0]).toMatchObject({ toolName: f.toolCall!.name, input: f.toolCall!.arguments });
    const span = await oneSpan();
    expectExactCall(span, 'openai', 'gpt-4o-mini', f.tokens!);
    expectContext(span);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['tool-calls']);
  });

  test('embed with a string id: one span', async () => {
    const f = FIXTURES.gatewayEmbeddingModel.ok;
    globals.AI_SDK_DEFAULT_PROVIDER = gateway();
    const r = await inContext(() => ai.embed({ model: f.model, value: 'Hello' }));
    expect(r.embedding).toHaveLength(f.dimensions!);
    const span = await oneSpan();
    expectExactCall(span, 'openai', 'text-embedding-3-small', f.tokens!);
    expectContext(span);
  });

  test('429 (GatewayRateLimitError) then 200: one span, one cost', async () => {
    const f = FIXTURES.gatewayLanguageModel.ok;
    globals.AI_SDK_DEFAULT_PROVIDER = gateway('rate-limit-once');
    await inContext(() => ai.generateText({ model: f.model, prompt: 'Hello' }));
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'openai', 'gpt-4o-mini', f.tokens!);
    expectContext(span);
    expect(span.attributes['tokenmeter.request.retries']).toBe(1);
  });

  test('500: the gateway’s error reaches the app; one failed span', async () => {
    globals.AI_SDK_DEFAULT_PROVIDER = gateway('error-500');
    const err = await inContext(() =>
      ai.generateText({ model: 'openai/gpt-4o-mini', prompt: 'Hello', maxRetries: 0 }),
    ).catch((e) => e);
    expect(err?.name).toBe('GatewayInternalServerError');
    const span = await oneSpan();
    expectFailedCall(span, err.constructor.name);
    expectContext(span);
    expect(span.attributes['gen_ai.provider.name']).toBe('openai');
  });

  test('no default provider set: the string resolves through the gateway ai exports', async () => {
    // The exported `gateway` targets ai-gateway.vercel.sh; this module copy carries one pointed
    // at the replay in its place (what ai itself would use is the exported instance).
    const f = FIXTURES.gatewayLanguageModel.ok;
    const aiWithLocalGateway = instrumentAiModule({ ...aiModule, gateway: gateway() });
    await inContext(() => aiWithLocalGateway.generateText({ model: f.model, prompt: 'Hello' }));
    expect(server.requests[0]?.path).toBe('/v3/ai/language-model');
    expectExactCall(await oneSpan(), 'openai', 'gpt-4o-mini', f.tokens!);
  });
});

describe('a custom default provider', () => {
  test('createOpenAI as AI_SDK_DEFAULT_PROVIDER, model: "gpt-4o-mini": one span', async () => {
    const f = FIXTURES.openaiResponses.cache;
    globals.AI_SDK_DEFAULT_PROVIDER = createOpenAI({
      apiKey: 'sk-test',
      baseURL: `${server.url}/v1`,
      headers: { [SCENARIO_HEADER]: 'cache' },
    });
    const r = await inContext(() => ai.generateText({ model: f.model, prompt: 'Hello' }));
    expect(r.text).toBe(f.text);
    expect(server.requests[0]?.path).toBe('/v1/responses');
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
  });

  test('its model built on the instrumented openai SDK: the inner SDK span is the one counted call', async () => {
    const f = FIXTURES.openaiChat.ok;
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` });
    globals.AI_SDK_DEFAULT_PROVIDER = { languageModel: (id: string) => sdkBackedModel(client, id) };
    const r = await inContext(() => ai.generateText({ model: f.model, prompt: 'Hello' }));
    expect(r.text).toBe(f.text);
    await until(() => tracing.ours().length >= 2);
    const calls = countedCalls(tracing.spans());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.usage.inputTokens).toBe(f.tokens!.inputTokens); // the SDK's count, not the model's 999
    expect(tracing.ours().filter((s) => s.attributes['tokenmeter.call.delegated'] === true)).toHaveLength(1);
    for (const s of tracing.ours()) expectContext(s);
  });

  test('its models already instrumented (instrumentModel): wrapped once, one span', async () => {
    const f = FIXTURES.openaiChat.ok;
    const openai = createOpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` });
    globals.AI_SDK_DEFAULT_PROVIDER = { languageModel: (id: string) => instrumentModel(openai.chat(id)) };
    await inContext(() => ai.generateText({ model: f.model, prompt: 'Hello' }));
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('a step switching to a string model (prepareStep): that request is one span too', async () => {
    const ok = FIXTURES.gatewayLanguageModel.ok;
    globals.AI_SDK_DEFAULT_PROVIDER = gateway();
    const r = await inContext(() =>
      ai.generateText({
        model: createOpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` }).chat('gpt-4o-mini'),
        prompt: 'Hello',
        prepareStep: async () => ({ model: ok.model }),
      }),
    );
    expect(r.text).toBe(ok.text);
    expect(server.requests[0]?.path).toBe('/v3/ai/language-model');
    const span = await oneSpan();
    expectExactCall(span, 'openai', 'gpt-4o-mini', ok.tokens!);
    expect(span.attributes['gen_ai.response.id']).toBe(ok.id);
  });
});
