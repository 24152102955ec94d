/**
 * Proves the replay is faithful enough for the other suites: every provider's real SDK,
 * pointed at the replay server, parses exactly the fixture's values.
 */
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { replayBedrockClients } from './client-helpers.js';
import {
  AFTER_TOOL,
  type ContentScenario,
  embeddingVector,
  FIXTURES,
  type Fixture,
  type ReportedUsage,
} from './fixtures.js';
import { type ReplayServer, SCENARIO_HEADER, type Scenario, splitModel, startReplayServer } from './server.js';

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.reset();
});

const headers = (scenario?: Scenario): Record<string, string> => (scenario ? { [SCENARIO_HEADER]: scenario } : {});
const openai = (scenario?: Scenario, maxRetries = 2) =>
  new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, defaultHeaders: headers(scenario), maxRetries });
const anthropic = (scenario?: Scenario, maxRetries = 2) =>
  new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.url, defaultHeaders: headers(scenario), maxRetries });
const google = (scenario?: Scenario, retry = false) =>
  new GoogleGenAI({
    apiKey: 'test',
    httpOptions: {
      baseUrl: server.url,
      headers: headers(scenario),
      ...(retry ? { retryOptions: { attempts: 2, initialDelay: 0.001 } } : {}),
    },
  });
const bedrockClients = replayBedrockClients(() => server.h2Url);
const bedrock = (scenario?: Scenario, extra?: Record<string, unknown>) => bedrockClients.client(scenario, extra);
afterAll(() => {
  bedrockClients.destroyAll();
});

const user = [{ role: 'user' as const, content: 'Hello' }];
const scenariosOf = (fixtures: Partial<Record<ContentScenario, Fixture>>) =>
  Object.entries(fixtures) as [ContentScenario, Fixture][];
const u = (f: Fixture): ReportedUsage => f.usage!;

/**
 * Aborts a slow stream after its second chunk. Returns how the SDK reported it: the Stainless
 * SDKs (openai, anthropic) and the AWS SDK end the iteration quietly, Google GenAI throws.
 */
async function abortMidStream(
  consume: (signal: AbortSignal, onChunk: () => void) => Promise<unknown>,
): Promise<'ended' | 'threw'> {
  const controller = new AbortController();
  let chunks = 0;
  const outcome = await consume(controller.signal, () => {
    chunks++;
    if (chunks === 2) controller.abort();
  }).then(
    () => 'ended' as const,
    (err: Error) => {
      expect(`${err.name} ${err.message}`).toMatch(/abort/i);
      return 'threw' as const;
    },
  );
  // Two chunks only: every slow stream has more, so the abort cut it short (and did not hang).
  expect(chunks).toBe(2);
  return outcome;
}

