/**
 * The gateway with the real `openai` SDK (baseURL = the gateway), upstream the replay server:
 * plain, stream (include_usage asked for and hidden), byte-for-byte stream equality, tool call,
 * errors passed through, retries, abort mid-stream; one ai_calls row per call with exact tokens
 * and cost, and the attribution headers never reaching the provider.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ERRORS, FIXTURES } from '../replay/fixtures.js';
import { engineCost, PROVIDER_KEY, rowsOf, rowTokens, useGateway } from './harness.js';

const env = useGateway('openai');
let n = 0;
const rid = () => `oa-${process.pid}-${++n}`;

function client(
  requestId: string,
  extra: Record<string, string> = {},
  opts: Partial<ConstructorParameters<typeof OpenAI>[0]> = {},
) {
  return new OpenAI({
    apiKey: PROVIDER_KEY,
    baseURL: `${env.gw}/openai/v1`,
    defaultHeaders: {
      'x-tokenmeter-key': env.key,
      'x-tokenmeter-user': 'alice',
      'x-tokenmeter-team': 'search',
      'x-tokenmeter-feature': 'answers',
      'x-tokenmeter-session': 'sess-1',
      'x-tokenmeter-request-id': requestId,
      'x-tokenmeter-property-plan': 'pro',
      ...extra,
    },
    ...opts,
  });
}

const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];

describe('gateway: openai SDK', () => {
  it('plain chat: the answer as sent, one row with exact tokens, cost and attribution; nothing of ours upstream', async () => {
    const f = FIXTURES.openaiChat.ok;
    const id = rid();
    const res = await client(id).chat.completions.create({ model: f.model, messages });
    expect(res.choices[0]!.message.content).toBe(f.text);
    expect(res.id).toBe(f.id);
    const [row] = await rowsOf(env.svc, id);
    expect(rowTokens(row!)).toMatchObject({ inputTokens: 19, outputTokens: 8 });
    expect(row!.cost_usd).toBe(engineCost('openai', f.model, f.tokens));
    expect(row).toMatchObject({
      tenant: 'acme',
      provider: 'openai',
      user_id: 'alice',
      team: 'search',
      feature: 'answers',
      session_id: 'sess-1',
      status: 'ok',
      response_id: f.id,
      properties: { plan: 'pro' },
    });
    const upstream = env.replay.requests.at(-1)!;
    expect(upstream.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(Object.keys(upstream.headers).filter((h) => h.startsWith('x-tokenmeter'))).toEqual([]);
    expect(upstream.path).toBe('/v1/chat/completions');
  });

  it('stream: include_usage is asked upstream, and the caller sees exactly the chunks it asked for', async () => {
    const f = FIXTURES.openaiChat.ok;
    const id = rid();
    const stream = await client(id).chat.completions.create({ model: f.model, messages, stream: true });
    const chunks: any[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(f.text);
    // No usage-only chunk and no `usage: null` the caller did not ask for.
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect((env.replay.requests.at(-1)!.body as any).stream_options).toEqual({ include_usage: true });
    const [row] = await rowsOf(env.svc, id);
    expect(rowTokens(row!)).toMatchObject({ inputTokens: 19, outputTokens: 8 });
    expect(row!.cost_usd).toBe(engineCost('openai', f.model, f.tokens));
    expect(Boolean(Number(row!.is_streaming))).toBe(true);
    expect(Boolean(Number(row!.estimated))).toBe(false);
  });

  it('a stream that asked for usage itself gets it, untouched', async () => {
    const f = FIXTURES.openaiChat.ok;
    const id = rid();
    const stream = await client(id).chat.completions.create({
      model: f.model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.at(-1).usage.prompt_tokens).toBe(19);
    const [row] = await rowsOf(env.svc, id);
    expect(row!.cost_usd).toBe(engineCost('openai', f.model, f.tokens));
  });

  it('byte for byte: the stream through the gateway equals the upstream stream, event by event', async () => {
    const body = JSON.stringify({ model: FIXTURES.openaiChat['tool-call'].model, messages, stream: true });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${PROVIDER_KEY}` };
    const direct = await fetch(`${env.replay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...headers, 'x-replay-scenario': 'tool-call' },
      body,
    });
    const expected = Buffer.from(await direct.arrayBuffer());
    const id = rid();
    const through = await fetch(`${env.gw}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: {
        ...headers,
        'x-replay-scenario': 'tool-call',
        'x-tokenmeter-key': env.key,
        'x-tokenmeter-request-id': id,
      },
      body,
    });
    expect(through.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    const received: Buffer[] = [];
    for await (const chunk of through.body!) received.push(Buffer.from(chunk));
    const got = Buffer.concat(received);
    // The replay stamps `created` with the current second: two answers a second apart differ there only.
    const created = (b: Buffer) => b.toString().replace(/"created":\d{10}/g, '"created":0');
    expect(got.length).toBe(expected.length);
    expect(created(got)).toBe(created(expected));
    expect(created(got).split('\n\n')).toEqual(created(expected).split('\n\n'));
    // …while upstream sent usage, which the row has.
    const [row] = await rowsOf(env.svc, id);
    expect(rowTokens(row!)).toMatchObject({ inputTokens: 82, outputTokens: 18 });
  });

  it('tool call, plain and streamed: exact tokens', async () => {
    const f = FIXTURES.openaiChat['tool-call'];
    const id = rid();
    const c = client(id, { 'x-replay-scenario': 'tool-call' });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const res = await c.chat.completions.create({ model: f.model, messages, tools });
    expect(res.choices[0]!.message.tool_calls![0]!.id).toBe(f.toolCall!.id);
    const stream = await c.chat.completions.create({ model: f.model, messages, tools, stream: true });
    let args = '';
    for await (const chunk of stream) args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
    expect(JSON.parse(args)).toEqual(f.toolCall!.arguments);
    const rows = await rowsOf(env.svc, id, 2);
    for (const row of rows) {
      expect(rowTokens(row)).toMatchObject({ inputTokens: 82, outputTokens: 18 });
      expect(row.cost_usd).toBe(engineCost('openai', f.model, f.tokens));
    }
  });

  it('responses and embeddings: exact tokens', async () => {
    const id = rid();
    const c = client(id);
    const r = FIXTURES.openaiResponses.ok;
    const res = await c.responses.create({ model: r.model, input: 'What is the capital of France?' });
    expect(res.output_text).toBe(r.text);
    const stream = await c.responses.create({ model: r.model, input: 'What is the capital of France?', stream: true });
    for await (const _ of stream) void _;
    const e = FIXTURES.openaiEmbeddings.ok;
    await c.embeddings.create({ model: e.model, input: ['a', 'b'] });
    const rows = await rowsOf(env.svc, id, 3);
    expect(rows.map((x) => Number(x.input_tokens))).toEqual([
      r.tokens.inputTokens,
      r.tokens.inputTokens,
      e.tokens.inputTokens,
    ]);
    expect(rows[1]!.cost_usd).toBe(engineCost('openai', r.model, r.tokens));
  });

  it('errors pass through unchanged (status, body, headers); the row says error with the status', async () => {
    const id = rid();
    const c = client(id, { 'x-replay-scenario': 'error-500' }, { maxRetries: 0 });
    const direct = ERRORS.openai.server;
    const err = (await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).catch((e) => e)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.status).toBe(direct.status);
    expect(err.error).toEqual((direct.body as { error: unknown }).error);
    for (const [k, v] of Object.entries(direct.headers)) expect(err.headers?.get(k)).toBe(v);
    const [row] = await rowsOf(env.svc, id);
    expect(row).toMatchObject({ status: 'error', error_type: '500', input_tokens: 0 });
  });

  it('retry: the SDK retries a 429 through the gateway; two rows, the second with the tokens', async () => {
    const f = FIXTURES.openaiChat.ok;
    const id = rid();
    const c = client(id, { 'x-replay-scenario': 'rate-limit-once', 'x-replay-key': id });
    const res = await c.chat.completions.create({ model: f.model, messages });
    expect(res.choices[0]!.message.content).toBe(f.text);
    const rows = await rowsOf(env.svc, id, 2);
    expect(rows.map((r) => r.status).sort()).toEqual(['error', 'ok']);
    const ok = rows.find((r) => r.status === 'ok')!;
    expect(ok.cost_usd).toBe(engineCost('openai', f.model, f.tokens));
    expect(rows.find((r) => r.status === 'error')!.error_type).toBe('429');
  });

  it('abort mid-stream: the upstream request is cancelled, partial usage recorded and flagged', async () => {
    const f = FIXTURES.openaiChat.ok;
    const id = rid();
    const c = client(id, { 'x-replay-scenario': 'slow-stream' });
    const controller = new AbortController();
    const stream = await c.chat.completions.create(
      { model: f.model, messages, stream: true },
      { signal: controller.signal },
    );
    let seen = '';
    let upstreamDoneAtFirstChunk: string | undefined = 'not read';
    for await (const chunk of stream) {
      seen += chunk.choices[0]?.delta?.content ?? '';
      if (seen.length > 0 && !controller.signal.aborted) {
        // Not buffered: the first words arrive while the upstream is still sending the rest.
        upstreamDoneAtFirstChunk = env.replay.requests.at(-1)!.outcome;
        controller.abort();
      }
    }
    expect(upstreamDoneAtFirstChunk).toBeUndefined();
    const [row] = await rowsOf(env.svc, id);
    expect(row).toMatchObject({ status: 'error', error_type: 'AbortError' });
    expect(Boolean(Number(row!.estimated))).toBe(true);
    expect(Number(row!.output_tokens)).toBeGreaterThan(0);
    expect(Number(row!.output_tokens)).toBeLessThan(f.tokens.outputTokens);
    await expect.poll(() => env.replay.requests.at(-1)!.outcome, { timeout: 5000 }).toBe('cancelled');
  });

  it('an OpenAI-compatible host is one route: groq priced as groq', async () => {
    const id = rid();
    const c = new OpenAI({
      apiKey: PROVIDER_KEY,
      baseURL: `${env.gw}/groq/v1`,
      defaultHeaders: { 'x-tokenmeter-key': env.key, 'x-tokenmeter-request-id': id },
    });
    await c.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages });
    expect(env.replay.requests.at(-1)!.path).toBe('/openai/v1/chat/completions');
    const [row] = await rowsOf(env.svc, id);
    expect(row!.provider).toBe('groq');
  });

  it('without a tokenmeter key: 401 in OpenAI shape, nothing sent upstream', async () => {
    const before = env.replay.requests.length;
    const c = new OpenAI({ apiKey: PROVIDER_KEY, baseURL: `${env.gw}/openai/v1`, maxRetries: 0 });
    const err = (await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).catch((e) => e)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.message).toMatch(/x-tokenmeter-key/);
    expect(env.replay.requests.length).toBe(before);
  });

  it('other paths pass through untouched (GET /v1/models answers as upstream does)', async () => {
    const res = await fetch(`${env.gw}/openai/v1/models`, {
      headers: { authorization: `Bearer ${PROVIDER_KEY}`, 'x-tokenmeter-key': env.key },
    });
    const direct = await fetch(`${env.replay.url}/v1/models`, { headers: { authorization: `Bearer ${PROVIDER_KEY}` } });
    expect(res.status).toBe(direct.status);
    expect(await res.text()).toBe(await direct.text());
  });
});
