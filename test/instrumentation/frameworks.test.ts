/**
 * Agent frameworks under `--import @tokenmeter/instrumentation/register`, configured as their
 * docs say, with no tokenmeter code: a Mastra agent (`generate` and `stream`; Mastra calls its
 * models itself, through its `ai-v5` alias and its model router) and LangChain.js (over the
 * openai SDK). Exact tokens and cost, on a real OTLP/HTTP endpoint.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { AiCall } from '../../instrumentation/src/normalize/types.js';
import { FIXTURES, type TokenUsage } from '../replay/fixtures.js';
import { type ReplayServer, startReplayServer } from '../replay/server.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { engineCost } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const app = (name: string) => fileURLToPath(new URL(`./apps/${name}`, import.meta.url));
let replay: ReplayServer;
let otlp: OtlpReceiver;

beforeAll(async () => {
  execFileSync('npx', ['tsc', '-b', 'instrumentation'], { cwd: root, stdio: 'pipe' });
  replay = await startReplayServer();
  otlp = await startOtlpReceiver();
}, 120_000);
afterAll(async () => {
  await replay?.close();
  await otlp?.close();
});
beforeEach(() => {
  replay.reset();
  otlp.reset();
});

function run(file: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', '@tokenmeter/instrumentation/register', app(file)], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      REPLAY_URL: replay.url,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: `${replay.url}/v1`,
      OPENAI_MODEL: FIXTURES.openaiChat.ok.model,
      EMBEDDING_MODEL: FIXTURES.openaiEmbeddings.ok.model,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

function expectExact(call: AiCall | undefined, model: string, t: TokenUsage) {
  expect(call).toBeDefined();
  expect(call?.provider).toBe('openai');
  expect(call?.usage.inputTokens).toBe(t.inputTokens);
  expect(call?.usage.outputTokens).toBe(t.outputTokens);
  expect(call?.estimated).toBe(false);
  expect(call?.spanCost?.usd).toBe(engineCost('openai', model, t));
}

const lastLine = (s: string) => JSON.parse(s.trim().split('\n').at(-1) ?? '{}');

describe('Mastra', () => {
  test("an agent's generate and stream (model router 'openai/…', Responses API): one exact span each", async () => {
    const f = FIXTURES.openaiResponses.ok;
    const r = await run('mastra-app.mjs');
    expect(r.code, r.err).toBe(0);
    expect(lastLine(r.out)).toEqual({ generate: f.text, stream: f.text });
    const calls = await otlp.waitForCalls(2);
    await new Promise((res) => setTimeout(res, 300));
    expect(otlp.calls()).toHaveLength(2);
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
    const calls = await otlp.waitForCalls(5);
    await new Promise((res) => setTimeout(res, 300));
    expect(otlp.calls()).toHaveLength(5);
    const chats = calls.filter((c) => c.operation === 'chat');
    expect(chats).toHaveLength(4);
    for (const c of chats) expectExact(c, chat.model, chat.tokens!);
    expect(chats.filter((c) => c.isStreaming)).toHaveLength(1);
    expectExact(
      calls.find((c) => c.operation === 'embeddings'),
      emb.model,
      emb.tokens!,
    );
    expect(replay.requests).toHaveLength(5);
  });
});