describe('OpenAI chat completions (openai SDK)', () => {
  test.each(scenariosOf(FIXTURES.openaiChat))('%s: JSON body parsed to the fixture', async (scenario, f) => {
    const res = await openai(scenario).chat.completions.create({ model: f.model, messages: user });
    expect(res.id).toBe(f.id);
    expect(res.model).toBe(f.model);
    expect(res.choices[0]!.finish_reason).toBe(f.finishReason);
    expect(res.usage).toMatchObject({
      prompt_tokens: u(f).input,
      completion_tokens: u(f).output,
      total_tokens: u(f).total,
      prompt_tokens_details: { cached_tokens: u(f).cacheRead, audio_tokens: u(f).audioInput },
      completion_tokens_details: { reasoning_tokens: u(f).reasoning, audio_tokens: u(f).audioOutput },
    });
    const message = res.choices[0]!.message;
    if (f.toolCall) {
      const call = message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.id).toBe(f.toolCall.id);
      expect(call.function.name).toBe(f.toolCall.name);
      expect(JSON.parse(call.function.arguments)).toEqual(f.toolCall.arguments);
    } else if (f.audio) {
      expect(message.audio).toMatchObject({ id: f.audio.id, data: f.audio.data, transcript: f.text });
    } else {
      expect(message.content).toBe(f.text);
    }
  });

  test('stream without include_usage: no usage chunk, no usage field', async () => {
    const f = FIXTURES.openaiChat.ok;
    const stream = await openai().chat.completions.create({ model: f.model, messages: user, stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe(f.text);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  test('stream with include_usage: exactly one usage chunk, last, with choices []', async () => {
    const f = FIXTURES.openaiChat.cache;
    const stream = await openai('cache').chat.completions.create({
      model: f.model,
      messages: user,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const withUsage = chunks.filter((c) => c.usage);
    expect(withUsage).toHaveLength(1);
    expect(withUsage[0]).toBe(chunks.at(-1));
    expect(withUsage[0]!.choices).toEqual([]);
    expect(withUsage[0]!.usage).toMatchObject({
      prompt_tokens: u(f).input,
      completion_tokens: u(f).output,
      prompt_tokens_details: { cached_tokens: u(f).cacheRead },
    });
    // Every other chunk says usage: null, as OpenAI documents.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  test('stream tool call: the stream helper assembles the arguments', async () => {
    const f = FIXTURES.openaiChat['tool-call'];
    const stream = openai('tool-call').chat.completions.stream({
      model: f.model,
      messages: user,
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe(f.toolCall!.name);
    expect(JSON.parse(call.function.arguments)).toEqual(f.toolCall!.arguments);
    expect(final.usage!.prompt_tokens).toBe(u(f).input);
  });

  test('stream audio: transcript and audio usage', async () => {
    const f = FIXTURES.openaiChat.audio;
    const stream = await openai('audio').chat.completions.create({
      model: f.model,
      messages: user,
      stream: true,
      stream_options: { include_usage: true },
    });
    let transcript = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      transcript += (chunk.choices[0]?.delta as { audio?: { transcript?: string } })?.audio?.transcript ?? '';
      usage ??= chunk.usage;
    }
    expect(transcript).toBe(f.text);
    expect(usage!.completion_tokens_details!.audio_tokens).toBe(u(f).audioOutput);
  });

  test('rate-limit-once (model suffix): one 429, one retry, one result', async () => {
    const f = FIXTURES.openaiChat.ok;
    const res = await openai().chat.completions.create({ model: `${f.model}@rate-limit-once`, messages: user });
    expect(res.id).toBe(f.id);
    expect(res.model).toBe(f.model);
    expect(server.requests).toHaveLength(2);
    expect(server.requests.map((r) => (r.body as { model: string }).model)).toEqual([
      `${f.model}@rate-limit-once`,
      `${f.model}@rate-limit-once`,
    ]);
    // A later call with the same key is not limited again.
    await openai().chat.completions.create({ model: `${f.model}@rate-limit-once`, messages: user });
    expect(server.requests).toHaveLength(3);
  });

  test('rate-limit-once without retries: the 429 in OpenAI shape', async () => {
    const err = await openai('rate-limit-once', 0)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: user })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.headers.get('retry-after')).toBe('0');
  });

  test('error-500: the SDK raises InternalServerError with the real body', async () => {
    const err = await openai('error-500', 0)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: user })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(500);
    expect(err.type).toBe('server_error');
    expect(server.requests).toHaveLength(1);
  });

  test('slow-stream: abort mid-stream with an AbortController', async () => {
    const outcome = await abortMidStream(async (signal, onChunk) => {
      const stream = await openai('slow-stream').chat.completions.create(
        { model: 'gpt-4o-mini', messages: user, stream: true },
        { signal },
      );
      for await (const _ of stream) onChunk();
    });
    expect(outcome).toBe('ended');
  });

  test('no-usage: JSON without usage, stream without usage chunk even when asked', async () => {
    const res = await openai('no-usage').chat.completions.create({ model: 'gpt-4o-mini', messages: user });
    expect(res.usage).toBeUndefined();
    const stream = await openai('no-usage').chat.completions.create({
      model: 'gpt-4o-mini',
      messages: user,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.filter((c) => c.usage)).toHaveLength(0);
  });

  test.each([
    ['Groq', '/openai/v1'],
    ['OpenRouter', '/api/v1'],
    ['DeepSeek', ''],
  ])('OpenAI-compatible host path (%s: %s)', async (_host, prefix) => {
    const client = new OpenAI({ apiKey: 'k', baseURL: `${server.url}${prefix}` });
    const res = await client.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: user });
    expect(res.model).toBe('llama-3.3-70b-versatile');
    expect(res.usage!.prompt_tokens).toBe(u(FIXTURES.openaiChat.ok).input);
    expect(server.requests[0]!.path).toBe(`${prefix}/chat/completions`);
  });

  test('Azure OpenAI: deployment path, api-version, content filters, stream quirk', async () => {
    const azure = new AzureOpenAI({
      endpoint: server.url,
      apiKey: 'azure-key',
      apiVersion: '2024-10-21',
      deployment: 'my-gpt4o-mini',
    });
    const res = await azure.chat.completions.create({ model: 'gpt-4o-mini', messages: user });
    expect(server.requests[0]!.path).toBe('/openai/deployments/my-gpt4o-mini/chat/completions?api-version=2024-10-21');
    expect(res.usage!.completion_tokens).toBe(u(FIXTURES.openaiChat.ok).output);
    expect((res as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(1);

    const stream = await azure.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: user,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    // Azure opens with a chunk that has no choices and no usage; usage still comes exactly once.
    expect(chunks[0]!.choices).toEqual([]);
    expect(chunks[0]!.usage).toBeUndefined();
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
  });
});

describe('OpenAI Responses API (openai SDK)', () => {
  test.each(scenariosOf(FIXTURES.openaiResponses))('%s: JSON body parsed to the fixture', async (scenario, f) => {
    const res = await openai(scenario).responses.create({
      model: f.model,
      input: 'Hello',
      ...(f.reasoning ? { reasoning: { effort: 'low', summary: 'auto' } } : {}),
    });
    expect(res.id).toBe(f.id);
    expect(res.model).toBe(f.model);
    expect(res.output_text).toBe(f.text);
    expect(res.usage).toEqual({
      input_tokens: u(f).input,
      input_tokens_details: { cached_tokens: u(f).cacheRead },
      output_tokens: u(f).output,
      output_tokens_details: { reasoning_tokens: u(f).reasoning },
      total_tokens: u(f).total,
    });
    if (f.toolCall) {
      const call = res.output.find((o) => o.type === 'function_call')!;
      expect(call).toMatchObject({ call_id: f.toolCall.id, name: f.toolCall.name });
      expect(JSON.parse((call as { arguments: string }).arguments)).toEqual(f.toolCall.arguments);
    }
    if (f.reasoning) {
      const reasoning = res.output.find((o) => o.type === 'reasoning')!;
      expect((reasoning as OpenAI.Responses.ResponseReasoningItem).summary[0]!.text).toBe(f.reasoning.text);
    }
  });

  test('stream: typed events, deltas join to the text, usage on response.completed', async () => {
    const f = FIXTURES.openaiResponses.reasoning;
    const stream = openai('reasoning').responses.stream({
      model: f.model,
      input: 'Hello',
      reasoning: { summary: 'auto' },
    });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.reasoning_summary_text.delta');
    expect(text).toBe(f.text);
    expect(final.id).toBe(f.id);
    expect(final.usage!.output_tokens_details.reasoning_tokens).toBe(u(f).reasoning);
  });

  test('stream tool call: function_call_arguments deltas', async () => {
    const f = FIXTURES.openaiResponses['tool-call'];
    const stream = await openai('tool-call').responses.create({ model: f.model, input: 'Hello', stream: true });
    let args = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.function_call_arguments.delta') args += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(JSON.parse(args)).toEqual(f.toolCall!.arguments);
    expect(completed!.usage!.input_tokens).toBe(u(f).input);
  });

  test('rate-limit-once (header): two requests, one result', async () => {
    const res = await openai('rate-limit-once').responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
    expect(res.id).toBe(FIXTURES.openaiResponses.ok.id);
    expect(server.requests).toHaveLength(2);
  });

  test('slow-stream: abort mid-stream', async () => {
    const outcome = await abortMidStream(async (signal, onChunk) => {
      const stream = await openai('slow-stream').responses.create(
        { model: 'gpt-4o-mini', input: 'Hello', stream: true },
        { signal },
      );
      for await (const _ of stream) onChunk();
    });
    expect(outcome).toBe('ended');
  });
});

describe('OpenAI embeddings (openai SDK)', () => {
  const f = FIXTURES.openaiEmbeddings.ok;

  test('default base64 encoding is decoded by the SDK to the fixture vector', async () => {
    const res = await openai().embeddings.create({ model: f.model, input: ['one', 'two'] });
    expect((server.requests[0]!.body as { encoding_format: string }).encoding_format).toBe('base64');
    expect(res.data).toHaveLength(2);
    expect(res.data[1]!.embedding).toEqual(embeddingVector(1, f.dimensions!));
    expect(res.usage).toEqual({ prompt_tokens: u(f).input, total_tokens: u(f).total });
  });

  test('float encoding and dimensions', async () => {
    const res = await openai().embeddings.create({
      model: f.model,
      input: 'one',
      dimensions: 8,
      encoding_format: 'float',
    });
    expect(res.data[0]!.embedding).toEqual(embeddingVector(0, 8));
  });
});

describe('Anthropic Messages (@anthropic-ai/sdk)', () => {
  const expectedUsage = (f: Fixture) => ({
    input_tokens: u(f).input,
    cache_read_input_tokens: u(f).cacheRead,
    cache_creation_input_tokens: u(f).cacheWrite5m + u(f).cacheWrite1h,
    cache_creation: { ephemeral_5m_input_tokens: u(f).cacheWrite5m, ephemeral_1h_input_tokens: u(f).cacheWrite1h },
    output_tokens: u(f).output,
  });

  test.each(scenariosOf(FIXTURES.anthropicMessages))('%s: JSON body parsed to the fixture', async (scenario, f) => {
    const res = await anthropic(scenario).messages.create({ model: f.model, max_tokens: 1024, messages: user });
    expect(res.id).toBe(f.id);
    expect(res.model).toBe(f.model);
    expect(res.stop_reason).toBe(f.finishReason);
    expect(res.usage).toMatchObject(expectedUsage(f));
    expect(res.usage.output_tokens_details?.thinking_tokens ?? 0).toBe(u(f).reasoning);
    const text = res.content.filter((b) => b.type === 'text').map((b) => b.text);
    expect(text.join('')).toBe(f.text);
    if (f.toolCall) {
      const tool = res.content.find((b) => b.type === 'tool_use')!;
      expect(tool).toMatchObject({ id: f.toolCall.id, name: f.toolCall.name, input: f.toolCall.arguments });
    }
    if (f.reasoning) {
      expect(res.content[0]).toMatchObject({ type: 'thinking', thinking: f.reasoning.text });
    }
  });

  test.each(scenariosOf(FIXTURES.anthropicMessages))(
    '%s: stream helper accumulates the same message',
    async (scenario, f) => {
      const final = await anthropic(scenario)
        .messages.stream({ model: f.model, max_tokens: 1024, messages: user })
        .finalMessage();
      expect(final.id).toBe(f.id);
      expect(final.usage).toMatchObject(expectedUsage(f));
      expect(final.stop_reason).toBe(f.finishReason);
      if (f.toolCall) expect(final.content.find((b) => b.type === 'tool_use')!.input).toEqual(f.toolCall.arguments);
      if (f.reasoning)
        expect(final.content[0]).toMatchObject({ thinking: f.reasoning.text, signature: f.reasoning.signature });
    },
  );

  test('raw stream events: order, ping, provisional then cumulative output tokens', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const stream = await anthropic().messages.create({ model: f.model, max_tokens: 64, messages: user, stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      ...f.chunks.map(() => 'content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = events[0] as Anthropic.RawMessageStartEvent;
    expect(start.message.usage.input_tokens).toBe(u(f).input);
    expect(start.message.usage.output_tokens).toBe(1);
    const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
    expect(delta.usage.output_tokens).toBe(u(f).output);
    // The SDK drops ping events from iteration; the wire test below sees them.
    expect(server.requests).toHaveLength(1);
  });

  test('rate-limit-once: two requests, one result', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const res = await anthropic('rate-limit-once').messages.create({ model: f.model, max_tokens: 64, messages: user });
    expect(res.id).toBe(f.id);
    expect(server.requests).toHaveLength(2);
  });

  test.each([
    ['error-500', 500, 'api_error'],
    ['overloaded', 529, 'overloaded_error'],
    ['rate-limit-once', 429, 'rate_limit_error'],
  ] as const)('%s: status %i, error.type %s', async (scenario, status, type) => {
    const err = await anthropic(scenario, 0)
      .messages.create({ model: 'claude-haiku-4-5-20251001', max_tokens: 64, messages: user })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(status);
    expect(err.error).toMatchObject({ type: 'error', error: { type } });
  });

  test('slow-stream: abort mid-stream', async () => {
    const outcome = await abortMidStream(async (signal, onChunk) => {
      const stream = await anthropic('slow-stream').messages.create(
        { model: 'claude-haiku-4-5-20251001', max_tokens: 64, messages: user, stream: true },
        { signal },
      );
      for await (const _ of stream) onChunk();
    });
    expect(outcome).toBe('ended');
  });
});

describe('Google GenAI (@google/genai)', () => {
  test.each(scenariosOf(FIXTURES.googleGenerateContent))(
    '%s: generateContent parsed to the fixture',
    async (scenario, f) => {
      const res = await google(scenario).models.generateContent({ model: f.model, contents: 'Hello' });
      expect(server.requests[0]!.path).toBe(`/v1beta/models/${f.model}:generateContent`);
      expect(res.responseId).toBe(f.id);
      expect(res.modelVersion).toBe(f.model);
      expect(res.candidates![0]!.finishReason).toBe(f.finishReason);
      expect(res.usageMetadata!.promptTokenCount).toBe(u(f).input);
      expect(res.usageMetadata!.candidatesTokenCount).toBe(u(f).output);
      expect(res.usageMetadata!.totalTokenCount).toBe(u(f).total);
      expect(res.usageMetadata!.cachedContentTokenCount ?? 0).toBe(u(f).cacheRead);
      expect(res.usageMetadata!.thoughtsTokenCount ?? 0).toBe(u(f).reasoning);
      const audio = (details: { modality?: string; tokenCount?: number }[] | undefined) =>
        details?.find((d) => d.modality === 'AUDIO')?.tokenCount ?? 0;
      expect(audio(res.usageMetadata!.promptTokensDetails)).toBe(u(f).audioInput);
      expect(audio(res.usageMetadata!.candidatesTokensDetails)).toBe(u(f).audioOutput);
      if (f.toolCall) {
        expect(res.functionCalls![0]).toMatchObject({ name: f.toolCall.name, args: f.toolCall.arguments });
      } else if (f.speech) {
        expect(res.candidates![0]!.content!.parts).toEqual([{ inlineData: f.speech }]);
      } else {
        expect(res.text).toBe(f.text);
      }
    },
  );

  test('reasoning with includeThoughts: a thought part, as Gemini sends it', async () => {
    const f = FIXTURES.googleGenerateContent.reasoning;
    const res = await google('reasoning').models.generateContent({
      model: f.model,
      contents: 'Hello',
      config: { thinkingConfig: { includeThoughts: true } },
    });
    const parts = res.candidates![0]!.content!.parts!;
    expect(parts[0]).toEqual({ text: f.reasoning!.text, thought: true });
    expect(res.text).toBe(f.text);
  });

  test('stream: SSE chunks, final usage on the last chunk only', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const stream = await google().models.generateContentStream({ model: f.model, contents: 'Hello' });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(server.requests[0]!.path).toBe(`/v1beta/models/${f.model}:streamGenerateContent?alt=sse`);
    expect(chunks.map((c) => c.text).join('')).toBe(f.text);
    expect(chunks.slice(0, -1).every((c) => c.usageMetadata!.candidatesTokenCount === undefined)).toBe(true);
    expect(chunks.at(-1)!.usageMetadata).toMatchObject({
      promptTokenCount: u(f).input,
      candidatesTokenCount: u(f).output,
      totalTokenCount: u(f).total,
    });
  });

  test('no-usage: no usageMetadata at all', async () => {
    const res = await google('no-usage').models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
    expect(res.usageMetadata).toBeUndefined();
    expect(res.text).toBe(FIXTURES.googleGenerateContent.ok.text);
  });

  test('embedContent goes to :batchEmbedContents and returns the fixture vectors', async () => {
    const f = FIXTURES.googleEmbedContent.ok;
    const res = await google().models.embedContent({
      model: f.model,
      contents: ['one', 'two'],
      config: { outputDimensionality: 16 },
    });
    expect(server.requests[0]!.path).toBe(`/v1beta/models/${f.model}:batchEmbedContents`);
    expect(res.embeddings!.map((e) => e.values)).toEqual([embeddingVector(0, 16), embeddingVector(1, 16)]);
  });

  test('rate-limit-once with retryOptions: two requests, one result', async () => {
    const res = await google('rate-limit-once', true).models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Hello',
    });
    expect(res.responseId).toBe(FIXTURES.googleGenerateContent.ok.id);
    expect(server.requests).toHaveLength(2);
  });

  test.each([
    ['rate-limit-once', 429, 'RESOURCE_EXHAUSTED'],
    ['error-500', 500, 'INTERNAL'],
    ['overloaded', 503, 'UNAVAILABLE'],
  ] as const)('%s without retryOptions: ApiError %i %s', async (scenario, status, text) => {
    const err = await google(scenario)
      .models.generateContent({ model: 'gemini-2.5-flash@ok', contents: 'Hello' })
      .catch((e) => e);
    expect(err.status).toBe(status);
    expect(err.message).toContain(text);
    expect(server.requests).toHaveLength(1);
  });

  test('slow-stream: abort mid-stream', async () => {
    const outcome = await abortMidStream(async (signal, onChunk) => {
      const stream = await google('slow-stream').models.generateContentStream({
        model: 'gemini-2.5-flash',
        contents: 'Hello',
        config: { abortSignal: signal },
      });
      for await (const _ of stream) onChunk();
    });
    expect(outcome).toBe('threw');
  });
});

