/**
 * The real `@google/genai` and `@aws-sdk/client-bedrock-runtime` (over h2c) against the replay
 * server, instrumented.
 */
import * as bedrockModule from '@aws-sdk/client-bedrock-runtime';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import * as genaiModule from '@google/genai';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { withUsageContext } from '../../instrumentation/src/core/usage-context.js';
import { BedrockInstrumentation } from '../../instrumentation/src/instrumentations/bedrock.js';
import { GoogleGenAIInstrumentation } from '../../instrumentation/src/instrumentations/google.js';
import { setAwsScenario } from '../replay/client-helpers.js';
import { type ContentScenario, FIXTURES, type Fixture } from '../replay/fixtures.js';
import { type ReplayServer, SCENARIO_HEADER, type Scenario, startReplayServer } from '../replay/server.js';
import { expectExactCall, setupTracing, until } from './support.js';

const tracing = setupTracing();
new GoogleGenAIInstrumentation().apply(genaiModule);
new BedrockInstrumentation().apply(bedrockModule);

let server: ReplayServer;
const clients: BedrockRuntimeClient[] = [];
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
});
beforeEach(() => {
  server.reset();
  tracing.reset();
});

const scenarios = (f: Partial<Record<ContentScenario, Fixture>>) => Object.entries(f) as [ContentScenario, Fixture][];
const oneSpan = async () => {
  await until(() => tracing.ours().length >= 1);
  await new Promise((r) => setTimeout(r, 10));
  expect(tracing.ours()).toHaveLength(1);
  return tracing.ours()[0];
};

const google = (scenario?: Scenario, retry = false) =>
  new GoogleGenAI({
    apiKey: 'test',
    httpOptions: {
      baseUrl: server.url,
      headers: scenario ? { [SCENARIO_HEADER]: scenario } : {},
      ...(retry ? { retryOptions: { attempts: 2, initialDelay: 0.001 } } : {}),
    },
  });

describe('@google/genai', () => {
  test.each(scenarios(FIXTURES.googleGenerateContent))('%s: generateContent', async (scenario, f) => {
    const res = await withUsageContext({ tenant: 'g', feature: 'summarise' }, () =>
      google(scenario).models.generateContent({ model: f.model, contents: 'Hello' }),
    );
    expect(res.responseId).toBe(f.id);
    const span = await oneSpan();
    expectExactCall(span, 'google', f.model, f.tokens!);
    expect(span?.name).toBe(`generate_content ${f.model}`);
    expect(span?.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gen_ai',
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.response.id': f.id,
      'gen_ai.response.finish_reasons': [f.finishReason],
      'tokenmeter.tenant': 'g',
      'tokenmeter.feature': 'summarise',
    });
  });

  test.each(scenarios(FIXTURES.googleGenerateContent))('%s: generateContentStream', async (scenario, f) => {
    const stream = await google(scenario).models.generateContentStream({ model: f.model, contents: 'Hello' });
    let text = '';
    for await (const chunk of stream) text += chunk.text ?? '';
    if (scenario !== 'tool-call') expect(text).toBe(f.text);
    expectExactCall(await oneSpan(), 'google', f.model, f.tokens!);
  });

  test('429 then 200 with retryOptions: one span, one cost', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    await google('rate-limit-once', true).models.generateContent({ model: f.model, contents: 'Hello' });
    expect(server.requests).toHaveLength(2);
    expectExactCall(await oneSpan(), 'google', f.model, f.tokens!);
  });

  test('error passes through unchanged', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const err = await google('error-500')
      .models.generateContent({ model: f.model, contents: 'Hello' })
      .catch((e) => e);
    expect(err?.status).toBe(500);
    const span = await oneSpan();
    expect(span?.attributes['error.type']).toBeDefined();
    expect(span?.attributes['gen_ai.usage.cost.amount']).toBeUndefined();
  });

  test('abort mid-stream: the app gets the SDK’s AbortError, the span ends with what was seen', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const controller = new AbortController();
    const stream = await google('slow-stream').models.generateContentStream({
      model: f.model,
      contents: 'Hello',
      config: { abortSignal: controller.signal },
    });
    let n = 0;
    const err = await (async () => {
      for await (const _ of stream) if (++n === 2) controller.abort();
    })().catch((e) => e);
    expect(err?.name).toMatch(/Abort/);
    const span = await oneSpan();
    expect(span?.attributes['error.type']).toBeDefined();
    // Gemini's early chunks report the prompt side: the input count is already exact.
    expect(span?.attributes['gen_ai.usage.input_tokens']).toBe(f.tokens!.inputTokens);
  });

  test('embedContent: Gemini reports no usage: estimated and priced, marked estimated', async () => {
    const f = FIXTURES.googleEmbedContent.ok;
    const res = await google().models.embedContent({ model: f.model, contents: ['Hello world'] });
    expect(res.embeddings?.[0]?.values).toHaveLength(f.dimensions!);
    const span = await oneSpan();
    expect(span?.attributes['gen_ai.operation.name']).toBe('embeddings');
    expect(span?.attributes['tokenmeter.usage.estimated']).toBe(true);
    expect(span?.attributes['gen_ai.usage.input_tokens']).toBe(3); // "Hello world\n" in o200k
  });
});

