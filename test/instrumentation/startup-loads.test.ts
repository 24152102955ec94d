/**
 * Start-up loads only what the process needs (issue 14): a process that never imports an AI SDK
 * (nor uses OpenTelemetry itself) loads none of the provider patches, no exporter, no price data
 * and no OpenTelemetry module at all, not even the API; an SDK's patch loads with
 * that SDK; the price catalogue with the first call it prices; the configured exporter, and no
 * other, with the first export. Read from the child's own module lists (require.cache, and every
 * URL its ESM loader saw), under `--import` and `-r`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import module from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { runApp, useChildApps } from './child-apps.js';

const app = (name: string) => fileURLToPath(new URL(`./apps/${name}`, import.meta.url));
const apps = useChildApps();
const dir = mkdtempSync(join(tmpdir(), 'tm-loads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** Every file and URL the app loaded, with the module-load flag given. */
async function loadsOf(flag: '--import' | '-r', env: Record<string, string> = {}): Promise<string[]> {
  const file = join(dir, `loads-${runs++}.txt`);
  const r = await runApp(
    apps,
    ['--import', app('record-loads.mjs'), flag, '@tokenmeter/instrumentation/register', app('loads.mjs')],
    { LOADED_URLS_FILE: file, ...env },
  );
  expect(r.code, r.err).toBe(0);
  const { cjs, esm } = JSON.parse(r.out.trim().split('\n').at(-1) ?? '{}') as { cjs: string[]; esm: string[] };
  // One entry a file (under --import, register.js is both an ESM URL and a CommonJS module).
  return [...new Set([...cjs, ...esm.map((u) => (u.startsWith('file:') ? fileURLToPath(u.replace(/\?.*$/, '')) : u))])];
}

const PATCHES = ['openai', 'anthropic', 'google', 'bedrock', 'vercel-ai', 'mastra'];
const patch = (name: string) => new RegExp(`/instrumentation/dist/instrumentations/${name}\\.js$`);
const SPAN_PATH = /\/instrumentation\/dist\/(core\/call|prices\/[^/]+)\.js$/;
const PRICE_DATA = /\/@pydantic\/genai-prices\//;
const TOKENIZER = /\/js-tiktoken\//;
const EXPORTERS = {
  'http/protobuf': /\/@opentelemetry\/exporter-trace-otlp-proto\//,
  'http/json': /\/@opentelemetry\/exporter-trace-otlp-http\//,
  grpc: /\/@opentelemetry\/exporter-trace-otlp-grpc\/|\/@grpc\/grpc-js\//,
};
const TRACING_SDK = /\/@opentelemetry\/(sdk-trace-base|sdk-trace-node|sdk-metrics|otlp-transformer|resources)\//;
const ANY_OTEL = /\/node_modules\/@opentelemetry\//;
const IITM_MAIN = /\/import-in-the-middle\/index\.js$/;

/** Node 22+: ESM hooks in the app's thread (esm-hooks.ts), no loader thread. */
const inThreadHooks = typeof (module as { registerHooks?: unknown }).registerHooks === 'function';
const matching = (files: string[], re: RegExp) => files.filter((f) => re.test(f));

describe('a process that never imports an AI SDK', () => {
  test.each(['--import', '-r'] as const)(
    'under %s: no provider patch, no exporter, no price data, no OpenTelemetry',
    async (flag) => {
      const files = await loadsOf(flag);
      // The lists do see tokenmeter: its entry and the bundle of what it runs at start, and no
      // other file of its own (scripts/bundle-register.mjs).
      // Under --import the recording hook also sees what a loader thread (Node 20) imports.
      const loaderThread =
        flag === '--import' && !inThreadHooks ? ['instrumentations/esm-include.js', 'loader-hook.mjs'] : [];
      const own = matching(files, /\/instrumentation\/dist\//).map((f) => f.replace(/.*\/dist\//, ''));
      expect(own.sort()).toEqual([...loaderThread, 'register-entry.js', 'register.bundle.js'].sort());
      for (const name of PATCHES) expect(matching(files, patch(name))).toEqual([]);
      expect(matching(files, SPAN_PATH)).toEqual([]);
      expect(matching(files, PRICE_DATA)).toEqual([]);
      expect(matching(files, TOKENIZER)).toEqual([]);
      for (const re of Object.values(EXPORTERS)) expect(matching(files, re)).toEqual([]);
      expect(matching(files, TRACING_SDK)).toEqual([]);
      // Not even @opentelemetry/api or the context manager (set on the API's first use: core/globals.ts).
      expect(matching(files, ANY_OTEL)).toEqual([]);
      // Nor import-in-the-middle's main-thread hook: made when its loader first wraps a module.
      // (Node 22+ reads its version check, supports-sync-hooks.mjs, an import-free module.)
      expect(matching(files, /\/import-in-the-middle\/(index|lib\/register)\.js$/)).toEqual([]);
    },
  );

  test('gRPC configured: its exporter is still not loaded', async () => {
    const files = await loadsOf('-r', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    for (const re of Object.values(EXPORTERS)) expect(matching(files, re)).toEqual([]);
  });
});

describe('what an SDK brings in', () => {
  test('importing openai loads its patch only: no other patch, no price data, no exporter', async () => {
    const files = await loadsOf('--import', { IMPORT: 'openai' });
    expect(matching(files, patch('openai'))).toHaveLength(1);
    // Reached through import-in-the-middle's hook, made when the loader wrapped openai's ESM build.
    expect(matching(files, IITM_MAIN)).toHaveLength(1);
    // Its calls will need the context manager: set (and so the API loaded) with the patch.
    expect(matching(files, /\/@opentelemetry\/context-async-hooks\//).length).toBeGreaterThan(0);
    for (const name of PATCHES.filter((n) => n !== 'openai')) expect(matching(files, patch(name))).toEqual([]);
    expect(matching(files, PRICE_DATA)).toEqual([]);
    for (const re of Object.values(EXPORTERS)) expect(matching(files, re)).toEqual([]);
  });

  test('the first call loads the price data; its export loads the configured exporter and no other', async () => {
    const files = await loadsOf('-r', { IMPORT: 'openai', CALL: 'openai', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(matching(files, PRICE_DATA).length).toBeGreaterThan(0);
    expect(matching(files, EXPORTERS['http/json']).length).toBeGreaterThan(0);
    expect(matching(files, EXPORTERS['http/protobuf'])).toEqual([]);
    expect(matching(files, EXPORTERS.grpc)).toEqual([]);
    for (const name of PATCHES.filter((n) => n !== 'openai')) expect(matching(files, patch(name))).toEqual([]);
    // The span did leave, with its cost.
    const calls = await apps.otlp.waitForCalls(1);
    expect(calls[0]?.spanCost?.usd).toMatch(/^0\.\d+$/);
  });
});