describe('Bedrock runtime (@aws-sdk/client-bedrock-runtime over h2c)', () => {
  const converseInput = (modelId: string) => ({
    modelId,
    messages: [{ role: 'user' as const, content: [{ text: 'Hello' }] }],
  });
  const anthropicBody = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: user });

  test.each(scenariosOf(FIXTURES.bedrockConverse))('%s: Converse parsed to the fixture', async (scenario, f) => {
    const res = await bedrock(scenario).send(new ConverseCommand(converseInput(f.model)));
    expect(server.requests[0]!.path).toBe(`/model/${encodeURIComponent(f.model)}/converse`);
    expect(res.$metadata.requestId).toBe(f.id);
    expect(res.stopReason).toBe(f.finishReason);
    expect(res.metrics!.latencyMs).toBe(f.latencyMs);
    expect(res.usage).toMatchObject({ inputTokens: u(f).input, outputTokens: u(f).output, totalTokens: u(f).total });
    expect(res.usage!.cacheReadInputTokens ?? 0).toBe(u(f).cacheRead);
    expect(res.usage!.cacheWriteInputTokens ?? 0).toBe(u(f).cacheWrite5m + u(f).cacheWrite1h);
    const ttl = Object.fromEntries((res.usage!.cacheDetails ?? []).map((d) => [d.ttl, d.inputTokens]));
    expect(ttl['5m'] ?? 0).toBe(u(f).cacheWrite5m);
    expect(ttl['1h'] ?? 0).toBe(u(f).cacheWrite1h);
    const content = res.output!.message!.content!;
    expect(content.map((c) => c.text ?? '').join('')).toBe(f.text);
    if (f.toolCall) {
      expect(content.find((c) => c.toolUse)!.toolUse).toEqual({
        toolUseId: f.toolCall.id,
        name: f.toolCall.name,
        input: f.toolCall.arguments,
      });
    }
  });

  test('ConverseStream: event-stream frames decoded by the SDK (model@scenario)', async () => {
    const f = FIXTURES.bedrockConverse['tool-call'];
    const res = await bedrock().send(new ConverseStreamCommand(converseInput(`${f.model}@tool-call`)));
    let text = '';
    let toolInput = '';
    let metadata: any;
    let stop: string | undefined;
    for await (const event of res.stream!) {
      text += event.contentBlockDelta?.delta?.text ?? '';
      toolInput += event.contentBlockDelta?.delta?.toolUse?.input ?? '';
      stop ??= event.messageStop?.stopReason;
      metadata ??= event.metadata;
    }
    expect(text).toBe(f.text);
    expect(JSON.parse(toolInput)).toEqual(f.toolCall!.arguments);
    expect(stop).toBe(f.finishReason);
    expect(metadata.usage).toMatchObject({
      inputTokens: u(f).input,
      outputTokens: u(f).output,
      totalTokens: u(f).total,
    });
    expect(metadata.metrics.latencyMs).toBe(f.latencyMs);
  });

  test.each(scenariosOf(FIXTURES.bedrockInvoke))('%s: InvokeModel returns the Anthropic body', async (scenario, f) => {
    const res = await bedrock(scenario).send(new InvokeModelCommand({ modelId: f.model, body: anthropicBody }));
    const body = JSON.parse(new TextDecoder().decode(res.body));
    expect(body.id).toBe(f.id);
    expect(body.model).toBe('claude-haiku-4-5-20251001');
    expect(body.usage).toMatchObject({
      input_tokens: u(f).input,
      output_tokens: u(f).output,
      cache_read_input_tokens: u(f).cacheRead,
      cache_creation: { ephemeral_5m_input_tokens: u(f).cacheWrite5m, ephemeral_1h_input_tokens: u(f).cacheWrite1h },
    });
    if (f.toolCall) expect(body.content.at(-1)).toMatchObject({ type: 'tool_use', input: f.toolCall.arguments });
  });

  test('InvokeModelWithResponseStream: Anthropic events in chunks, invocation metrics at the end', async () => {
    const f = FIXTURES.bedrockInvoke.cache;
    const res = await bedrock('cache').send(
      new InvokeModelWithResponseStreamCommand({ modelId: f.model, body: anthropicBody }),
    );
    const events: any[] = [];
    for await (const part of res.body!) events.push(JSON.parse(new TextDecoder().decode(part.chunk!.bytes)));
    expect(events[0].type).toBe('message_start');
    expect(events[0].message.usage.cache_read_input_tokens).toBe(u(f).cacheRead);
    const text = events.filter((e) => e.delta?.type === 'text_delta').map((e) => e.delta.text);
    expect(text.join('')).toBe(f.text);
    const last = events.at(-1);
    expect(last.type).toBe('message_stop');
    expect(last['amazon-bedrock-invocationMetrics']).toMatchObject({
      inputTokenCount: u(f).input,
      outputTokenCount: u(f).output,
      cacheReadInputTokenCount: u(f).cacheRead,
      cacheWriteInputTokenCount: u(f).cacheWrite5m + u(f).cacheWrite1h,
    });
  });

  test('rate-limit-once: ThrottlingException, SDK retry, one result', async () => {
    const f = FIXTURES.bedrockConverse.ok;
    const res = await bedrock('rate-limit-once').send(new ConverseCommand(converseInput(f.model)));
    expect(res.$metadata.attempts).toBe(2);
    expect(res.usage!.inputTokens).toBe(u(f).input);
    expect(server.requests).toHaveLength(2);
  });

  test.each([
    ['rate-limit-once', 'ThrottlingException', 429],
    ['error-500', 'InternalServerException', 500],
    ['overloaded', 'ServiceUnavailableException', 503],
  ] as const)('%s without retries: %s %i', async (scenario, name, status) => {
    const err = await bedrock(scenario, { maxAttempts: 1 })
      .send(new ConverseCommand(converseInput(FIXTURES.bedrockConverse.ok.model)))
      .catch((e) => e);
    expect(err.name).toBe(name);
    expect(err.$metadata.httpStatusCode).toBe(status);
  });

  test('slow-stream: abort mid-stream', async () => {
    const outcome = await abortMidStream(async (signal, onChunk) => {
      const res = await bedrock('slow-stream').send(
        new ConverseStreamCommand(converseInput(FIXTURES.bedrockConverse.ok.model)),
        { abortSignal: signal },
      );
      for await (const _ of res.stream!) onChunk();
    });
    expect(outcome).toBe('ended');
  });

  test('h2Url speaks only HTTP/2; url serves Bedrock over HTTP/1.1 with an explicit NodeHttpHandler', async () => {
    await expect(fetch(`${server.h2Url}/model/x/converse`, { method: 'POST', body: '{}' })).rejects.toThrow();
    server.reset();
    const f = FIXTURES.bedrockConverse.ok;
    const http1 = bedrock(undefined, { endpoint: server.url, requestHandler: new NodeHttpHandler() });
    const res = await http1.send(new ConverseCommand(converseInput(f.model)));
    expect(res.usage!.outputTokens).toBe(u(f).output);
    expect(server.requests).toHaveLength(1);
  });
});

