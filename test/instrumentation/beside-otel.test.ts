/**
 * tokenmeter beside OpenTelemetry's own `@opentelemetry/instrumentation-openai` in one process
 * (an app that already had it, now also run under `register`): both record, the call counts once,
 * as tokenmeter's span with exact tokens and cost, and the app sees what it would see alone.
 * Before, OTel's `_wrap` unwrapped our wrapper (it carried shimmer's mark) and no call was ours.
 */
import { describe, expect, test } from 'vitest';
import { FIXTURES } from '../replay/fixtures.js';
import { lastLine, runApp, useChildApps } from './child-apps.js';
import { engineCost } from './support.js';

const apps = useChildApps();

describe('beside @opentelemetry/instrumentation-openai', () => {
  test('a plain and a streamed chat call: two calls, both tokenmeter spans, OTel spans kept and not counted', async () => {
    const run = await runApp(
      apps,
      ['-r', '@tokenmeter/instrumentation/register', 'test/instrumentation/apps/beside-otel-openai.cjs'],
      {
        OTEL_SERVICE_NAME: 'beside-otel',
      },
    );
    expect(run.code, run.err).toBe(0);
    const chat = FIXTURES.openaiChat.ok;
    // What the app sees is unchanged: the injected usage chunk is hidden, no `usage` key added.
    expect(lastLine(run.out)).toEqual({ plain: chat.text, text: chat.text, seen: ['absent'] });
    expect(run.err).not.toContain('TokenmeterWarning');

    const calls = await apps.otlp.waitForCalls(2);
    await new Promise((r) => setTimeout(r, 300)); // a late duplicate would arrive in the next export
    const spans = apps.otlp.spans();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    expect(apps.otlp.calls()).toHaveLength(2);
    for (const call of calls) {
      const span = byId.get(call.spanId);
      expect(call.scopeName).toMatch(/^@tokenmeter\/instrumentation/);
      expect(call.usage.inputTokens).toBe(chat.tokens!.inputTokens);
      expect(call.usage.outputTokens).toBe(chat.tokens!.outputTokens);
      expect(call.spanCost?.usd).toBe(engineCost('openai', chat.model, chat.tokens!));
      // OTel's span for the same request encloses ours and is marked as recorded by ours.
      const parent = span?.parentSpanId ? byId.get(span.parentSpanId) : undefined;
      expect(parent?.scope.name).toBe('@opentelemetry/instrumentation-openai');
      expect(parent?.attributes['tokenmeter.call.delegated']).toBe(true);
    }
    expect(spans.filter((s) => s.scope.name === '@opentelemetry/instrumentation-openai')).toHaveLength(2);
    expect(calls.map((c) => c.isStreaming).sort()).toEqual([false, true]);
  }, 60_000);
});
