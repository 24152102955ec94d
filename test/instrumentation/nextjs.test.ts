/**
 * A real Next.js app (examples/nextjs, set up as the README says: instrumentation.js importing
 * `register`, tokenmeter and the SDKs in serverExternalPackages), built with its default bundler
 * (Turbopack) and with webpack, served by `next start`: an `openai` route and an `ai` route,
 * plain and streamed, against the replay server. One span per call on a real OTLP/HTTP
 * endpoint with exact tokens and cost; the responses are what the provider said. And the same
 * app left at Next's defaults (the SDKs bundled) says, on its first AI call, what to change.
 *
 * Builds are slow: each variant is built once for this file, into test/artifacts (never committed).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURES } from '../replay/fixtures.js';
import { type ReplayServer, startReplayServer } from '../replay/server.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { engineCost } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const example = join(root, 'examples/nextjs');
const nextBin = join(root, 'node_modules/next/dist/bin/next');
const f = FIXTURES.openaiChat.ok;
let dir: string;
let replay: ReplayServer;
let otlp: OtlpReceiver;

type Variant = 'turbopack' | 'webpack' | 'defaults';
const apps: Partial<Record<Variant, string>> = {};

/** The example copied and built (inside the repository, so that it finds next and the SDKs in its node_modules). */
async function buildApp(variant: Variant): Promise<string> {
  const app = join(dir, variant);
  cpSync(example, app, { recursive: true, filter: (src) => !/\/(\.next|node_modules)(\/|$)/.test(src) });
  if (variant === 'defaults') writeFileSync(join(app, 'next.config.mjs'), 'export default {};\n');
  // tokenmeter as `npm install` leaves it: a real folder in the app's node_modules. (The workspace
  // link points outside node_modules, and Next bundles such a package whatever the config says.)
  const installed = join(app, 'node_modules/@tokenmeter/instrumentation');
  mkdirSync(installed, { recursive: true });
  for (const file of ['package.json', 'README.md', 'dist']) {
    cpSync(join(root, 'instrumentation', file), join(installed, file), { recursive: true });
  }
  await promisify(execFile)(process.execPath, [nextBin, 'build', ...(variant === 'webpack' ? ['--webpack'] : [])], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', NEXT_TELEMETRY_DISABLED: '1' },
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return app;
}

beforeAll(async () => {
  execFileSync('npx', ['tsc', '-b', 'instrumentation'], { cwd: root, stdio: 'pipe' });
  mkdirSync(join(root, 'test/artifacts'), { recursive: true });
  dir = mkdtempSync(join(root, 'test/artifacts/nextjs-'));
  // The three builds at once: on two cores they overlap (Turbopack's threads, webpack's one).
  const variants = ['turbopack', 'webpack', 'defaults'] as const;
  const built = await Promise.all(variants.map((v) => buildApp(v)));
  variants.forEach((v, i) => (apps[v] = built[i]));
  replay = await startReplayServer();
  otlp = await startOtlpReceiver();
}, 900_000);

afterAll(async () => {
  await replay?.close();
  await otlp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

interface Served {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

async function nextStart(app: string): Promise<Served> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: app,
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      NEXT_TELEMETRY_DISABLED: '1',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: `${replay.url}/v1`,
      OPENAI_MODEL: f.model,
      OTEL_SERVICE_NAME: 'nextjs-example',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`next start did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

async function ask(served: Served, route: 'openai' | 'ai', stream: boolean): Promise<string> {
  const res = await fetch(`${served.url}/api/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Hi', stream }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return stream ? await res.text() : ((await res.json()) as { text: string }).text;
}

describe.each(['turbopack', 'webpack'] as const)(
  'next build (%s), next start, set up as the README says',
  (variant) => {
    test('openai and ai routes, plain and streamed: one exact span per call, responses unchanged', async () => {
      replay.reset();
      otlp.reset();
      const served = await nextStart(apps[variant]!);
      try {
        for (const route of ['openai', 'ai'] as const) {
          for (const stream of [false, true]) expect(await ask(served, route, stream)).toBe(f.text);
        }
        const calls = await otlp.waitForCalls(4);
        await new Promise((r) => setTimeout(r, 500));
        expect(otlp.calls(), served.output()).toHaveLength(4);
        for (const c of calls) {
          expect(c.provider).toBe('openai');
          expect(c.requestModel).toBe(f.model);
          expect(c.service).toBe('nextjs-example');
          expect(c.usage.inputTokens).toBe(f.tokens!.inputTokens);
          expect(c.usage.outputTokens).toBe(f.tokens!.outputTokens);
          expect(c.spanCost?.usd).toBe(engineCost('openai', f.model, f.tokens!));
        }
        expect(calls.filter((c) => c.isStreaming)).toHaveLength(2);
        expect(replay.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(4);
        expect(served.output()).not.toContain('TokenmeterWarning');
      } finally {
        await served.stop();
      }
    });
  },
);

describe("Next's defaults (the SDKs bundled), no other set-up", () => {
  test('the first AI call prints one warning naming the fix; the app works as before', async () => {
    replay.reset();
    otlp.reset();
    const served = await nextStart(apps.defaults!);
    try {
      expect(await ask(served, 'openai', false)).toBe(f.text);
      expect(await ask(served, 'ai', true)).toBe(f.text);
      await new Promise((r) => setTimeout(r, 300));
      const warnings = served
        .output()
        .split('\n')
        .filter((l) => l.includes('TokenmeterWarning'));
      expect(warnings, served.output()).toHaveLength(1);
      expect(warnings[0]).toContain('/v1/chat/completions');
      expect(warnings[0]).toContain('serverExternalPackages');
      expect(otlp.calls()).toHaveLength(0);
    } finally {
      await served.stop();
    }
  });
});
