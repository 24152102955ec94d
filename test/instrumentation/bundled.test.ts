/**
 * Bundled apps (a serverless function built with esbuild: the SDKs and tokenmeter inside the
 * bundle, no module load for a hook to see). The explicit wrapper records their calls; a copy of
 * tokenmeter inside the bundle uses the provider `register` started outside it; and when nothing
 * can be recorded, one warning says why instead of silence. Spans on a real OTLP/HTTP endpoint.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES } from '../replay/fixtures.js';
import { lastLine, repoRoot as root, runApp, useChildApps } from './child-apps.js';
import { engineCost } from './support.js';

let dir: string;

const WRAPPED = `
import { instrument, start } from '@tokenmeter/instrumentation';
import OpenAI from 'openai';
import { generateText, streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';

export async function handler() {
  if (process.env.START_IN_BUNDLE) start();
  const model = process.env.OPENAI_MODEL;
  const openai = instrument(new OpenAI({ apiKey: 'sk-test', baseURL: process.env.REPLAY_URL + '/v1' }));
  const chat = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] });
  const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], stream: true });
  let streamed = '';
  for await (const c of stream) streamed += c.choices[0]?.delta?.content ?? '';
  const provider = createOpenAI({ apiKey: 'sk-test', baseURL: process.env.REPLAY_URL + '/v1' });
  const text = await generateText({ model: instrument(provider.chat(model)), prompt: 'Hi' });
  const result = streamText({ model: instrument(provider.chat(model)), prompt: 'Hi' });
  return { chat: chat.choices[0].message.content, streamed, text: text.text, streamText: await result.text };
}
handler().then((r) => console.log(JSON.stringify(r)));
`;

const BARE = `
import OpenAI from 'openai';
const openai = new OpenAI({ apiKey: 'sk-test', baseURL: process.env.REPLAY_URL + '/v1' });
(async () => {
  for (let i = 0; i < 2; i++) await openai.chat.completions.create({ model: process.env.OPENAI_MODEL, messages: [{ role: 'user', content: 'Hi' }] });
  console.log(JSON.stringify({ done: true }));
})();
`;

const apps = useChildApps(async () => {
  mkdirSync(join(root, 'test/artifacts'), { recursive: true });
  dir = mkdtempSync(join(root, 'test/artifacts/bundled-'));
  for (const [name, source] of [
    ['wrapped', WRAPPED],
    ['bare', BARE],
  ]) {
    writeFileSync(join(dir, `${name}.mjs`), source);
    // Everything inside the bundle, as a function bundled for a serverless platform.
    await build({
      entryPoints: [join(dir, `${name}.mjs`)],
      outfile: join(dir, `${name}.cjs`),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'error',
    });
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) => runApp(apps, args, env);

const f = FIXTURES.openaiChat.ok;
const EXPECTED = { chat: f.text, streamed: f.text, text: f.text, streamText: f.text };

async function expectFourExactCalls() {
  const calls = await apps.otlp.waitForCalls(4);
  await new Promise((r) => setTimeout(r, 200));
  expect(apps.otlp.calls()).toHaveLength(4);
  for (const c of calls) {
    expect(c.provider).toBe('openai');
    expect(c.usage.inputTokens).toBe(f.tokens!.inputTokens);
    expect(c.usage.outputTokens).toBe(f.tokens!.outputTokens);
    expect(c.spanCost?.usd).toBe(engineCost('openai', f.model, f.tokens!));
  }
  expect(calls.filter((c) => c.isStreaming)).toHaveLength(2);
}

const warnings = (err: string, words: string) => err.split('\n').filter((l) => l.includes(words));

describe('an esbuild-bundled function', () => {
  test('instrument() with start() inside the bundle: every call one exact span', async () => {
    const r = await run([join(dir, 'wrapped.cjs')], { START_IN_BUNDLE: '1' });
    expect(r.code, r.err).toBe(0);
    expect(lastLine(r.out)).toEqual(EXPECTED);
    await expectFourExactCalls();
    expect(r.err).not.toContain('TokenmeterWarning');
  });

  test("instrument() in the bundle, register outside it: the bundle's copy uses register's provider", async () => {
    const r = await run(['-r', '@tokenmeter/instrumentation/register', join(dir, 'wrapped.cjs')]);
    expect(r.code, r.err).toBe(0);
    expect(lastLine(r.out)).toEqual(EXPECTED);
    await expectFourExactCalls();
    expect(r.err).not.toContain('TokenmeterWarning');
  });

  test('instrument() but tokenmeter never started: one warning naming the fix, nothing added to requests', async () => {
    const r = await run([join(dir, 'wrapped.cjs')]);
    expect(r.code, r.err).toBe(0);
    expect(lastLine(r.out)).toEqual(EXPECTED);
    expect(warnings(r.err, 'TokenmeterWarning')).toHaveLength(1);
    expect(r.err).toContain('tokenmeter was never started in this process');
    expect(r.err).toContain('@tokenmeter/instrumentation/register');
    // No span will be exported: stream_options.include_usage is not injected.
    const streamed = apps.replay.requests.find((q) => (q.body as { stream?: boolean })?.stream === true);
    expect((streamed?.body as { stream_options?: unknown }).stream_options).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(apps.otlp.spans()).toHaveLength(0);
  });

  test('traces turned off on purpose (OTEL_TRACES_EXPORTER=none, OTEL_SDK_DISABLED=true): no warning, nothing added', async () => {
    for (const env of [{ OTEL_TRACES_EXPORTER: 'none' }, { OTEL_SDK_DISABLED: 'true' }]) {
      apps.replay.reset();
      const r = await run(['-r', '@tokenmeter/instrumentation/register', join(dir, 'wrapped.cjs')], env);
      expect(r.code, r.err).toBe(0);
      expect(lastLine(r.out)).toEqual(EXPECTED);
      expect(r.err, JSON.stringify(env)).not.toContain('TokenmeterWarning');
      // The openai SDK's streamed call (the first stream; @ai-sdk/openai asks usage by itself).
      const streamed = apps.replay.requests.find((q) => (q.body as { stream?: boolean })?.stream === true);
      expect((streamed?.body as { stream_options?: unknown }).stream_options).toBeUndefined();
    }
  });

  test('an SDK in the bundle, not wrapped, under register: one warning on the first AI call', async () => {
    const r = await run(['-r', '@tokenmeter/instrumentation/register', join(dir, 'bare.cjs')]);
    expect(r.code, r.err).toBe(0);
    expect(lastLine(r.out)).toEqual({ done: true });
    const said = warnings(r.err, 'TokenmeterWarning');
    expect(said, r.err).toHaveLength(1);
    expect(said[0]).toContain(`POST ${apps.replay.url}/v1/chat/completions`);
    expect(said[0]).toContain('instrument(new OpenAI())');
    expect(apps.replay.requests).toHaveLength(2);
  });
});