describe('Vercel AI SDK (ai + @ai-sdk/openai)', () => {
  const provider = () => createOpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` });

  test('generateText: Responses API by default', async () => {
    const f = FIXTURES.openaiResponses.cache;
    const res = await generateText({ model: provider()('gpt-4o-mini@cache'), prompt: 'Hello' });
    expect(server.requests[0]!.path).toBe('/v1/responses');
    expect(res.text).toBe(f.text);
    expect(res.usage.inputTokens).toBe(u(f).input);
    expect(res.usage.outputTokens).toBe(u(f).output);
    expect(res.usage.inputTokenDetails.cacheReadTokens).toBe(u(f).cacheRead);
    expect(res.response.id).toBe(f.id);
  });

  test('streamText: Responses API stream', async () => {
    const f = FIXTURES.openaiResponses.ok;
    const res = streamText({ model: provider()('gpt-4o-mini'), prompt: 'Hello' });
    expect(await res.text).toBe(f.text);
    const usage = await res.usage;
    expect(usage.inputTokens).toBe(u(f).input);
    expect(usage.outputTokens).toBe(u(f).output);
    expect((server.requests[0]!.body as { stream: boolean }).stream).toBe(true);
  });

  test('openai.chat: generateText and streamText use chat completions', async () => {
    const f = FIXTURES.openaiChat.ok;
    const res = await generateText({ model: provider().chat('gpt-4o-mini'), prompt: 'Hello' });
    expect(res.text).toBe(f.text);
    expect(res.usage.inputTokens).toBe(u(f).input);
    const stream = streamText({ model: provider().chat('gpt-4o-mini'), prompt: 'Hello' });
    expect(await stream.text).toBe(f.text);
    expect((await stream.usage).outputTokens).toBe(u(f).output);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect((server.requests[1]!.body as any).stream_options).toEqual({ include_usage: true });
  });

  test('streamText with reasoning summary: reasoning text and reasoning tokens', async () => {
    const f = FIXTURES.openaiResponses.reasoning;
    const res = streamText({
      model: provider()(`${f.model}@reasoning`),
      prompt: 'Hello',
      providerOptions: { openai: { reasoningSummary: 'auto' } },
    });
    expect(await res.text).toBe(f.text);
    expect(await res.reasoningText).toBe(f.reasoning!.text);
    expect((await res.usage).outputTokenDetails.reasoningTokens).toBe(u(f).reasoning);
  });

  test('tool call through the Responses API', async () => {
    const f = FIXTURES.openaiResponses['tool-call'];
    const res = await generateText({
      model: provider()('gpt-4o-mini@tool-call'),
      prompt: 'Weather?',
      tools: { get_weather: tool({ description: 'weather', inputSchema: jsonSchema({ type: 'object' }) }) },
    });
    expect(res.toolCalls[0]).toMatchObject({ toolName: f.toolCall!.name, input: f.toolCall!.arguments });
  });
});

describe('the server itself', () => {
  test('model suffix: only known scenario names are stripped', () => {
    expect(splitModel('gpt-4o-mini@rate-limit-once')).toEqual({ model: 'gpt-4o-mini', scenario: 'rate-limit-once' });
    expect(splitModel('claude-3-5-sonnet@20240620')).toEqual({ model: 'claude-3-5-sonnet@20240620' });
  });

  test('unknown scenario → 400, unknown route → 404, content scenario without fixture → 400', async () => {
    const post = (path: string, scenario?: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(scenario ? { [SCENARIO_HEADER]: scenario } : {}) },
        body: JSON.stringify({ model: 'm', input: 'x' }),
      });
    const unknown = await post('/v1/chat/completions', 'nope');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      'unknown scenario "nope"',
    );
    expect((await post('/v2/whatever')).status).toBe(404);
    expect((await post('/v1/embeddings', 'tool-call')).status).toBe(400);
  });

  test('wire details the SDKs hide: OpenAI [DONE], Anthropic ping, Google CRLF framing', async () => {
    const post = async (path: string, body: unknown) =>
      (await fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) })).text();
    const chat = await post('/v1/chat/completions', { model: 'gpt-4o-mini', stream: true });
    expect(chat.endsWith('data: [DONE]\n\n')).toBe(true);
    const messages = await post('/v1/messages', { model: 'claude-haiku-4-5-20251001', stream: true });
    expect(messages).toContain('event: ping\ndata: {"type":"ping"}\n\n');
    expect(messages.indexOf('event: ping')).toBeGreaterThan(messages.indexOf('event: content_block_start'));
    const gemini = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', {});
    expect(gemini.split('\r\n\r\n').filter(Boolean)).toHaveLength(FIXTURES.googleGenerateContent.ok.chunks.length);
    // Without alt=sse the REST API answers one JSON array.
    const array = JSON.parse(await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent', {}));
    expect(array).toHaveLength(FIXTURES.googleGenerateContent.ok.chunks.length);
  });

  test('requests from both servers are recorded in order; reset clears them and the counters', async () => {
    await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: user });
    await bedrock().send(new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'x' }] }] }));
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/model/m/converse']);
    expect(server.requests[1]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256/);
    expect(server.requests[0]!.at).toBeLessThanOrEqual(server.requests[1]!.at);
    await openai('rate-limit-once', 0)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: user })
      .catch(() => {});
    server.reset();
    expect(server.requests).toHaveLength(0);
    // The counter is cleared too: the same key is limited again.
    const err = await openai('rate-limit-once', 0)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: user })
      .catch((e) => e);
    expect(err.status).toBe(429);
  });

  test('FIXTURES: tokens agree with usage under each provider’s meaning', () => {
    const cacheWrite = (r: ReportedUsage) => r.cacheWrite5m + r.cacheWrite1h;
    const rules: Record<string, (r: ReportedUsage) => Partial<Record<string, number>>> = {
      // OpenAI: input includes cached; output includes reasoning and audio.
      openai: (r) => ({ inputTokens: r.input, outputTokens: r.output, totalCheck: r.input + r.output - r.total }),
      // Anthropic and Bedrock: input excludes cache reads and writes.
      anthropic: (r) => ({ inputTokens: r.input + r.cacheRead + cacheWrite(r), outputTokens: r.output }),
      // Google: prompt includes cached; thoughts are outside candidates.
      google: (r) => ({
        inputTokens: r.input,
        outputTokens: r.output + r.reasoning,
        totalCheck: r.input + r.output + r.reasoning - r.total,
      }),
      converse: (r) => ({
        inputTokens: r.input + r.cacheRead + cacheWrite(r),
        outputTokens: r.output,
        totalCheck: r.input + r.cacheRead + cacheWrite(r) + r.output - r.total,
      }),
    };
    const ruleOf: Record<string, string> = {
      openaiChat: 'openai',
      openaiResponses: 'openai',
      anthropicMessages: 'anthropic',
      googleGenerateContent: 'google',
      bedrockInvoke: 'anthropic',
      bedrockConverse: 'converse',
      // LanguageModelV3 usage: input total includes cache, output total includes reasoning.
      gatewayLanguageModel: 'openai',
    };
    const rows: [string, string, Fixture][] = [];
    for (const [route, rule] of Object.entries(ruleOf)) {
      for (const [scenario, f] of scenariosOf(FIXTURES[route as keyof typeof FIXTURES])) {
        rows.push([`${route}.${scenario}`, rule, f]);
      }
      const after = AFTER_TOOL[route as keyof typeof FIXTURES];
      if (after) rows.push([`${route} after tool`, rule, after]);
    }
    for (const [label, rule, f] of rows) {
      const r = f.usage!;
      const t = f.tokens!;
      const expected = rules[rule]!(r);
      expect({ label, inputTokens: t.inputTokens, outputTokens: t.outputTokens }).toEqual({
        label,
        inputTokens: expected.inputTokens,
        outputTokens: expected.outputTokens,
      });
      expect({ label, totalCheck: expected.totalCheck ?? 0 }).toEqual({ label, totalCheck: 0 });
      expect({ label, cr: t.cacheReadTokens, cw: t.cacheWriteTokens, cw1h: t.cacheWrite1hTokens }).toEqual({
        label,
        cr: r.cacheRead,
        cw: cacheWrite(r),
        cw1h: r.cacheWrite1h,
      });
      expect([t.reasoningTokens, t.inputAudioTokens, t.outputAudioTokens]).toEqual([
        r.reasoning,
        r.audioInput,
        r.audioOutput,
      ]);
      expect(f.chunks.join('')).toBe(f.text);
    }
  });
});
