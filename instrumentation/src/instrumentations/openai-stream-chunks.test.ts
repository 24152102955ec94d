/**
 * An OpenAI chat stream whose usage tokenmeter asks for (and hides), however the network cuts its
 * bytes (the whole answer at once, one event a chunk, pieces that cut a character in two): the app
 * gets exactly the chunks it would have got without tokenmeter, through every way of reading a
 * stream (the raw bytes of `asResponse()` too), and the span has the exact usage once the app reached the end (estimated when cut short
 * by a break, an abort or a failing body, even when the usage bytes had already arrived).
 */
import OpenAI, * as openaiModule from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { setInstrumentationEnabled } from '../core/run.js';
import { settle, setupTracing } from '../test-support/tracing.js';
import { OpenAIInstrumentation } from './openai.js';

const tracing = setupTracing();
new OpenAIInstrumentation().apply(openaiModule);

const usage = { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27 };
const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18' };
const words = ['The', ' capital', ' of', ' France', ' is', ' Zürich', ' €.'];

/**
 * The API's events for a stream, with or without include_usage; as OpenAI sends them, each with an
 * `obfuscation` padding after `usage` (so `usage` is not the chunk's last key).
 */
function events(includeUsage: boolean): string[] {
  const extra = includeUsage ? { usage: null } : {};
  const chunks: object[] = words.map((w, i) => ({
    ...base,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: w } : { content: w }, finish_reason: null }],
    ...extra,
    obfuscation: 'x'.repeat(i + 1),
  }));
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...extra, obfuscation: 'y' });
  if (includeUsage) chunks.push({ ...base, choices: [], usage });
  return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'];
}

/** How the network hands the body over: network chunks as lists of bytes. */
const CUTS = {
  whole: (e: string[]) => [e.join('')],
  'one event a chunk': (e: string[]) => e,
  'tail together': (e: string[]) => [...e.slice(0, -3), e.slice(-3).join('')],
  'pairs of events': (e: string[]) => e.flatMap((x, i) => (i % 2 ? [] : [x + (e[i + 1] ?? '')])),
  '7-byte pieces (characters cut in two)': (e: string[]) => {
    const b = Buffer.from(e.join(''));
    const out: Buffer[] = [];
    for (let at = 0; at < b.length; at += 7) out.push(b.subarray(at, at + 7));
    return out;
  },
} satisfies Record<string, (e: string[]) => (string | Buffer)[]>;
type Cut = keyof typeof CUTS;

/** A fetch answering like the API, its body cut as `cut` says; `fail` errors the body after that many chunks. */
function fetchCut(cut: Cut, fail?: number) {
  return async (_url: unknown, init: { body: string; signal?: AbortSignal }) => {
    const body = JSON.parse(init.body);
    const parts = CUTS[cut](events(body.stream_options?.include_usage === true)).map((p) =>
      typeof p === 'string' ? new TextEncoder().encode(p) : new Uint8Array(p),
    );
    let k = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        // As fetch does: an aborted request's body errors.
        if (init.signal?.aborted) c.error(init.signal.reason);
        else if (fail !== undefined && k === fail) c.error(new TypeError('terminated'));
        else if (k < parts.length) c.enqueue(parts[k++]!);
        else c.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  };
}

const client = (cut: Cut, fail?: number) =>
  new OpenAI({
    apiKey: 'sk-test',
    baseURL: 'https://api.openai.com/v1',
    fetch: fetchCut(cut, fail) as any,
    maxRetries: 0,
  });
const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const };

async function without<T>(fn: () => Promise<T>): Promise<T> {
  setInstrumentationEnabled(false);
  try {
    return await fn();
  } finally {
    setInstrumentationEnabled(true);
  }
}
async function oneSpan() {
  await settle();
  const spans = tracing.ours();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}
const expectExact = (attrs: Record<string, unknown>) => {
  expect(attrs['gen_ai.usage.input_tokens']).toBe(19);
  expect(attrs['gen_ai.usage.output_tokens']).toBe(8);
  expect(attrs['tokenmeter.usage.estimated']).toBeUndefined();
};

