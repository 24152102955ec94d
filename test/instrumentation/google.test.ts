/**
 * The real `@google/genai` against the replay server, instrumented: per call kind (plain,
 * stream, tool call, automatic function calling, error, retry, abort) the span carries the
 * fixture's exact tokens (cached content, thoughts, audio in and out), the engine's cost and the
 * usage context.
 */
import * as genaiModule from '@google/genai';
import { type CallableTool, type FunctionCall, GoogleGenAI, type Part } from '@google/genai';
import { describe, expect, test } from 'vitest';
import { GoogleGenAIInstrumentation } from '../../instrumentation/src/instrumentations/google.js';
import { AFTER_TOOL, FIXTURES } from '../replay/fixtures.js';
import { SCENARIO_HEADER, type Scenario } from '../replay/server.js';
import {
  engineCost,
  expectContext,
  expectExactCall,
  expectFailedCall,
  inContext,
  oneSpan as oneOf,
  scenarios,
  setupTracing,
  tokensOf,
  until,
  useReplayServer,
} from './support.js';

const tracing = setupTracing();
new GoogleGenAIInstrumentation().apply(genaiModule);

const server = useReplayServer(tracing);

const oneSpan = () => oneOf(tracing);
const google = (scenario?: Scenario, retry = false) =>
  new GoogleGenAI({
    apiKey: 'test',
    httpOptions: {
      baseUrl: server.url,
      headers: scenario ? { [SCENARIO_HEADER]: scenario } : {},
      ...(retry ? { retryOptions: { attempts: 2, initialDelay: 0.001 } } : {}),
    },
  });

describe('generateContent and generateContentStream', () => {
  test.each(scenarios(FIXTURES.googleGenerateContent))('%s: generateContent', async (scenario, f) => {
    const res = await inContext(() => google(scenario).models.generateContent({ model: f.model, contents: 'Hello' }));
    expect(res.responseId).toBe(f.id);
    const span = await oneSpan();
    expectExactCall(span, 'google', f.model, f.tokens!);
    expectContext(span);
    expect(span.name).toBe(`generate_content ${f.model}`);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gen_ai',
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': f.model,
      'gen_ai.response.model': f.model,
      'gen_ai.response.id': f.id,
      'gen_ai.response.finish_reasons': [f.finishReason],
    });
  });

  test.each(scenarios(FIXTURES.googleGenerateContent))('%s: generateContentStream', async (scenario, f) => {
    const stream = await inContext(() =>
      google(scenario).models.generateContentStream({ model: f.model, contents: 'Hello' }),
    );
    let text = '';
    for await (const chunk of stream) text += chunk.candidates?.[0]?.content?.parts?.[0]?.text ?? '';
    expect(text).toBe(f.text);
    const span = await oneSpan();
    // Early chunks carry only the prompt side; the last chunk's full counts win, never a sum.
    expectExactCall(span, 'google', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes['gen_ai.request.stream']).toBe(true);
    expect(span.attributes['gen_ai.response.id']).toBe(f.id);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual([f.finishReason]);
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
  });

  test('the fixtures state every token kind Gemini reports: cached content, thoughts, audio in and out', () => {
    expect(FIXTURES.googleGenerateContent.cache.tokens!.cacheReadTokens).toBeGreaterThan(0);
    expect(FIXTURES.googleGenerateContent.reasoning.tokens!.reasoningTokens).toBeGreaterThan(0);
    expect(FIXTURES.googleGenerateContent.audio.tokens!.inputAudioTokens).toBeGreaterThan(0);
    expect(FIXTURES.googleGenerateContent.speech.tokens!.outputAudioTokens).toBeGreaterThan(0);
  });
});

