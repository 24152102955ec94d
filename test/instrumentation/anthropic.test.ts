/**
 * The real `@anthropic-ai/sdk` against the replay server, instrumented: per call kind (plain,
 * stream, stream() helper, tool call, error, retry, abort) the span carries the fixture's exact
 * tokens (cache read, cache write 5m/1h, thinking), the engine's cost and the usage context.
 * Also: the SDK's own spans (scope com.anthropic.sdk.typescript) never duplicate a call we record.
 */
import { estimateTokens } from '../../instrumentation/src/core/estimate.js';
import Anthropic, * as anthropicModule from '@anthropic-ai/sdk';
import { describe, expect, test } from 'vitest';
import { AnthropicInstrumentation } from '../../instrumentation/src/instrumentations/anthropic.js';
import { FIXTURES, type Fixture } from '../replay/fixtures.js';
import { SCENARIO_HEADER, type Scenario } from '../replay/server.js';
import {
  countedCalls,
  engineCost,
  expectContext,
  expectExactCall,
  expectFailedCall,
  inContext,
  oneSpan as oneOf,
  scenarios,
  setupTracing,
  tokensOf,
  useReplayServer,
} from './support.js';

const tracing = setupTracing();
new AnthropicInstrumentation().apply(anthropicModule);

const server = useReplayServer(tracing);

const anthropic = (scenario?: Scenario, maxRetries = 2) =>
  new Anthropic({
    apiKey: 'sk-ant-test',
    baseURL: server.url,
    defaultHeaders: scenario ? { [SCENARIO_HEADER]: scenario } : {},
    maxRetries,
  });
const user = [{ role: 'user' as const, content: 'Hello' }];
const oneSpan = () => oneOf(tracing);

