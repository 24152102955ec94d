/**
 * With an OTLP endpoint configured (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, read by the exporter
 * from the environment), each gateway call is also exported as an OpenTelemetry span: the same
 * span whose row is written, with its tokens, cost and attribution, and no provider key.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpReceiver, startOtlpReceiver } from '../instrumentation/otlp-receiver.js';
import { FIXTURES } from '../replay/fixtures.js';
import { engineCost, PROVIDER_KEY, rowsOf, useGateway } from './harness.js';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // Before the gateway starts (its beforeAll is registered after this one).
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${receiver.url}/v1/traces`;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
});
afterAll(async () => {
  delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  await receiver?.close();
});
const env = useGateway('export');

describe('gateway: OTLP export', () => {
  it('the call is exported as a span with the row’s tokens and cost', async () => {
    const f = FIXTURES.openaiChat.ok;
    const c = new OpenAI({
      apiKey: PROVIDER_KEY,
      baseURL: `${env.gw}/openai/v1`,
      defaultHeaders: { 'x-tokenmeter-key': env.key, 'x-tokenmeter-request-id': 'exp-1', 'x-tokenmeter-user': 'zoe' },
    });
    await c.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'Hi' }] });
    const [row] = await rowsOf(env.svc, 'exp-1');
    await expect.poll(() => receiver.calls().length, { timeout: 10_000 }).toBe(1);
    const [call] = receiver.calls();
    expect(call).toMatchObject({ requestId: 'exp-1', userId: 'zoe', tenant: 'acme', provider: 'openai' });
    expect(call!.usage).toMatchObject({ inputTokens: 19, outputTokens: 8 });
    expect(call!.spanCost?.usd).toBe(engineCost('openai', f.model, f.tokens).padEnd(call!.spanCost!.usd.length, '0'));
    expect(row!.trace_id).toBe(call!.traceId);
    const exported = JSON.stringify(receiver.spans(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(exported).toContain('zoe');
    expect(exported).not.toContain('GATEWAYSECRET');
  });
});