function bedrock(scenario?: Scenario, extra: Record<string, unknown> = {}) {
  const client = new BedrockRuntimeClient({
    endpoint: server.h2Url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    ...extra,
  });
  if (scenario) setAwsScenario(client, scenario);
  clients.push(client);
  return client;
}
const messages = [{ role: 'user' as const, content: [{ text: 'Hello' }] }];
const anthropicBody = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Hello' }],
});

describe('@aws-sdk/client-bedrock-runtime', () => {
  test.each(scenarios(FIXTURES.bedrockConverse))('%s: Converse and ConverseStream', async (scenario, f) => {
    const res = await bedrock(scenario).send(new ConverseCommand({ modelId: f.model, messages }));
    expect(res.stopReason).toBe(f.finishReason);
    let span = await oneSpan();
    expectExactCall(span, 'bedrock', f.model, f.tokens!);
    expect(span?.attributes['gen_ai.provider.name']).toBe('aws.bedrock');
    expect(span?.attributes['gen_ai.response.id']).toBe(f.id);
    tracing.reset();
    const stream = await bedrock(scenario).send(new ConverseStreamCommand({ modelId: f.model, messages }));
    let text = '';
    for await (const e of stream.stream!) text += e.contentBlockDelta?.delta?.text ?? '';
    if (f.text) expect(text).toBe(f.text);
    span = await oneSpan();
    expectExactCall(span, 'bedrock', f.model, f.tokens!);
    expect(span?.attributes['gen_ai.request.stream']).toBe(true);
  });

  test.each(scenarios(FIXTURES.bedrockInvoke))(
    '%s: InvokeModel and InvokeModelWithResponseStream',
    async (scenario, f) => {
      const res = await bedrock(scenario).send(new InvokeModelCommand({ modelId: f.model, body: anthropicBody }));
      expect(JSON.parse(new TextDecoder().decode(res.body)).id).toBe(f.id);
      expectExactCall(await oneSpan(), 'bedrock', f.model, f.tokens!);
      tracing.reset();
      const stream = await bedrock(scenario).send(
        new InvokeModelWithResponseStreamCommand({ modelId: f.model, body: anthropicBody }),
      );
      let events = 0;
      for await (const _ of stream.body!) events++;
      expect(events).toBeGreaterThan(3);
      expectExactCall(await oneSpan(), 'bedrock', f.model, f.tokens!);
    },
  );

  test('ConverseStream left early (break): the span ends, the stream is closed', async () => {
    const f = FIXTURES.bedrockConverse.ok;
    const controller = new AbortController();
    const res = await bedrock('slow-stream').send(new ConverseStreamCommand({ modelId: f.model, messages }), {
      abortSignal: controller.signal,
    });
    for await (const _ of res.stream!) break;
    // The HTTP/2 stream stays open after a break (as without tokenmeter): release it.
    controller.abort();
    const span = await oneSpan();
    expect(span?.attributes['gen_ai.request.model']).toBe(f.model);
    expect(
      span?.attributes['gen_ai.usage.cost.amount'] === undefined ||
        span?.attributes['tokenmeter.usage.estimated'] === true,
    ).toBe(true);
  });

  test('throttled then ok: one span', async () => {
    const f = FIXTURES.bedrockConverse.ok;
    await bedrock('rate-limit-once').send(new ConverseCommand({ modelId: f.model, messages }));
    expect(server.requests).toHaveLength(2);
    expectExactCall(await oneSpan(), 'bedrock', f.model, f.tokens!);
  });

  test('error passes through unchanged', async () => {
    const f = FIXTURES.bedrockConverse.ok;
    const err = await bedrock('error-500', { maxAttempts: 1 })
      .send(new ConverseCommand({ modelId: f.model, messages }))
      .catch((e) => e);
    expect(err?.$metadata?.httpStatusCode).toBe(500);
    const span = await oneSpan();
    expect(span?.attributes['error.type']).toBe(err.name);
  });
});
