/**
 * The gateway with the real `@anthropic-ai/sdk` and `@google/genai` SDKs (base URL = the
 * gateway), upstream the replay server: plain, stream, tool call, errors passed through,
 * retry, abort mid-stream; rows with exact tokens and cost; traceparent makes the call a child.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { ERRORS, FIXTURES } from '../replay/fixtures.js';
import { engineCost, PROVIDER_KEY, rowsOf, rowTokens, useGateway } from './harness.js';

const env = useGateway('anthropic_google');
let n = 0;
const rid = () => `ag-${process.pid}-${++n}`;

function anthropic(
  requestId: string,
  scenario?: string,
  opts: Partial<ConstructorParameters<typeof Anthropic>[0]> = {},
) {
  return new Anthropic({
    apiKey: PROVIDER_KEY,
    baseURL: `${env.gw}/anthropic`,
    defaultHeaders: {
      'x-tokenmeter-key': env.key,
      'x-tokenmeter-request-id': requestId,
      'x-tokenmeter-user': 'bob',
      ...(scenario ? { 'x-replay-scenario': scenario } : {}),
    },
    ...opts,
  });
}

function google(requestId: string, scenario?: string, retry = false) {
  return new GoogleGenAI({
    apiKey: PROVIDER_KEY,
    httpOptions: {
      baseUrl: `${env.gw}/google`,
      headers: {
        'x-tokenmeter-key': env.key,
        'x-tokenmeter-request-id': requestId,
        'x-tokenmeter-feature': 'summaries',
        ...(scenario ? { 'x-replay-scenario': scenario } : {}),
      },
      ...(retry ? { retryOptions: { attempts: 2, initialDelay: 0.001 } } : {}),
    },
  });
}

const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];

describe('gateway: @anthropic-ai/sdk', () => {
  it('plain, stream and tool call: exact tokens and cost; the key reaches the upstream only', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const t = FIXTURES.anthropicMessages['tool-call'];
    const id = rid();
    const res = await anthropic(id).messages.create({ model: f.model, max_tokens: 100, messages });
    expect(res.id).toBe(f.id);
    const stream = await anthropic(id).messages.create({ model: f.model, max_tokens: 100, messages, stream: true });
    let text = '';
    for await (const e of stream)
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    expect(text).toBe(f.text);
    const tool = await anthropic(id, 'tool-call').messages.create({ model: t.model, max_tokens: 100, messages });
    expect(tool.stop_reason).toBe('tool_use');
    const rows = await rowsOf(env.svc, id, 3);
    expect(rows.map((r) => [Number(r.input_tokens), Number(r.output_tokens)])).toEqual([
      [f.tokens.inputTokens, f.tokens.outputTokens],
      [f.tokens.inputTokens, f.tokens.outputTokens],
      [t.tokens.inputTokens, t.tokens.outputTokens],
    ]);
    expect(rows[1]!.cost_usd).toBe(engineCost('anthropic', f.model, f.tokens));
    expect(rows[2]!.cost_usd).toBe(engineCost('anthropic', t.model, t.tokens));
    expect(rows.every((r) => r.user_id === 'bob' && r.provider === 'anthropic')).toBe(true);
    const sent = env.replay.requests.at(-1)!.headers;
    // This SDK version sends the key as a Bearer token; either way it reaches the upstream as sent.
    expect(sent['x-api-key'] ?? sent.authorization).toMatch(PROVIDER_KEY);
  });

  it('cache tokens are read from the stream as the instrumentation reads them', async () => {
    const f = FIXTURES.anthropicMessages.cache;
    const id = rid();
    const stream = await anthropic(id, 'cache').messages.create({
      model: f.model,
      max_tokens: 100,
      messages,
      stream: true,
    });
    for await (const _ of stream) void _;
    const [row] = await rowsOf(env.svc, id);
    expect(rowTokens(row!)).toMatchObject({
      inputTokens: f.tokens.inputTokens,
      cacheReadTokens: f.tokens.cacheReadTokens,
    });
    expect(row!.cost_usd).toBe(engineCost('anthropic', f.model, f.tokens));
  });

  it('errors pass through (529 overloaded, in Anthropic shape); retry after a 429 gives one ok row with tokens', async () => {
    const id = rid();
    const err = (await anthropic(id, 'overloaded', { maxRetries: 0 })
      .messages.create({ model: 'claude-haiku-4-5-20251001', max_tokens: 10, messages })
      .catch((e) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err.status).toBe(ERRORS.anthropic.overloaded.status);
    expect(err.error).toEqual(ERRORS.anthropic.overloaded.body);
    const rid2 = rid();
    const f = FIXTURES.anthropicMessages.ok;
    const ok = await anthropic(rid2, 'rate-limit-once').messages.create(
      { model: f.model, max_tokens: 10, messages },
      { headers: { 'x-replay-key': rid2 } },
    );
    expect(ok.id).toBe(f.id);
    const [errRow] = await rowsOf(env.svc, id);
    expect(errRow).toMatchObject({ status: 'error', error_type: String(ERRORS.anthropic.overloaded.status) });
    const rows = await rowsOf(env.svc, rid2, 2);
    expect(rows.map((r) => r.status).sort()).toEqual(['error', 'ok']);
  });

  it('abort mid-stream: upstream cancelled, provisional usage corrected by what was seen, flagged', async () => {
    const f = FIXTURES.anthropicMessages.ok;
    const id = rid();
    const stream = anthropic(id, 'slow-stream').messages.stream({ model: f.model, max_tokens: 100, messages });
    let deltas = 0;
    const ended = await (async () => {
      for await (const e of stream) if (e.type === 'content_block_delta' && ++deltas === 2) stream.abort();
    })().catch((e: Error) => e);
    expect(ended).toBeInstanceOf(Anthropic.APIUserAbortError);
    const [row] = await rowsOf(env.svc, id);
    expect(row).toMatchObject({ status: 'error', error_type: 'AbortError' });
    expect(Number(row!.input_tokens)).toBe(f.tokens.inputTokens);
    expect(Boolean(Number(row!.estimated))).toBe(true);
    await expect.poll(() => env.replay.requests.at(-1)!.outcome, { timeout: 5000 }).toBe('cancelled');
  });

  it('traceparent: the call is a child span of the caller’s trace', async () => {
    const id = rid();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await anthropic(id).messages.create(
      { model: FIXTURES.anthropicMessages.ok.model, max_tokens: 10, messages },
      { headers: { traceparent: `00-${traceId}-${parent}-01` } },
    );
    const [row] = await rowsOf(env.svc, id);
    expect(row).toMatchObject({ trace_id: traceId, parent_span_id: parent });
  });
});

describe('gateway: @google/genai', () => {
  it('generateContent, stream and tool call: exact tokens and cost', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const t = FIXTURES.googleGenerateContent['tool-call'];
    const id = rid();
    const res = await google(id).models.generateContent({ model: f.model, contents: 'Hello' });
    expect(res.text).toBe(f.text);
    let text = '';
    for await (const c of await google(id).models.generateContentStream({ model: f.model, contents: 'Hello' })) {
      text += c.text ?? '';
    }
    expect(text).toBe(f.text);
    const tool = await google(id, 'tool-call').models.generateContent({ model: t.model, contents: 'Weather?' });
    expect(tool.functionCalls?.[0]?.name).toBe('get_weather');
    const rows = await rowsOf(env.svc, id, 3);
    expect(rows.map((r) => [Number(r.input_tokens), Number(r.output_tokens)])).toEqual([
      [f.tokens.inputTokens, f.tokens.outputTokens],
      [f.tokens.inputTokens, f.tokens.outputTokens],
      [t.tokens.inputTokens, t.tokens.outputTokens],
    ]);
    expect(rows[0]!.cost_usd).toBe(engineCost('google', f.model, f.tokens));
    expect(rows[1]!.cost_usd).toBe(engineCost('google', f.model, f.tokens));
    expect(rows.every((r) => r.feature === 'summaries' && r.provider === 'google')).toBe(true);
    expect(env.replay.requests.at(-1)!.headers['x-goog-api-key']).toBe(PROVIDER_KEY);
  });

  it('errors pass through (503 in Gemini shape); a retried 429 ends in one ok row', async () => {
    const id = rid();
    const err = await google(id, 'overloaded')
      .models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' })
      .catch((e) => e);
    expect(err.status).toBe(503);
    expect(JSON.parse(err.message.slice(err.message.indexOf('{')))).toEqual(ERRORS.google.overloaded.body);
    const id2 = rid();
    const res = await google(id2, 'rate-limit-once', true).models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Hello',
      config: { httpOptions: { headers: { 'x-replay-key': id2 } } },
    });
    expect(res.text).toBe(FIXTURES.googleGenerateContent.ok.text);
    const rows = await rowsOf(env.svc, id2, 2);
    expect(rows.map((r) => r.status).sort()).toEqual(['error', 'ok']);
  });

  it('abort mid-stream: upstream cancelled, flagged', async () => {
    const f = FIXTURES.googleGenerateContent.ok;
    const id = rid();
    const controller = new AbortController();
    const stream = await google(id, 'slow-stream').models.generateContentStream({
      model: f.model,
      contents: 'Hello',
      config: { abortSignal: controller.signal },
    });
    let k = 0;
    await (async () => {
      for await (const _ of stream) if (++k === 2) controller.abort();
    })().catch(() => undefined);
    const [row] = await rowsOf(env.svc, id);
    expect(row).toMatchObject({ status: 'error', error_type: 'AbortError' });
    expect(Boolean(Number(row!.estimated))).toBe(true);
    await expect.poll(() => env.replay.requests.at(-1)!.outcome, { timeout: 5000 }).toBe('cancelled');
  });
});

describe('gateway: previous SDK majors', () => {
  it('openai 7 and @anthropic-ai/sdk 0.x streams: exact tokens, the caller sees what it asked for', async () => {
    const { default: OpenAI7 } = await import('openai-v7');
    const { default: Anthropic0 } = await import('anthropic-sdk-v0');
    const id = rid();
    const headers = { 'x-tokenmeter-key': env.key, 'x-tokenmeter-request-id': id };
    const o = FIXTURES.openaiChat.ok;
    const oc = new OpenAI7({ apiKey: PROVIDER_KEY, baseURL: `${env.gw}/openai/v1`, defaultHeaders: headers });
    const chunks: any[] = [];
    for await (const c of await oc.chat.completions.create({ model: o.model, messages, stream: true })) chunks.push(c);
    expect(chunks.some((c) => c.choices.length === 0 || 'usage' in c)).toBe(false);
    const a = FIXTURES.anthropicMessages.ok;
    const ac = new Anthropic0({ apiKey: PROVIDER_KEY, baseURL: `${env.gw}/anthropic`, defaultHeaders: headers });
    const stream = await ac.messages.create({ model: a.model, max_tokens: 100, messages, stream: true });
    for await (const _ of stream) void _;
    const rows = await rowsOf(env.svc, id, 2);
    expect(rows.map((r) => [r.provider, Number(r.input_tokens), Number(r.output_tokens)])).toEqual([
      ['openai', o.tokens.inputTokens, o.tokens.outputTokens],
      ['anthropic', a.tokens.inputTokens, a.tokens.outputTokens],
    ]);
  });
});