describe('audio tokens (promptTokensDetails / candidatesTokensDetails by modality)', () => {
  const calls = {
    generateContent: (scenario: Scenario, model: string) =>
      google(scenario).models.generateContent({ model, contents: 'Hello' }),
    generateContentStream: async (scenario: Scenario, model: string) => {
      const stream = await google(scenario).models.generateContentStream({ model, contents: 'Hello' });
      for await (const _ of stream) {
      }
    },
  };

  test.each(Object.keys(calls) as (keyof typeof calls)[])(
    '%s, an audio prompt: the AUDIO part is gen_ai.usage.audio.input_tokens, priced at the audio rate',
    async (kind) => {
      const f = FIXTURES.googleGenerateContent.audio;
      await inContext(() => calls[kind]('audio', f.model));
      const span = await oneSpan();
      expect(span.attributes['gen_ai.usage.input_tokens']).toBe(f.usage!.input); // TEXT and AUDIO together
      expect(span.attributes['gen_ai.usage.audio.input_tokens']).toBe(f.usage!.audioInput);
      expect(span.attributes['gen_ai.usage.audio.output_tokens']).toBeUndefined();
      const cost = engineCost('google', f.model, f.tokens!);
      expect(span.attributes['gen_ai.usage.cost.amount']).toBe(cost);
      // gemini-2.5-flash prices audio input above text: counting it as text would cost less.
      expect(cost).not.toBe(engineCost('google', f.model, { ...f.tokens!, inputAudioTokens: 0 }));
      expectContext(span);
    },
  );

  test.each(Object.keys(calls) as (keyof typeof calls)[])(
    '%s, cached content holding audio: the cached audio is priced once, at the cached-audio rate',
    async (kind) => {
      const f = FIXTURES.googleGenerateContent['cached-audio'];
      await inContext(() => calls[kind]('cached-audio', f.model));
      const span = await oneSpan();
      expect(span.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(812);
      expect(span.attributes['gen_ai.usage.audio.input_tokens']).toBe(800);
      expect(span.attributes['tokenmeter.usage.cache_read.audio.input_tokens']).toBe(800);
      // Gemini 2.0 Flash (ai.google.dev/gemini-api/docs/pricing, read 2026-12-07), per 1M tokens:
      // text input $0.10, cached text $0.025, cached audio $0.175, output $0.40.
      // 9 × 0.10e-6 + 12 × 0.025e-6 + 800 × 0.175e-6 + 17 × 0.40e-6 = $0.000148.
      expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.000148');
      expectContext(span);
    },
  );

  test.each(Object.keys(calls) as (keyof typeof calls)[])(
    '%s, a TTS answer: the AUDIO candidates are gen_ai.usage.audio.output_tokens',
    async (kind) => {
      const f = FIXTURES.googleGenerateContent.speech;
      await inContext(() => calls[kind]('speech', f.model));
      const span = await oneSpan();
      expect(span.attributes['gen_ai.usage.output_tokens']).toBe(f.usage!.output);
      expect(span.attributes['gen_ai.usage.audio.output_tokens']).toBe(f.usage!.audioOutput);
      expect(span.attributes['gen_ai.usage.audio.input_tokens']).toBeUndefined();
      expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('google', f.model, f.tokens!));
      expectContext(span);
    },
  );
});

describe('tool calls', () => {
  const f = FIXTURES.googleGenerateContent['tool-call'];
  const after = AFTER_TOOL.googleGenerateContent!;
  const declaration = {
    name: 'get_weather',
    parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } },
  };

  /** A tool the SDK can call itself: automatic function calling (AFC). */
  function weatherTool(calls: FunctionCall[]): CallableTool {
    return {
      tool: async () => ({ functionDeclarations: [declaration] }),
      callTool: async (functionCalls: FunctionCall[]): Promise<Part[]> => {
        calls.push(...functionCalls);
        return functionCalls.map((c) => ({ functionResponse: { name: c.name, response: { temperature: 18 } } }));
      },
    };
  }

  /** The two round-trips of one AFC call: each its own span with exact usage; the sum is the whole call. */
  async function expectTwoRoundTrips(): Promise<void> {
    await until(() => tracing.ours().length >= 2);
    await new Promise((r) => setTimeout(r, 10));
    const spans = tracing.ours();
    expect(spans).toHaveLength(2);
    // By start time: seconds, then nanoseconds.
    const [first, second] = [...spans].sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    expectExactCall(first, 'google', f.model, f.tokens!);
    expectExactCall(second, 'google', after.model, after.tokens!);
    for (const s of spans) expectContext(s);
    expect(first!.attributes['gen_ai.response.id']).toBe(f.id);
    expect(second!.attributes['gen_ai.response.id']).toBe(after.id);
    const total = (k: 'inputTokens' | 'outputTokens' | 'reasoningTokens') =>
      spans.reduce((sum, s) => sum + tokensOf(s)[k], 0);
    expect(total('inputTokens')).toBe(f.tokens!.inputTokens + after.tokens!.inputTokens);
    expect(total('outputTokens')).toBe(f.tokens!.outputTokens + after.tokens!.outputTokens);
    expect(total('reasoningTokens')).toBe(after.tokens!.reasoningTokens);
    const cost = spans.reduce((sum, s) => sum + Number(s.attributes['gen_ai.usage.cost.amount']), 0);
    expect(cost).toBeCloseTo(
      Number(engineCost('google', f.model, f.tokens!)) + Number(engineCost('google', after.model, after.tokens!)),
      12,
    );
    // The second request carried the tool's result back to the model.
    expect(JSON.stringify(server.requests[1]?.body)).toContain('functionResponse');
  }

  test('a declared function: the app gets the functionCall; one exact span', async () => {
    const res = await inContext(() =>
      google('tool-call').models.generateContent({
        model: f.model,
        contents: 'Weather in Paris?',
        config: { tools: [{ functionDeclarations: [declaration] }] },
      }),
    );
    expect(res.functionCalls).toEqual([{ name: f.toolCall!.name, args: f.toolCall!.arguments }]);
    const span = await oneSpan();
    expectExactCall(span, 'google', f.model, f.tokens!);
    expectContext(span);
  });

  test('automatic function calling (generateContent): one span per model round-trip, exact usage, right sum', async () => {
    const calls: FunctionCall[] = [];
    const res = await inContext(() =>
      google('tool-call').models.generateContent({
        model: f.model,
        contents: 'Weather in Paris?',
        config: { tools: [weatherTool(calls)] },
      }),
    );
    expect(calls).toEqual([{ name: f.toolCall!.name, args: f.toolCall!.arguments }]);
    expect(res.text).toBe(after.text);
    expect(res.automaticFunctionCallingHistory).toHaveLength(3); // prompt, functionCall, functionResponse
    expect(server.requests).toHaveLength(2);
    await expectTwoRoundTrips();
  });

  test('automatic function calling (generateContentStream): one span per model round-trip', async () => {
    const calls: FunctionCall[] = [];
    const stream = await inContext(() =>
      google('tool-call').models.generateContentStream({
        model: f.model,
        contents: 'Weather in Paris?',
        config: { tools: [weatherTool(calls)] },
      }),
    );
    let text = '';
    for await (const chunk of stream) if (chunk.candidates?.[0]?.content?.role !== 'user') text += chunk.text ?? '';
    expect(calls).toHaveLength(1);
    expect(text).toBe(after.text);
    expect(server.requests).toHaveLength(2);
    await expectTwoRoundTrips();
  });
});

