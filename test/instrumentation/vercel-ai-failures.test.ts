/**
 * Vercel `ai` (v6) with `@ai-sdk/openai` against the replay server, when calls fail: the ai
 * SDK's own retries (a 429 then a 200: one logical call, one span, one cost), errors that
 * reach the app (one failed span, no cost) and aborts (the span ends with what was seen).
 */
import * as aiModule from 'ai';
import { describe, expect, test } from 'vitest';
import { instrumentAiModule } from '../../instrumentation/src/instrumentations/vercel-ai.js';
import { FIXTURES } from '../replay/fixtures.js';
import type { Scenario } from '../replay/server.js';
import { replayOpenAI } from './ai-openai.js';
import {
  countedCalls,
  engineCost,
  expectContext,
  expectExactCall,
  expectFailedCall,
  inContext,
  oneSpan as oneOf,
  setupTracing,
  tokensOf,
  useReplayServer,
} from './support.js';

const tracing = setupTracing();
const ai = instrumentAiModule({ ...aiModule });

const server = useReplayServer(tracing);

const provider = (scenario?: Scenario) => replayOpenAI(server, scenario);
const oneSpan = () => oneOf(tracing);
const chat = FIXTURES.openaiChat.ok;
const responses = FIXTURES.openaiResponses.ok;

describe('the ai SDK’s own retries (429 with retry-after: 0, then 200)', () => {
  test('generateText: one span, one cost, the retry counted', async () => {
    const r = await inContext(() =>
      ai.generateText({ model: provider('rate-limit-once').chat(chat.model), prompt: 'Hello' }),
    );
    expect(r.text).toBe(chat.text);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'openai', chat.model, chat.tokens!);
    expectContext(span);
    expect(span.status.code).not.toBe(2);
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.attributes['tokenmeter.request.retries']).toBe(1);
  });

  test('streamText: one span, one cost', async () => {
    const r = inContext(() => ai.streamText({ model: provider('rate-limit-once')(responses.model), prompt: 'Hello' }));
    let text = '';
    for await (const t of r.textStream) text += t;
    expect(text).toBe(responses.text);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'openai', responses.model, responses.tokens!);
    expectContext(span);
    expect(span.attributes['tokenmeter.request.retries']).toBe(1);
  });

  test('embed: one span, one cost', async () => {
    const f = FIXTURES.openaiEmbeddings.ok;
    await inContext(() => ai.embed({ model: provider('rate-limit-once').embedding(f.model), value: 'Hello' }));
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'openai', f.model, f.tokens!);
    expectContext(span);
  });

  test('with the ai SDK’s own telemetry on: still one counted call', async () => {
    await ai.generateText({
      model: provider('rate-limit-once').chat(chat.model),
      prompt: 'Hello',
      experimental_telemetry: { isEnabled: true },
    });
    await oneSpan();
    expect(tracing.spans().filter((s) => s.name === 'ai.generateText.doGenerate')).toHaveLength(2);
    const calls = countedCalls(tracing.spans());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.scopeName).toBe('@tokenmeter/instrumentation');
  });
});

describe('errors reach the app unchanged; one failed span, no cost', () => {
  test('500 with maxRetries: 0: the APICallError as the ai SDK throws it', async () => {
    const err = await inContext(() =>
      ai.generateText({ model: provider('error-500').chat(chat.model), prompt: 'Hello', maxRetries: 0 }),
    ).catch((e) => e);
    expect(aiModule.APICallError.isInstance(err)).toBe(true);
    expect(err.statusCode).toBe(500);
    const span = await oneSpan();
    expectFailedCall(span, err.constructor.name);
    expectContext(span);
  });

  test('503 on every attempt (maxRetries: 1): RetryError to the app, one failed span', async () => {
    const err = await inContext(() =>
      ai.generateText({ model: provider('overloaded').chat(chat.model), prompt: 'Hello', maxRetries: 1 }),
    ).catch((e) => e);
    expect(aiModule.RetryError.isInstance(err)).toBe(true);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectFailedCall(span, 'APICallError'); // the provider's error, not the ai SDK's wrapper
    expectContext(span);
    expect(span.attributes['tokenmeter.request.retries']).toBe(1);
  }, 10_000);

  test('streamText 500: the error part reaches the app; one failed span', async () => {
    const errors: unknown[] = [];
    const r = inContext(() =>
      ai.streamText({
        model: provider('error-500')(responses.model),
        prompt: 'Hello',
        maxRetries: 0,
        onError: ({ error }) => void errors.push(error),
      }),
    );
    for await (const _ of r.textStream) {
    }
    expect(errors).toHaveLength(1);
    const span = await oneSpan();
    expectFailedCall(span, (errors[0] as Error).constructor.name);
    expectContext(span);
  });
});

describe('abort', () => {
  test('streamText aborted mid-stream: the span ends with what was seen, estimated', async () => {
    const controller = new AbortController();
    const r = inContext(() =>
      ai.streamText({
        model: provider('slow-stream').chat(chat.model),
        prompt: 'Hello',
        abortSignal: controller.signal,
      }),
    );
    const seen: string[] = [];
    for await (const t of r.textStream) {
      seen.push(t);
      if (seen.length === 2) controller.abort();
    }
    expect(seen.join('')).toBe(chat.chunks.slice(0, 2).join(''));
    const span = await oneSpan();
    expectContext(span);
    expect(span.attributes['tokenmeter.usage.estimated']).toBe(true);
    expect(span.status.code).toBe(2);
    const tokens = tokensOf(span);
    expect(tokens.outputTokens).toBe(2); // "The capital" in o200k
    expect(tokens.inputTokens).toBeGreaterThan(0);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('openai', chat.model, tokens));
  });

  test('generateText aborted while waiting: one failed span, no cost', async () => {
    const controller = new AbortController();
    const pending = inContext(() =>
      ai.generateText({
        model: provider('slow-stream').chat(chat.model),
        prompt: 'Hello',
        abortSignal: controller.signal,
      }),
    );
    setTimeout(() => controller.abort(), 50);
    const err = await pending.catch((e) => e);
    expect(err?.name).toBe('AbortError');
    const span = await oneSpan();
    expectContext(span);
    // A DOMException named AbortError: errorType uses its name.
    expect(span.attributes['error.type']).toBe('AbortError');
    expect(span.status.code).toBe(2);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
  });

  test('streamText left early (break): ai still reads the model’s answer to its end, so usage is exact', async () => {
    const r = inContext(() => ai.streamText({ model: provider('slow-stream').chat(chat.model), prompt: 'Hello' }));
    for await (const _ of r.textStream) break;
    const span = await oneSpan();
    expectExactCall(span, 'openai', chat.model, chat.tokens!);
    expectContext(span);
  });
});
