/**
 * An in-process fetch that answers /chat/completions like the API (honouring stream_options.include_usage).
 * By default a stream is 7 content events handed over as one network chunk. A model streaming token
 * by token sends each event on its own, and answers are longer: BENCH_SSE_WORDS=n (content events)
 * and BENCH_SSE_CHUNKS=event (one network chunk per event) measure that shape; BENCH_SSE_OBFUSCATION=1
 * adds OpenAI's `obfuscation` padding after `usage` in each chunk.
 */
const usage = { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27 };
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'The capital of France is Paris.' },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage,
});
const WORDS = Number(process.env.BENCH_SSE_WORDS ?? 7);
const PER_EVENT = process.env.BENCH_SSE_CHUNKS === 'event';
// OpenAI pads each stream chunk with an `obfuscation` string after `usage`: BENCH_SSE_OBFUSCATION=1.
const OBFUSCATION = process.env.BENCH_SSE_OBFUSCATION === '1';
function sse(includeUsage) {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18' };
  const extra = includeUsage ? { usage: null } : {};
  const pad = (i) => (OBFUSCATION ? { obfuscation: 'x'.repeat(1 + (i % 9)) } : {});
  const seven = ['The', ' capital', ' of', ' France', ' is', ' Paris', '.'];
  const words = Array.from({ length: WORDS }, (_, i) => seven[i % 7]);
  const chunks = words.map((w, i) => ({
    ...base,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: w } : { content: w }, finish_reason: null }],
    ...extra,
    ...pad(i),
  }));
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...extra, ...pad(0) });
  if (includeUsage)
    chunks.push({
      ...base,
      choices: [],
      usage: { ...usage, completion_tokens: WORDS + 1, total_tokens: 19 + WORDS + 1 },
    });
  return `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`;
}
const SSE = { true: sse(true), false: sse(false) };
const encoder = new TextEncoder();
const EVENTS = {
  true: SSE.true.split(/(?<=\n\n)/).map((e) => encoder.encode(e)),
  false: SSE.false.split(/(?<=\n\n)/).map((e) => encoder.encode(e)),
};
/** The body as one network chunk per event (each a fresh copy, as a socket read is). */
function perEvent(events) {
  let k = 0;
  return new ReadableStream({
    pull(c) {
      if (k < events.length) c.enqueue(events[k++].slice());
      else c.close();
    },
  });
}
const jsonHeaders = { 'content-type': 'application/json' };
const sseHeaders = { 'content-type': 'text/event-stream' };
async function fakeFetch(_url, init) {
  const body = init.body;
  if (body.includes('"stream":true')) {
    const withUsage = body.includes('"include_usage":true');
    return new Response(PER_EVENT ? perEvent(EVENTS[withUsage]) : SSE[withUsage], { headers: sseHeaders });
  }
  return new Response(completion, { headers: jsonHeaders });
}

module.exports = { fakeFetch };
