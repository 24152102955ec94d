/**
 * A small express service that calls OpenAI and Anthropic through their own SDKs.
 * Run it under the instrumentation, with no tokenmeter code but the attribution middleware:
 *
 *   node --import @tokenmeter/instrumentation/register examples/express-app/app.mjs
 *
 * OPENAI_BASE_URL / ANTHROPIC_BASE_URL point it at a local replay server in the demo
 * (unset: the real APIs, with OPENAI_API_KEY / ANTHROPIC_API_KEY).
 */
import Anthropic from '@anthropic-ai/sdk';
import { usageContextMiddleware } from '@tokenmeter/instrumentation/express';
import express from 'express';
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY ?? 'sk-demo', baseURL: process.env.OPENAI_BASE_URL });
const anthropic = new Anthropic({
  apiKey: process.env.ANTHROPIC_API_KEY ?? 'sk-ant-demo',
  baseURL: process.env.ANTHROPIC_BASE_URL,
});
const OPENAI_MODEL = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';
const ANTHROPIC_MODEL = process.env.ANTHROPIC_MODEL ?? 'claude-haiku-4-5-20251001';

const app = express();
app.use(express.json());
// Who caused each call: x-tenant-id, x-user-id, x-team, x-feature (or your own functions).
app.use(usageContextMiddleware({ feature: (req) => req.path.slice(1) }));

app.post('/ask', async (req, res, next) => {
  try {
    const r = await openai.chat.completions.create({
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: String(req.body?.question ?? 'Hello') }],
    });
    res.json({ answer: r.choices[0]?.message.content });
  } catch (err) {
    next(err);
  }
});

app.post('/ask-stream', async (req, res, next) => {
  try {
    const stream = await openai.chat.completions.create({
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: String(req.body?.question ?? 'Hello') }],
      stream: true,
    });
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    for await (const chunk of stream) res.write(chunk.choices[0]?.delta?.content ?? '');
    res.end();
  } catch (err) {
    next(err);
  }
});

app.post('/summarise', async (req, res, next) => {
  try {
    const message = await anthropic.messages
      .stream({
        model: ANTHROPIC_MODEL,
        max_tokens: 512,
        messages: [{ role: 'user', content: `Summarise: ${String(req.body?.text ?? '')}` }],
      })
      .finalMessage();
    res.json({ summary: message.content.map((c) => (c.type === 'text' ? c.text : '')).join('') });
  } catch (err) {
    next(err);
  }
});

app.post('/embed', async (req, res, next) => {
  try {
    const r = await openai.embeddings.create({ model: 'text-embedding-3-small', input: String(req.body?.text ?? '') });
    res.json({ dimensions: r.data[0]?.embedding.length });
  } catch (err) {
    next(err);
  }
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`example app on http://127.0.0.1:${server.address().port}`);
});
// Ends on SIGTERM like any express app; the instrumentation flushes its spans first.