describe.each(Object.keys(CUTS) as Cut[])('network chunks: %s', (cut) => {
  beforeEach(() => tracing.reset());

  const read = async (c: OpenAI) => {
    const chunks: unknown[] = [];
    for await (const x of await c.chat.completions.create(request)) chunks.push(x);
    return chunks;
  };

  it('for await: the same chunks as without tokenmeter (key order too); exact usage', async () => {
    const bare = await without(() => read(client(cut)));
    expect(tracing.ours()).toHaveLength(0);
    const chunks = await read(client(cut));
    expect(chunks).toHaveLength(words.length + 1);
    expect(JSON.stringify(chunks)).toBe(JSON.stringify(bare));
    expectExact((await oneSpan()).attributes);
  });

  it('toReadableStream(): the same bytes as without tokenmeter', async () => {
    const text = async (c: OpenAI) =>
      new Response((await c.chat.completions.create(request)).toReadableStream()).text();
    const bare = await without(() => text(client(cut)));
    expect(await text(client(cut))).toBe(bare);
    expectExact((await oneSpan()).attributes);
  });

  it('asResponse(): the same bytes as without tokenmeter, read on the way; exact usage', async () => {
    const raw = async (c: OpenAI) => {
      const res = await c.chat.completions.create(request).asResponse();
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    const bare = await without(() => raw(client(cut)));
    expect(tracing.ours()).toHaveLength(0);
    expect(bare.text).not.toContain('"usage"');
    expect(await raw(client(cut))).toEqual(bare);
    expectExact((await oneSpan()).attributes);
  });

  it('asResponse(), the body fails part-way: the app gets the error, the span ends with it, estimated', async () => {
    if (CUTS[cut](events(true)).length < 3) return; // cut into too few pieces to fail in the middle
    const res = await client(cut, 2).chat.completions.create(request).asResponse();
    const err = await res.text().catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('terminated');
    const span = await oneSpan();
    expect(span.status.code).toBe(2);
    expect(span.attributes['tokenmeter.usage.estimated']).toBe(true);
  });

  it('tee(): both halves get every chunk', async () => {
    const [a, b] = (await client(cut).chat.completions.create(request)).tee();
    const all = async (s: AsyncIterable<unknown>) => {
      const out: unknown[] = [];
      for await (const x of s) out.push(x);
      return out;
    };
    const [x, y] = await Promise.all([all(a), all(b)]);
    const bare = await without(() => read(client(cut)));
    expect(x).toEqual(bare);
    expect(y).toEqual(bare);
    expectExact((await oneSpan()).attributes);
  });

  it('chat.completions.stream(): finalChatCompletion() as without tokenmeter', async () => {
    const final = (c: OpenAI) =>
      c.chat.completions.stream({ model: request.model, messages: request.messages }).finalChatCompletion();
    const bare = await without(() => final(client(cut)));
    const got = await final(client(cut));
    expect(got).toEqual(bare);
    expect(got.choices[0]?.message.content).toBe(words.join(''));
    expect('usage' in got && got.usage).toBeFalsy();
    expectExact((await oneSpan()).attributes);
  });

  it('break after the first chunk: estimated, even when the usage bytes had already arrived', async () => {
    const stream = await client(cut).chat.completions.create(request);
    for await (const _ of stream) break;
    expect(stream.controller.signal.aborted).toBe(true);
    const attrs = (await oneSpan()).attributes;
    expect(attrs['tokenmeter.usage.estimated']).toBe(true);
    expect(attrs['gen_ai.usage.output_tokens']).toBeLessThan(8);
  });

  it('the body fails mid-stream: the app gets the error, the span ends with it, estimated', async () => {
    const parts = CUTS[cut](events(true)).length;
    if (parts < 3) return; // cut into too few pieces to fail in the middle
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const x of await client(cut, 2).chat.completions.create(request)) seen.push(x);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(seen.length).toBeLessThan(words.length + 1);
    const span = await oneSpan();
    expect(span.status.code).toBe(2);
    expect(span.attributes['tokenmeter.usage.estimated']).toBe(true);
  });
});

it('abort mid-stream through the controller: partial, estimated; the app sees no error', async () => {
  tracing.reset();
  const stream = await client('one event a chunk').chat.completions.create(request);
  let n = 0;
  for await (const _ of stream) if (++n === 2) stream.controller.abort();
  expect(n).toBeLessThan(words.length + 1);
  const attrs = (await oneSpan()).attributes;
  expect(attrs['tokenmeter.usage.estimated']).toBe(true);
  expect(attrs['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect(attrs['gen_ai.usage.output_tokens']).toBeLessThan(8);
});

it('asResponse(), the app cancels the body after the first event: partial, estimated', async () => {
  tracing.reset();
  const res = await client('one event a chunk').chat.completions.create(request).asResponse();
  const body = res.body!.getReader();
  const first = await body.read();
  expect(new TextDecoder().decode(first.value)).toContain('"The"');
  await body.cancel();
  const attrs = (await oneSpan()).attributes;
  expect(attrs['tokenmeter.usage.estimated']).toBe(true);
  expect(attrs['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect(attrs['gen_ai.usage.output_tokens']).toBeLessThan(8);
});
