/**
 * `register` loads no OpenTelemetry module at start (core/globals.ts): the context manager and
 * propagator are set when the app first uses `@opentelemetry/api` (or an SDK's patch loads).
 * Apps that load the API only later, by `import` and by `require`, with no tracer provider of
 * their own, with one registered after the API loads, and with one registered before tokenmeter
 * started: the app's context still flows, attribution reaches the span, and our span goes to
 * tokenmeter's provider or, when the app has one, to the app's, as the child of the app's span.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { lastLine, runApp, useChildApps } from './child-apps.js';

const app = (name: string) => fileURLToPath(new URL(`./apps/${name}`, import.meta.url));
const apps = useChildApps();

interface Seen {
  otelBefore: string[];
  seen: unknown;
  propagated: string[];
  appSpan: { recording: boolean; spanId: string };
}

const FORMATS = [
  ['ESM (import)', '--import', 'late-api.mjs'],
  ['CommonJS (require)', '-r', 'late-api.cjs'],
] as const;

async function run(flag: '--import' | '-r', file: string, provider: 'none' | 'after' | 'before') {
  const preload = provider === 'before' ? ['-r', app('own-provider-first.cjs')] : [];
  const r = await runApp(apps, [...preload, flag, '@tokenmeter/instrumentation/register', app(file)], {
    PROVIDER: provider,
  });
  expect(r.code, r.err).toBe(0);
  return lastLine(r.out) as Seen;
}

describe.each(FORMATS)('an app that first uses @opentelemetry/api late, %s', (_, flag, file) => {
  test('no provider of its own: its context flows, attribution reaches our span, exported by ours', async () => {
    const seen = await run(flag, file, 'none');
    // register loaded no OpenTelemetry module before the app's own first use of it.
    expect(seen.otelBefore).toEqual([]);
    // The app's context crossed an await (a context manager was set on its first use)...
    expect(seen.seen).toBe('kept');
    // ...and so was the propagator (the API's no-op one has no fields).
    expect(seen.propagated).toEqual(['traceparent', 'tracestate', 'baggage']);
    const [call] = await apps.otlp.waitForCalls(1);
    expect(call?.tenant).toBe('acme');
    expect(call?.feature).toBe('late-api');
    expect(call?.spanCost?.usd).toMatch(/^0\.\d+$/);
    // As before: the app's own API spans go nowhere without a provider of its own (ours is private).
    expect(seen.appSpan.recording).toBe(false);
    expect(apps.otlp.spans().filter((s) => s.name === 'app operation')).toEqual([]);
  });

  test.each(['after', 'before'] as const)(
    'its own provider registered %s tokenmeter starts: our span goes there, the child of its span',
    async (provider) => {
      const seen = await run(flag, file, provider);
      expect(seen.seen).toBe('kept');
      expect(seen.appSpan.recording).toBe(true);
      const [call] = await apps.otlp.waitForCalls(1);
      expect(call?.tenant).toBe('acme');
      const spans = apps.otlp.spans();
      const appSpan = spans.find((s) => s.name === 'app operation');
      const ours = spans.filter((s) => s.scope.name === '@tokenmeter/instrumentation');
      expect(appSpan?.spanId).toBe(seen.appSpan.spanId);
      expect(ours).toHaveLength(1);
      expect(ours[0]?.resource['service.name']).toBe('late-api-app');
      expect(ours[0]?.traceId).toBe(appSpan?.traceId);
      expect(ours[0]?.parentSpanId).toBe(appSpan?.spanId);
    },
  );
});
