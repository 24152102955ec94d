// A local upstream that answers /chat/completions like the API: JSON at once, or SSE chunks
// GAP ms apart, each chunk's content the moment it was written (performance.timeOrigin +
// performance.now(), the same clock in every process of this machine), include_usage honoured.
// usage: node upstream.mjs PORT CHUNKS GAP_MS
import http from 'node:http';

const [port, chunks, gap] = process.argv.slice(2).map(Number);
const now = () => performance.timeOrigin + performance.now();
const usage = { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27 };
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'The capital of France is Paris.' }, finish_reason: 'stop' },
  ],
  usage,
});
const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18' };

http
  .createServer((req, res) => {
    const body = [];
    req.on('data', (c) => body.push(c));
    req.on('end', () => {
      const text = Buffer.concat(body).toString();
      if (!text.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(completion);
        return;
      }
      const includeUsage = text.includes('"include_usage":true');
      const extra = includeUsage ? { usage: null } : {};
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const send = () => {
        if (res.destroyed) return;
        if (i < chunks) {
          const delta = i === 0 ? { role: 'assistant', content: `@${now()}` } : { content: `@${now()}` };
          res.write(
            `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`,
          );
          i++;
          setTimeout(send, gap);
          return;
        }
        let tail = `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...extra })}\n\n`;
        if (includeUsage) tail += `data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`;
        res.end(`${tail}data: [DONE]\n\n`);
      };
      send();
    });
  })
  .listen(port, '127.0.0.1', () => process.send?.('ready'));
