/** An in-process fetch that answers /chat/completions like the API (honouring stream_options.include_usage). */
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
function sse(includeUsage) {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18' };
  const extra = includeUsage ? { usage: null } : {};
  const words = ['The', ' capital', ' of', ' France', ' is', ' Paris', '.'];
  const chunks = words.map((w, i) => ({
    ...base,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: w } : { content: w }, finish_reason: null }],
    ...extra,
  }));
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...extra });
  if (includeUsage) chunks.push({ ...base, choices: [], usage });
  return `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`;
}
const SSE = { true: sse(true), false: sse(false) };
const jsonHeaders = { 'content-type': 'application/json' };
const sseHeaders = { 'content-type': 'text/event-stream' };
async function fakeFetch(_url, init) {
  const body = init.body;
  if (body.includes('"stream":true')) {
    return new Response(SSE[body.includes('"include_usage":true')], { headers: sseHeaders });
  }
  return new Response(completion, { headers: jsonHeaders });
}

module.exports = { fakeFetch };
