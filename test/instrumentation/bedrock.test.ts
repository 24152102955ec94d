/**
 * The real `@aws-sdk/client-bedrock-runtime` (HTTP/2, h2c) against the replay server,
 * instrumented: per command (Converse, ConverseStream, InvokeModel,
 * InvokeModelWithResponseStream) and per call kind (plain, stream, tool call, error, retry,
 * abort) the span carries the fixture's exact tokens (cache read, cache write 5m/1h), the
 * engine's cost and the usage context.
 */
import * as bedrockModule from '@aws-sdk/client-bedrock-runtime';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, test } from 'vitest';
import { BedrockInstrumentation } from '../../instrumentation/src/instrumentations/bedrock.js';
import { replayBedrockClients } from '../replay/client-helpers.js';
import { FIXTURES, type Fixture } from '../replay/fixtures.js';
import { type Scenario } from '../replay/server.js';
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
  useReplayServer,
} from './support.js';

const tracing = setupTracing();
new BedrockInstrumentation().apply(bedrockModule);

const clients = replayBedrockClients(() => server.h2Url);
const server = useReplayServer(tracing, () => clients.destroyAll());

const oneSpan = () => oneOf(tracing);
const bedrock = (scenario?: Scenario, extra?: Record<string, unknown>) => clients.client(scenario, extra);
const messages = [{ role: 'user' as const, content: [{ text: 'Hello' }] }];
const anthropicBody = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Hello' }],
});
const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes));

/** Each command, sent and read to the end; returns what the app saw. */
const COMMANDS = {
  Converse: async (client: BedrockRuntimeClient, f: Fixture) => {
    const res = await client.send(new ConverseCommand({ modelId: f.model, messages }));
    return { stop: res.stopReason, content: res.output?.message?.content ?? [] };
  },
  ConverseStream: async (client: BedrockRuntimeClient, f: Fixture) => {
    const res = await client.send(new ConverseStreamCommand({ modelId: f.model, messages }));
    let text = '';
    let stop: string | undefined;
    for await (const e of res.stream!) {
      text += e.contentBlockDelta?.delta?.text ?? '';
      stop = e.messageStop?.stopReason ?? stop;
    }
    return { stop, text };
  },
  InvokeModel: async (client: BedrockRuntimeClient, f: Fixture) => {
    const res = await client.send(new InvokeModelCommand({ modelId: f.model, body: anthropicBody }));
    const body = decode(res.body);
    return { stop: body.stop_reason, content: body.content, id: body.id };
  },
  InvokeModelWithResponseStream: async (client: BedrockRuntimeClient, f: Fixture) => {
    const res = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: f.model, body: anthropicBody }));
    let stop: string | undefined;
    let text = '';
    for await (const e of res.body!) {
      const event = decode(e.chunk?.bytes);
      if (event.type === 'message_delta') stop = event.delta.stop_reason;
      if (event.delta?.type === 'text_delta') text += event.delta.text;
    }
    return { stop, text };
  },
};
type CommandName = keyof typeof COMMANDS;
const fixturesOf = (name: CommandName) =>
  name.startsWith('Converse') ? FIXTURES.bedrockConverse : FIXTURES.bedrockInvoke;
const isStream = (name: CommandName) => name === 'ConverseStream' || name === 'InvokeModelWithResponseStream';
const ROWS = (Object.keys(COMMANDS) as CommandName[]).flatMap((name) =>
  scenarios(fixturesOf(name)).map(([scenario, f]) => [name, scenario, f] as const),
);

describe.each(Object.keys(COMMANDS) as CommandName[])('%s', (name) => {
  const ok = fixturesOf(name).ok;

  test('429 (ThrottlingException) then 200 inside the SDK: one span, one cost', async () => {
    const seen = await inContext(() => COMMANDS[name](bedrock('rate-limit-once'), ok));
    expect(seen.stop).toBe(ok.finishReason);
    expect(server.requests).toHaveLength(2);
    const span = await oneSpan();
    expectExactCall(span, 'bedrock', ok.model, ok.tokens!);
    expectContext(span);
  });

  test('500 with no retries: the SDK’s exception unchanged; error.type, no cost', async () => {
    const err = await inContext(() => COMMANDS[name](bedrock('error-500', { maxAttempts: 1 }), ok)).catch((e) => e);
    expect(err?.name).toBe('InternalServerException');
    expect(err?.$metadata?.httpStatusCode).toBe(500);
    const span = await oneSpan();
    expectFailedCall(span, 'InternalServerException');
    expectContext(span);
    expect(span.attributes['gen_ai.request.model']).toBe(ok.model);
  });
});

