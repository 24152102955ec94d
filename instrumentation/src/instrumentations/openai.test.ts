import OpenAI, * as openaiModule from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { withUsageContext } from '../core/usage-context.js';
import { priceCall } from '../prices/engine.js';
import { settle, setupTracing } from '../test-support/tracing.js';
import { OpenAIInstrumentation } from './openai.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);

const usage = { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27 };
const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Paris.' },
      finish_reason: 'stop',
    },
  ],
  usage,
};

/** A fetch that answers like the API, honouring stream_options.include_usage as the API does. */
function fakeFetch(seen: any[]) {
  return async (_url: any, init: any) => {
    const body = JSON.parse(init.body);
    seen.push(body);
    if (!body.stream) return Response.json(completion);
    const includeUsage = body.stream_options?.include_usage === true;
    const base = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o-mini-2024-07-18',
    };
    const extra = includeUsage ? { usage: null } : {};
    const chunks: any[] = [
      {
        ...base,
        choices: [
          {
            index: 0,
            delta: { role: 'assistant', content: 'Par' },
            finish_reason: null,
          },
        ],
        ...extra,
      },
      {
        ...base,
        choices: [{ index: 0, delta: { content: 'is.' }, finish_reason: null }],
        ...extra,
      },
      {
        ...base,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        ...extra,
      },
    ];
    if (includeUsage) chunks.push({ ...base, choices: [], usage });
    const sse = `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`;
    return new Response(sse, {
      headers: { 'content-type': 'text/event-stream' },
    });
  };
}

function client(seen: any[] = []) {
  return new OpenAI({
    apiKey: 'sk-test',
    baseURL: 'https://api.openai.com/v1',
    fetch: fakeFetch(seen) as any,
  });
}

const expectedCost = (model: string) => {
  const r = priceCall({
    provider: 'openai',
    model,
    usage: { inputTokens: 19, outputTokens: 8 },
    timestamp: new Date(),
  });
  if (!r.priced) throw new Error('fixture model must be priced');
  return r.costUsd;
};

describe('openai chat', () => {
  beforeEach(() => tracing.reset());

  it('records a plain call with tokens, cost and attribution', async () => {
    const r = await withUsageContext({ tenant: 'acme', userId: 'u1', feature: 'faq' }, () =>
      client().chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(r.choices[0]?.message.content).toBe('Paris.');
    await settle();
    const [span] = tracing.ours();
    expect(span?.name).toBe('chat gpt-4o-mini');
    expect(span?.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 19,
      'gen_ai.usage.output_tokens': 8,
      'gen_ai.usage.cost.amount': expectedCost('gpt-4o-mini-2024-07-18'),
      'gen_ai.usage.cost.currency': 'USD',
      'tokenmeter.tenant': 'acme',
      'user.id': 'u1',
      'tokenmeter.feature': 'faq',
    });
  });

  it('injects include_usage and hides what it adds: identical chunks', async () => {
    const seen: any[] = [];
    const stream = await client(seen).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks: any[] = [];
    for await (const c of stream) chunks.push(c);
    expect(seen[0].stream_options).toEqual({ include_usage: true });
    // What the API sends without include_usage:
    const bare = await (await fakeFetch([])('', { body: JSON.stringify({ stream: true }) })).text();
    const expected = bare
      .split('\n\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)));
    expect(chunks).toEqual(expected);
    await settle();
    const [span] = tracing.ours();
    expect(span?.attributes['gen_ai.usage.input_tokens']).toBe(19);
    expect(span?.attributes['gen_ai.usage.output_tokens']).toBe(8);
    expect(span?.attributes['gen_ai.request.stream']).toBe(true);
    expect(typeof span?.attributes['gen_ai.response.time_to_first_chunk']).toBe('number');
  });

  it('keeps withResponse() and the APIPromise type', async () => {
    const p = client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(p.constructor.name).toBe('APIPromise');
    const { data, response } = await p.withResponse();
    expect(data.id).toBe('chatcmpl-1');
    expect(response.status).toBe(200);
    await settle();
    expect(tracing.ours()).toHaveLength(1);
    expect(tracing.ours()[0]?.attributes['gen_ai.usage.output_tokens']).toBe(8);
  });

  it('reads usage from a clone when the app takes asResponse()', async () => {
    const response = await client()
      .chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
      })
      .asResponse();
    expect(((await response.json()) as any).id).toBe('chatcmpl-1');
    await settle();
    expect(tracing.ours()[0]?.attributes['gen_ai.usage.input_tokens']).toBe(19);
  });
});
