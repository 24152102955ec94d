/**
 * Agent frameworks under `--import @tokenmeter/instrumentation/register`, configured as their
 * docs say, with no tokenmeter code: a Mastra agent (`generate` and `stream`; Mastra calls its
 * models itself, through its `ai-v5` alias and its model router) and LangChain.js (over the
 * openai SDK). Exact tokens and cost, on a real OTLP/HTTP endpoint.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { AiCall } from '../../instrumentation/src/normalize/types.js';
import { FIXTURES, type TokenUsage } from '../replay/fixtures.js';
import { lastLine, runApp, useChildApps } from './child-apps.js';
import { engineCost } from './support.js';

const app = (name: string) => fileURLToPath(new URL(`./apps/${name}`, import.meta.url));
const apps = useChildApps();

const run = (file: string) =>
  runApp(apps, ['--import', '@tokenmeter/instrumentation/register', app(file)], {
    OPENAI_BASE_URL: `${apps.replay.url}/v1`,
    EMBEDDING_MODEL: FIXTURES.openaiEmbeddings.ok.model,
  });

function expectExact(call: AiCall | undefined, model: string, t: TokenUsage) {
  expect(call).toBeDefined();
  expect(call?.provider).toBe('openai');
  expect(call?.usage.inputTokens).toBe(t.inputTokens);
  expect(call?.usage.outputTokens).toBe(t.outputTokens);
  expect(call?.estimated).toBe(false);
  expect(call?.spanCost?.usd).toBe(engineCost('openai', model, t));
}

describe('Mastra', () => {
  test("an agent's generate and stream (model router 'openai/…', Responses API): one exact span each", async () => {
    const f = FIXTURES.openaiResponses.ok;
    const r = await run('mastra-app.mjs');
    expect(r.code, r.err).toBe(0);
    expect(lastLine(r.out)).toEqual({ generate: f.text, stream: f.text });
    const calls = await apps.otlp.waitForCalls(2);
    await new Promise((res) => setTimeout(res, 300));
    expect(apps.otlp.calls()).toHaveLength(2);
    for (const c of calls) expectExact(c, f.model, f.tokens!);
    expect(calls.map((c) => c.isStreaming).sort()).toEqual([false, true]);
    expect(r.err).not.toContain('TokenmeterWarning');
  });
});

describe('LangChain.js', () => {
  test('ChatOpenAI invoke, stream, batch and OpenAIEmbeddings: one exact span per request', async () => {
    const chat = FIXTURES.openaiChat.ok;
    const emb = FIXTURES.openaiEmbeddings.ok;
    const r = await run('langchain-app.mjs');
    expect(r.code, r.err).toBe(0);
    expect(lastLine(r.out)).toEqual({
      invoke: chat.text,
      stream: chat.text,
      batch: [chat.text, chat.text],
      dims: emb.dimensions,
    });
    const calls = await apps.otlp.waitForCalls(5);
    await new Promise((res) => setTimeout(res, 300));
    expect(apps.otlp.calls()).toHaveLength(5);
    const chats = calls.filter((c) => c.operation === 'chat');
    expect(chats).toHaveLength(4);
    for (const c of chats) expectExact(c, chat.model, chat.tokens!);
    expect(chats.filter((c) => c.isStreaming)).toHaveLength(1);
    expectExact(
      calls.find((c) => c.operation === 'embeddings'),
      emb.model,
      emb.tokens!,
    );
    expect(apps.replay.requests).toHaveLength(5);
  });
});
