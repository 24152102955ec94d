/**
 * The SDK is found however it is laid out on disk, for `import` and for `require`: real layouts
 * made in a temporary folder, an app under `--import`/`-r` with no tokenmeter code, its spans
 * received on a real OTLP/HTTP endpoint.
 *
 *   .next/node_modules/openai-f0ed28f090f94724 → node_modules/openai   (Turbopack's hashed external)
 *   node_modules/ai-alias/                       a copy of `ai` under another name (npm alias, `ai-v5`)
 *   node_modules/.pnpm/@anthropic-ai+sdk@…/node_modules/@anthropic-ai/sdk, linked from node_modules (pnpm)
 *   vendor/bedrock-runtime ← node_modules/@aws-sdk/client-bedrock-runtime   (linked from outside node_modules)
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { AiCall } from '../../instrumentation/src/normalize/types.js';
import { FIXTURES } from '../replay/fixtures.js';
import { lastLine, repoRoot as root, runApp, useChildApps } from './child-apps.js';
import { engineCost } from './support.js';

const rootModules = join(root, 'node_modules');
let dir: string;

/** A package copied as a real folder (package.json and what it ships), as a registry install leaves it. */
function copyPackage(name: string, to: string): void {
  const from = join(rootModules, name);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true, filter: (src) => !src.includes(`${from}/node_modules`) });
}

function link(target: string, at: string): void {
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(target, at, 'dir');
}

const ANTHROPIC_VERSION = JSON.parse(readFileSync(join(rootModules, '@anthropic-ai/sdk/package.json'), 'utf8')).version;

const apps = useChildApps(() => {
  // Inside the repository (test/artifacts is ignored by git): the copies resolve their own
  // dependencies by walking up to the repository's node_modules, as in an app's tree.
  mkdirSync(join(root, 'test/artifacts'), { recursive: true });
  dir = mkdtempSync(join(root, 'test/artifacts/layouts-'));
  link(join(rootModules, 'openai'), join(dir, '.next/node_modules/openai-f0ed28f090f94724'));
  copyPackage('ai', join(dir, 'node_modules/ai-alias'));
  const pnpmDir = join(dir, `node_modules/.pnpm/@anthropic-ai+sdk@${ANTHROPIC_VERSION}/node_modules/@anthropic-ai/sdk`);
  copyPackage('@anthropic-ai/sdk', pnpmDir);
  link(pnpmDir, join(dir, 'node_modules/@anthropic-ai/sdk'));
  copyPackage('@aws-sdk/client-bedrock-runtime', join(dir, 'vendor/bedrock-runtime'));
  link(join(dir, 'vendor/bedrock-runtime'), join(dir, 'node_modules/@aws-sdk/client-bedrock-runtime'));
  mkdirSync(join(dir, '.next/server'), { recursive: true });
  writeFileSync(join(dir, '.next/server/app.mjs'), appSource('import'));
  writeFileSync(join(dir, '.next/server/app.cjs'), appSource('require'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The same app as ESM (`await import(…)`) or CommonJS (`require(…)`). */
function appSource(how: 'import' | 'require'): string {
  const load = (s: string) =>
    how === 'import' ? `await import(${JSON.stringify(s)})` : `require(${JSON.stringify(s)})`;
  const body = `
  const OpenAIModule = ${load('openai-f0ed28f090f94724')};
  const OpenAI = OpenAIModule.default ?? OpenAIModule;
  const ai = ${load('ai-alias')};
  const { createOpenAI } = ${load('@ai-sdk/openai')};
  const AnthropicModule = ${load('@anthropic-ai/sdk')};
  const Anthropic = AnthropicModule.default ?? AnthropicModule;
  const { BedrockRuntimeClient, ConverseCommand } = ${load('@aws-sdk/client-bedrock-runtime')};
  const url = process.env.REPLAY_URL;
  const openai = new OpenAI({ apiKey: 'sk-test', baseURL: url + '/v1' });
  const chat = await openai.chat.completions.create({ model: process.env.OPENAI_MODEL, messages: [{ role: 'user', content: 'Hi' }] });
  const provider = createOpenAI({ apiKey: 'sk-test', baseURL: url + '/v1' });
  const text = await ai.generateText({ model: provider.chat(process.env.OPENAI_MODEL), prompt: 'Hi' });
  const anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: url });
  const msg = await anthropic.messages.create({ model: process.env.ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
  const bedrock = new BedrockRuntimeClient({ endpoint: process.env.REPLAY_H2_URL, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const conv = await bedrock.send(new ConverseCommand({ modelId: process.env.BEDROCK_MODEL, messages: [{ role: 'user', content: [{ text: 'Hi' }] }] }));
  bedrock.destroy();
  console.log(JSON.stringify({ chat: chat.choices[0].message.content, text: text.text, msg: msg.content[0].text, stop: conv.stopReason }));
`;
  return how === 'import' ? body : `(async () => {${body}})();`;
}

function expectExact(call: AiCall | undefined, provider: string, fixture: { model: string; tokens?: unknown }) {
  const t = fixture.tokens as typeof FIXTURES.openaiChat.ok.tokens;
  expect(call, `a ${provider} call`).toBeDefined();
  expect(call?.usage.inputTokens).toBe(t!.inputTokens);
  expect(call?.usage.outputTokens).toBe(t!.outputTokens);
  expect(call?.spanCost?.usd).toBe(engineCost(provider, fixture.model, t!));
}

describe('packages found by their package.json name, whatever their path', () => {
  test.each([
    // openai twice: the SDK's call, and the `ai` call over @ai-sdk/openai (fetch, no SDK below it).
    ['import', '--import', 'app.mjs', ['anthropic', 'bedrock', 'openai', 'openai']],
    ['require', '-r', 'app.cjs', ['anthropic', 'bedrock', 'openai', 'openai']],
  ] as const)('%s: hashed link, npm alias, pnpm store, linked folder', async (_how, flag, file, expected) => {
    const result = await runApp(apps, [flag, '@tokenmeter/instrumentation/register', join(dir, '.next/server', file)]);
    expect(result.code, result.err).toBe(0);
    const answer = lastLine(result.out);
    // What the app sees is what the providers answered.
    expect(answer.chat).toBe(FIXTURES.openaiChat.ok.text);
    expect(answer.text).toBe(FIXTURES.openaiChat.ok.text);
    expect(answer.msg).toBe(FIXTURES.anthropicMessages.ok.text);
    const calls = await apps.otlp.waitForCalls(expected.length);
    expect(calls.map((c) => c.provider).sort()).toEqual(expected);
    for (const c of calls.filter((c) => c.provider === 'openai')) expectExact(c, 'openai', FIXTURES.openaiChat.ok);
    expectExact(
      calls.find((c) => c.provider === 'anthropic'),
      'anthropic',
      FIXTURES.anthropicMessages.ok,
    );
    if (expected.includes('bedrock'))
      expectExact(
        calls.find((c) => c.provider === 'bedrock'),
        'bedrock',
        FIXTURES.bedrockConverse.ok,
      );
  });
});
