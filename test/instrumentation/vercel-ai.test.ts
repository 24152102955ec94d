/**
 * Vercel `ai` (v6) with `@ai-sdk/openai` against the replay server: each provider request is
 * one span with exact usage; with the ai SDK's own telemetry on, or when the provider goes
 * through an SDK we instrument too, one call is still counted once.
 */
import { createOpenAI } from '@ai-sdk/openai';
import * as aiModule from 'ai';
import OpenAI, * as openaiModule from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { withUsageContext } from '../../instrumentation/src/core/usage-context.js';
import { OpenAIInstrumentation } from '../../instrumentation/src/instrumentations/openai.js';
import { instrumentAiModule, instrumentModel } from '../../instrumentation/src/instrumentations/vercel-ai.js';
import { normalizeSpan } from '../../instrumentation/src/normalize/normalize.js';
import type { SpanInput } from '../../instrumentation/src/normalize/types.js';
import { FIXTURES } from '../replay/fixtures.js';
import { type ReplayServer, startReplayServer } from '../replay/server.js';
import { expectExactCall, setupTracing, until } from './support.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);
// The module object as register's hook sees it (a copy here: an ESM namespace is frozen).
const ai = instrumentAiModule({ ...aiModule });

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.reset();
  tracing.reset();
});

const provider = () => createOpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` });
const oneSpan = async () => {
  await until(() => tracing.ours().length >= 1);
  await new Promise((r) => setTimeout(r, 10));
  expect(tracing.ours()).toHaveLength(1);
  return tracing.ours()[0];
};
const toInput = (s: any): SpanInput => ({
  traceId: s.spanContext().traceId,
  spanId: s.spanContext().spanId,
  parentSpanId: s.parentSpanContext?.spanId ?? '',
  traceState: '',
  name: s.name,
  kind: s.kind,
  startTimeUnixNano: 1n,
  endTimeUnixNano: 2n,
  attributes: s.attributes,
  resource: {},
  scope: { name: s.instrumentationScope.name, version: '' },
  status: { code: s.status.code, message: '' },
  events: [],
  links: [],
});
const countedCalls = () => tracing.spans().map(toInput).map(normalizeSpan).filter(Boolean);

describe('ai SDK', () => {
  test('generateText (chat model): one span, exact usage, attribution', async () => {
    const f = FIXTURES.openaiChat.ok;
    const r = await withUsageContext({ tenant: 'ai-co', feature: 'draft' }, () =>
      ai.generateText({ model: provider().chat(f.model), prompt: 'Hello' }),
    );
    expect(r.text).toBe(f.text);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expect(span?.attributes['tokenmeter.tenant']).toBe('ai-co');
    expect(span?.attributes['gen_ai.response.id']).toBe(f.id);
  });

  test('streamText (responses model): one span, exact usage', async () => {
    const f = FIXTURES.openaiResponses.ok;
    const r = ai.streamText({ model: provider()(f.model), prompt: 'Hello' });
    let text = '';
    for await (const t of r.textStream) text += t;
    expect(text).toBe(f.text);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expect(span?.attributes['gen_ai.request.stream']).toBe(true);
  });

  test('generateObject: one span, exact usage', async () => {
    const f = FIXTURES.openaiChat.ok;
    const fetchJson = async (url: any, init: any) => {
      // The replay answers text; generateObject needs JSON: rewrite the answer, keep the usage.
      const res = await fetch(url, init);
      const body: any = await res.json();
      body.choices[0].message.content = JSON.stringify({ city: 'Paris' });
      return Response.json(body);
    };
    const p = createOpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, fetch: fetchJson as any });
    const r = await ai.generateObject({
      model: p.chat(f.model),
      schema: aiModule.jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } } }),
      prompt: 'Hello',
    });
    expect(r.object.city).toBe('Paris');
    expectExactCall(await oneSpan(), 'openai', f.model, f.tokens!);
  });

  test('embed: one span with the provider’s token count', async () => {
    const f = FIXTURES.openaiEmbeddings.ok;
    const r = await ai.embed({ model: provider().embedding(f.model), value: 'Hello' });
    expect(r.embedding).toHaveLength(f.dimensions!);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
  });

  test('the ai SDK’s own telemetry on: its doGenerate span is marked delegated, one call counted', async () => {
    const f = FIXTURES.openaiChat.ok;
    await ai.generateText({
      model: provider().chat(f.model),
      prompt: 'Hello',
      experimental_telemetry: { isEnabled: true },
    });
    await oneSpan();
    expect(tracing.spans().some((s) => s.name === 'ai.generateText.doGenerate')).toBe(true);
    const calls = countedCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.scopeName).toBe('@tokenmeter/instrumentation');
    expect(calls[0]?.spanCost).toBeDefined();
  });

  test('a provider built on the openai SDK: the inner SDK span is the call, the ai span is delegated', async () => {
    const f = FIXTURES.openaiChat.ok;
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` });
    // A minimal LanguageModelV3 that calls the instrumented openai SDK.
    const model = {
      specificationVersion: 'v3' as const,
      provider: 'custom.chat',
      modelId: f.model,
      supportedUrls: {},
      async doGenerate() {
        const r = await client.chat.completions.create({
          model: f.model,
          messages: [{ role: 'user', content: 'Hello' }],
        });
        return {
          content: [{ type: 'text' as const, text: r.choices[0]?.message.content ?? '' }],
          finishReason: { unified: 'stop' as const, raw: 'stop' },
          usage: {
            inputTokens: { total: 999, noCache: 999, cacheRead: 0, cacheWrite: 0 },
            outputTokens: { total: 999, text: 999, reasoning: 0 },
          },
          warnings: [],
        };
      },
      async doStream(): Promise<never> {
        throw new Error('not used');
      },
    };
    const r = await ai.generateText({ model: instrumentModel(model) as any, prompt: 'Hello' });
    expect(r.text).toBe(f.text);
    await until(() => tracing.ours().length >= 2);
    const calls = countedCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.usage.inputTokens).toBe(f.tokens!.inputTokens); // the SDK's exact count, not the wrapper's 999
    const delegated = tracing.ours().find((s) => s.attributes['tokenmeter.call.delegated'] === true);
    expect(delegated?.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
  });
});