test.each(ROWS)('%s %s: exact tokens, engine cost, context', async (name, scenario, f) => {
  const seen = await inContext(() => COMMANDS[name](bedrock(scenario), f));
  expect(seen.stop).toBe(f.finishReason);
  if ('text' in seen && f.text) expect(seen.text).toBe(f.text);
  const span = await oneSpan();
  expectExactCall(span, 'bedrock', f.model, f.tokens!);
  expectContext(span);
  expect(span.attributes).toMatchObject({
    'gen_ai.provider.name': 'aws.bedrock',
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': f.model,
    'gen_ai.response.finish_reasons': [f.finishReason],
  });
  if (isStream(name)) expect(span.attributes['gen_ai.request.stream']).toBe(true);
  if (name === 'Converse' || name === 'ConverseStream') expect(span.attributes['gen_ai.response.id']).toBe(f.id);
  if (name === 'InvokeModel') expect(span.attributes['gen_ai.response.id']).toBe(f.id);
});

test('the cache fixtures state every cache kind: read, write 5m and write 1h', () => {
  for (const f of [FIXTURES.bedrockConverse.cache, FIXTURES.bedrockInvoke.cache]) {
    const t = f.tokens!;
    expect(t.cacheReadTokens).toBeGreaterThan(0);
    expect(t.cacheWrite1hTokens).toBeGreaterThan(0);
    expect(t.cacheWriteTokens - t.cacheWrite1hTokens).toBeGreaterThan(0);
  }
});

test('tool call: the app gets the toolUse / tool_use block', async () => {
  const converse = FIXTURES.bedrockConverse['tool-call'];
  const c = await COMMANDS.Converse(bedrock('tool-call'), converse);
  expect(c.content.find((b) => b.toolUse)?.toolUse).toMatchObject({
    toolUseId: converse.toolCall!.id,
    name: converse.toolCall!.name,
    input: converse.toolCall!.arguments,
  });
  const invoke = FIXTURES.bedrockInvoke['tool-call'];
  const i = await COMMANDS.InvokeModel(bedrock('tool-call'), invoke);
  expect(i.content.find((b: { type: string }) => b.type === 'tool_use')).toMatchObject({
    name: invoke.toolCall!.name,
    input: invoke.toolCall!.arguments,
  });
});

describe('abort mid-stream: the span ends with what was seen', () => {
  test('ConverseStream: no metadata event came, so the tokens are estimated', async () => {
    const f = FIXTURES.bedrockConverse.ok;
    const controller = new AbortController();
    const res = await inContext(() =>
      bedrock('slow-stream').send(new ConverseStreamCommand({ modelId: f.model, messages }), {
        abortSignal: controller.signal,
      }),
    );
    let text = '';
    for await (const e of res.stream!) {
      text += e.contentBlockDelta?.delta?.text ?? '';
      if (text) controller.abort(); // the AWS SDK then ends the iteration quietly
    }
    expect(text).toBe(f.chunks[0]);
    const span = await oneSpan();
    expectContext(span);
    expect(span.attributes['tokenmeter.usage.estimated']).toBe(true);
    const tokens = tokensOf(span);
    expect(tokens).toMatchObject({ inputTokens: 2, outputTokens: 1 }); // "Hello\n" and "The" in o200k
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('bedrock', f.model, tokens));
  });

  test('InvokeModelWithResponseStream: message_start reported the input side exactly', async () => {
    const f = FIXTURES.bedrockInvoke.ok;
    const controller = new AbortController();
    const res = await inContext(() =>
      bedrock('slow-stream').send(new InvokeModelWithResponseStreamCommand({ modelId: f.model, body: anthropicBody }), {
        abortSignal: controller.signal,
      }),
    );
    const seen: string[] = [];
    for await (const e of res.body!) {
      const event = decode(e.chunk?.bytes);
      seen.push(event.type);
      if (event.type === 'content_block_delta') controller.abort();
    }
    expect(seen).not.toContain('message_delta');
    const span = await oneSpan();
    expectContext(span);
    const tokens = tokensOf(span);
    expect(tokens.inputTokens).toBe(f.tokens!.inputTokens);
    expect(tokens.outputTokens).toBeGreaterThan(0);
    expect(tokens.outputTokens).toBeLessThan(f.tokens!.outputTokens);
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('bedrock', f.model, tokens));
  });

  test('ConverseStream left early (break): the span ends, the stream is released', async () => {
    const f = FIXTURES.bedrockConverse.ok;
    const controller = new AbortController();
    const res = await bedrock('slow-stream').send(new ConverseStreamCommand({ modelId: f.model, messages }), {
      abortSignal: controller.signal,
    });
    for await (const _ of res.stream!) break;
    // The HTTP/2 stream stays open after a break (as without tokenmeter): release it.
    controller.abort();
    const span = await oneSpan();
    expect(span.attributes['gen_ai.request.model']).toBe(f.model);
    // Only messageStart was seen: the prompt was sent (estimated), no output.
    expect(span.attributes['tokenmeter.usage.estimated']).toBe(true);
    const tokens = tokensOf(span);
    expect(tokens).toMatchObject({ inputTokens: 2, outputTokens: 0 }); // "Hello\n" in o200k
    expect(span.attributes['gen_ai.usage.cost.amount']).toBe(engineCost('bedrock', f.model, tokens));
  });
});