describe('messages.create', () => {
  test.each(scenarios(FIXTURES.anthropicMessages))('%s: plain', async (scenario, f) => {
    const res = await inContext(() =>
      anthropic(scenario).messages.create({ model: f.model, max_tokens: 1024, messages: user }),
    );
    expect(res.id).toBe(f.id);
    const span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
    expect(span.name).toBe(`chat ${f.model}`);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': f.model,
      'gen_ai.response.model': f.model,
      'gen_ai.request.max_tokens': 1024,
      'gen_ai.response.id': f.id,
      'gen_ai.response.finish_reasons': [f.finishReason],
    });
  });

  test.each(scenarios(FIXTURES.anthropicMessages))('%s: stream (create stream: true)', async (scenario, f) => {
    const stream = await inContext(() =>
      anthropic(scenario).messages.create({ model: f.model, max_tokens: 1024, messages: user, stream: true }),
    );
    let text = '';
    for await (const e of stream)
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    expect(text).toBe(f.text);
    const span = await oneSpan();
    // message_start's input side and provisional output, then message_delta's final counts: not summed.
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes['gen_ai.request.stream']).toBe(true);
    expect(span.attributes['gen_ai.response.id']).toBe(f.id);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual([f.finishReason]);
    expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
  });

  test.each(scenarios(FIXTURES.anthropicMessages))('%s: messages.stream() helper', async (scenario, f) => {
    const final = await inContext(() =>
      anthropic(scenario).messages.stream({ model: f.model, max_tokens: 1024, messages: user }).finalMessage(),
    );
    expect(final.id).toBe(f.id);
    const span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
  });

  test('web search server tool: its searches priced per 1,000 beside the tokens, at the published sheet', async () => {
    const f = FIXTURES.anthropicMessages['web-search'];
    await anthropic('web-search').messages.create({ model: f.model, max_tokens: 1024, messages: user });
    const span = await oneSpan();
    expect(span.attributes['tokenmeter.usage.web_search.calls']).toBe(3);
    // Claude Haiku 4.5 $1 / $5 per 1M input / output tokens, web search $10 per 1,000 searches
    // (docs.anthropic.com pricing, "Web search tool"; as of 2026-12-07 per @pydantic/genai-prices
    // 0.1.8, not fetched live): 6,000 × $0.000001 + 400 × $0.000005 + 3 × $0.01 = $0.038.
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe('0.038');
  });

  test('the cache fixture states every cache kind: read, write 5m and write 1h', () => {
    // Guards the matrix: the cache rows above assert all three only if the fixture has all three.
    const t = FIXTURES.anthropicMessages.cache.tokens!;
    expect(t.cacheReadTokens).toBeGreaterThan(0);
    expect(t.cacheWrite1hTokens).toBeGreaterThan(0);
    expect(t.cacheWriteTokens - t.cacheWrite1hTokens).toBeGreaterThan(0); // the 5m part
    expect(FIXTURES.anthropicMessages.reasoning.tokens!.reasoningTokens).toBeGreaterThan(0);
  });

  test('tool call: the app gets the tool_use block; plain and streamed, one exact span each', async () => {
    const f = FIXTURES.anthropicMessages['tool-call'];
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const } }];
    const res = await inContext(() =>
      anthropic('tool-call').messages.create({ model: f.model, max_tokens: 1024, messages: user, tools }),
    );
    expect(res.content.find((b) => b.type === 'tool_use')).toMatchObject({
      id: f.toolCall!.id,
      name: f.toolCall!.name,
      input: f.toolCall!.arguments,
    });
    let span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_use']);
    tracing.reset();
    // Streamed: the arguments arrive as input_json_delta pieces, which the helper reassembles.
    const final = await inContext(() =>
      anthropic('tool-call')
        .messages.stream({ model: f.model, max_tokens: 1024, messages: user, tools })
        .finalMessage(),
    );
    expect(final.content.find((b) => b.type === 'tool_use')).toMatchObject({ input: f.toolCall!.arguments });
    span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
    expect(span.attributes['gen_ai.response.finish_reasons']).toEqual(['tool_use']);
  });

  test('429 then 200 inside the SDK: one span, one cost', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const res = await inContext(() =>
      anthropic('rate-limit-once').messages.create({ model: f.model, max_tokens: 10, messages: user }),
    );
    expect(res.id).toBe(f.id);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
    expect(span.status.code).not.toBe(2);
  });

  test('429 then 200 on a stream: one span, one cost', async () => {
    const f = FIXTURES.anthropicMessages.ok; // rate-limit-once answers the ok fixture after its 429
    const stream = await inContext(() =>
      anthropic('rate-limit-once').messages.create({ model: f.model, max_tokens: 10, messages: user, stream: true }),
    );
    for await (const _ of stream) {
    }
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'anthropic', f.model, f.tokens!);
    expectContext(span);
  });

  test('500: the app gets the SDK error unchanged; the span has error.type and no cost', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const err = await inContext(() =>
      anthropic('error-500', 0).messages.create({ model: f.model, max_tokens: 10, messages: user }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err.status).toBe(500);
    const span = await oneSpan();
    expectFailedCall(span, 'InternalServerError');
    expectContext(span);
  });

  test('529 overloaded on every attempt: the SDK retries, then one failed span', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const err = await inContext(() =>
      anthropic('overloaded', 1).messages.create({ model: f.model, max_tokens: 10, messages: user, stream: true }),
    ).catch((e) => e);
    expect(err.status).toBe(529);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectFailedCall(span, err.constructor.name);
    expectContext(span);
  });

  test('abort mid-stream: the span ends with what was seen', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const stream = await inContext(() =>
      anthropic('slow-stream').messages.create({ model: f.model, max_tokens: 10, messages: user, stream: true }),
    );
    const seen: string[] = [];
    let reportedOutput = -1;
    let text = '';
    for await (const e of stream) {
      seen.push(e.type);
      if (e.type === 'message_start') reportedOutput = e.message.usage.output_tokens;
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      // A few deltas in: more output seen than message_start's provisional count.
      if (e.type === 'content_block_delta' && estimateTokens(text) > 2) stream.controller.abort();
    }
    expect(seen).not.toContain('message_delta');
    const span = await oneSpan();
    expectContext(span);
    // message_start already reported the input side: input is exact. Its output count is
    // provisional: cut short, the output is the larger of it and the text seen, estimated.
    const tokens = tokensOf(span);
    expect(tokens.inputTokens).toBe(f.tokens!.inputTokens);
    const expected = Math.max(reportedOutput, estimateTokens(text));
    expect(reportedOutput).toBeGreaterThanOrEqual(0);
    expect(tokens.outputTokens).toBe(expected);
    expect(tokens.outputTokens).toBeLessThan(f.tokens!.outputTokens);
    expect(expected).toBeGreaterThan(reportedOutput);
    expect(span.attributes['tokenmeter.usage.estimated']).toBe(true);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('anthropic', f.model, tokens));
    expect(span.attributes['gen_ai.response.finish_reasons']).toBeUndefined();
  });

  test('withResponse() still works', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const { data, response } = await anthropic()
      .messages.create({ model: f.model, max_tokens: 10, messages: user })
      .withResponse();
    expect(data.id).toBe(f.id);
    expect(response.status).toBe(200);
    expectExactCall(await oneSpan(), 'anthropic', f.model, f.tokens!);
  });
});

describe('the SDK’s own spans never count a call twice', () => {
  test.each([
    ['create', (c: Anthropic, f: Fixture) => c.messages.create({ model: f.model, max_tokens: 10, messages: user })],
    [
      'stream()',
      (c: Anthropic, f: Fixture) =>
        c.messages.stream({ model: f.model, max_tokens: 10, messages: user }).finalMessage(),
    ],
  ] as const)('%s: exactly one span normalises to an AI call', async (_name, call) => {
    const f = FIXTURES.anthropicMessages.ok;
    const client = anthropic();
    expect((client as any)._tracer).toBeDefined(); // the SDK would trace this call by itself
    await call(client, f);
    await oneSpan();
    const calls = countedCalls(tracing.spans());
    expect(calls).toHaveLength(1);
    expect(calls[0]?.scopeName).toBe('@tokenmeter/instrumentation');
  });
});
