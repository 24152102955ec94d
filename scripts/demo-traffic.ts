/**
 * Demo traffic for a first look (tenant `demo`): the real instrumentation around the real
 * OpenAI, Anthropic and Google SDKs, calling the local replay server (test/replay), spans
 * exported over OTLP/HTTP to the running service. Started by `tokenmeter serve` on an empty
 * store from a repo checkout (TOKENMETER_DEMO=false turns it off); also runnable alone:
 *
 *   TOKENMETER_URL=http://127.0.0.1:4318 TOKENMETER_KEY=<admin key> node --import tsx scripts/demo-traffic.ts
 *
 * A burst of calls first (the view is populated within seconds), then one call every few
 * seconds until stopped. It never calls a real provider: every baseURL is the replay server.
 */
import { GoogleGenAI } from '@google/genai';
import * as googleModule from '@google/genai';
import Anthropic, * as anthropicModule from '@anthropic-ai/sdk';
import OpenAI, * as openaiModule from 'openai';
import {
  AnthropicInstrumentation,
  GoogleGenAIInstrumentation,
  OpenAIInstrumentation,
  start,
  withUsageContext,
} from '@tokenmeter/instrumentation';
import { SCENARIO_HEADER, startReplayServer } from '../test/replay/server.ts';

const url = process.env.TOKENMETER_URL ?? 'http://127.0.0.1:4318';
const key = process.env.TOKENMETER_KEY ?? process.env.TOKENMETER_ADMIN_KEY ?? '';
const burst = Number(process.env.TOKENMETER_DEMO_BURST ?? 120);
const everyMs = Number(process.env.TOKENMETER_DEMO_EVERY_MS ?? 4000);

// The OTLP exporters read process.env themselves.
Object.assign(process.env, {
  OTEL_SERVICE_NAME: 'demo-shop',
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${url}/v1/traces`,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: `Authorization=Bearer ${key}`,
  OTEL_BSP_SCHEDULE_DELAY: '1000',
  OTEL_METRICS_EXPORTER: 'none',
});
const tracing = start();
new OpenAIInstrumentation().apply(openaiModule);
new AnthropicInstrumentation().apply(anthropicModule);
new GoogleGenAIInstrumentation().apply(googleModule);

const replay = await startReplayServer();
const openai = (scenario = 'ok') =>
  new OpenAI({
    apiKey: 'sk-demo',
    baseURL: `${replay.url}/v1`,
    defaultHeaders: { [SCENARIO_HEADER]: scenario },
    maxRetries: 0,
  });
const anthropic = (scenario = 'ok') =>
  new Anthropic({
    apiKey: 'sk-demo',
    baseURL: replay.url,
    defaultHeaders: { [SCENARIO_HEADER]: scenario },
    maxRetries: 0,
  });
const google = new GoogleGenAI({ apiKey: 'demo', httpOptions: { baseUrl: replay.url } });

const USERS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara'];
const TEAMS = ['search', 'support', 'growth'];
const FEATURES = ['chat', 'summarize', 'classify', 'agent'];
const messages = [{ role: 'user' as const, content: 'Hello' }];

/** One call, picked from the call number: a spread of providers, models, scenarios and people. */
async function call(n: number): Promise<void> {
  const u = n % USERS.length;
  const ctx = {
    tenant: 'demo',
    userId: USERS[u],
    team: TEAMS[u % TEAMS.length],
    feature: FEATURES[n % FEATURES.length],
  };
  const kind = n % 10;
  await withUsageContext(ctx, async () => {
    if (kind < 3)
      await openai(n % 7 === 0 ? 'cache' : 'ok').chat.completions.create({ model: 'gpt-4o-mini', messages });
    else if (kind === 3) await openai('reasoning').chat.completions.create({ model: 'o4-mini', messages });
    else if (kind === 4) {
      const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
      for await (const _ of stream);
    } else if (kind < 7)
      await anthropic(n % 5 === 0 ? 'cache' : 'ok').messages.create({
        model: 'claude-haiku-4-5-20251001',
        max_tokens: 256,
        messages,
      });
    else if (kind === 7) await anthropic().messages.create({ model: 'claude-sonnet-4-6', max_tokens: 256, messages });
    else if (kind === 8) await google.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });
    else await openai(n % 3 === 0 ? 'error-500' : 'ok').chat.completions.create({ model: 'gpt-4o-mini', messages });
  }).catch(() => undefined); // a replayed 500 is part of the demo: the span records the error
}

let stopped = false;
const stop = async () => {
  if (stopped) return;
  stopped = true;
  await tracing.shutdown();
  await replay.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('disconnect', () => void stop()); // the service that started it is gone

for (let n = 0; n < burst && !stopped; n += 4) await Promise.all([0, 1, 2, 3].map((i) => call(n + i)));
await tracing.flush();
process.stdout.write(`demo: ${burst} calls sent to ${url} (tenant demo); one every ${everyMs} ms from now on\n`);
for (let n = burst; !stopped; n++) {
  await new Promise((r) => setTimeout(r, everyMs));
  await call(n);
}