describe('failures', () => {
  test('429 then 200 with retryOptions: one span, one cost', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    await inContext(() =>
      google('rate-limit-once', true).models.generateContent({ model: f.model, contents: 'Hello' }),
    );
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'google', f.model, f.tokens!);
    expectContext(span);
  });

  test('429 then 200 on a stream: one span, one cost', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const stream = await inContext(() =>
      google('rate-limit-once', true).models.generateContentStream({ model: f.model, contents: 'Hello' }),
    );
    for await (const _ of stream) {
    }
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'google', f.model, f.tokens!);
    expectContext(span);
  });

  test('500: the app gets the SDK’s ApiError unchanged; the span has error.type and no cost', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const err = await inContext(() =>
      google('error-500').models.generateContent({ model: f.model, contents: 'Hello' }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(genaiModule.ApiError);
    expect(err.status).toBe(500);
    const span = await oneSpan();
    expectFailedCall(span, 'ApiError');
    expectContext(span);
  });

  test('503 on a stream: ApiError, one failed span', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const err = await inContext(() =>
      google('overloaded').models.generateContentStream({ model: f.model, contents: 'Hello' }),
    ).catch((e) => e);
    expect(err.status).toBe(503);
    const span = await oneSpan();
    expectFailedCall(span, 'ApiError');
    expectContext(span);
  });

  test('abort mid-stream: the app gets the SDK’s AbortError, the span ends with what was seen', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const controller = new AbortController();
    const stream = await inContext(() =>
      google('slow-stream').models.generateContentStream({
        model: f.model,
        contents: 'Hello',
        config: { abortSignal: controller.signal },
      }),
    );
    let n = 0;
    const err = await (async () => {
      for await (const _ of stream) if (++n === 2) controller.abort();
    })().catch((e) => e);
    expect(err?.name).toBe('AbortError');
    expect(n).toBe(2);
    const span = await oneSpan();
    expectContext(span);
    // The SDK's AbortError is a DOMException: errorType uses its name.
    expect(span.attributes['error.type']).toBe('AbortError');
    expect(span.status.code).toBe(2);
    // Gemini's early chunks report the prompt side: the input count is already exact.
    const tokens = tokensOf(span);
    expect(tokens.inputTokens).toBe(f.tokens!.inputTokens);
    expect(tokens.outputTokens).toBeLessThan(f.tokens!.outputTokens);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('google', f.model, tokens));
  });
});

test('embedContent: Gemini reports no usage: estimated and priced, marked estimated', async () => {
  const f = FIXTURES.googleEmbedContent.ok;
  const res = await inContext(() => google().models.embedContent({ model: f.model, contents: ['Hello world'] }));
  expect(res.embeddings?.[0]?.values).toHaveLength(f.dimensions!);
  const span = await oneSpan();
  expectContext(span);
  expect(span.attributes['gen_ai.operation.name']).toBe('embeddings');
  expect(span.attributes['tokenmeter.usage.estimated']).toBe(true);
  expect(span.attributes['gen_ai.usage.input_tokens']).toBe(3); // "Hello world\n" in o200k
  const tokens = tokensOf(span);
  expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('google', f.model, tokens));
});
