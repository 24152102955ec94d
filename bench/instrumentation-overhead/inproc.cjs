/**
 * Same-process A/B: bare, bare span, tokenmeter and the official OpenTelemetry OpenAI
 * instrumentation (otel-openai) in ONE process, on one `openai` client, alternating in small
 * blocks in a rotating order, so machine load and JIT state hit all four alike. Both
 * instrumentations are installed (stacked) and switched per block by their own run-time
 * switches: tokenmeter's `setInstrumentationEnabled`, and otel-openai's `isEnabled()`, which its
 * wrapper checks on every call (overridden on the instance: a bench-only switch). A switched-off
 * wrapper passes straight through (measured in the `bare` block, which pays both pass-throughs).
 * Per block: CPU µs per call (process.cpuUsage). Added µs are taken per round against that round's bare block
 * (the same seconds of the same process), then the median over rounds; ratios are of those medians.
 *
 *   node bench/instrumentation-overhead/inproc.cjs <plain|stream|stream-usage> [rounds] [calls]
 *
 * Prints one JSON line. The other peers (traceloop, openinference, openlit) have no run-time
 * switch, so they are measured in their own processes by run.mjs.
 */
const mode = process.argv[2] ?? 'plain';
const ROUNDS = Number(process.argv[3] ?? 40);
const CALLS = Number(process.argv[4] ?? 200);
const streaming = mode !== 'plain';
const root = require('node:path').resolve(__dirname, '../..');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const exporter = { export: (_s, cb) => cb({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
const tp = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65536 })] });
tp.register();

const tm = require(`${root}/instrumentation/dist/instrumentations/openai.js`);
const { setInstrumentationEnabled } = require(`${root}/instrumentation/dist/core/enabled.js`);
const tmInst = new tm.OpenAIInstrumentation();
tmInst.setTracerProvider(tp);
tmInst.enable();
const { OpenAIInstrumentation: OtelOpenAI } = require('@opentelemetry/instrumentation-openai');
const otel = new OtelOpenAI({ enabled: false });
otel.setTracerProvider(tp);
otel.setMeterProvider(new (require('@opentelemetry/sdk-metrics').MeterProvider)());
let otelOn = false;
otel.isEnabled = () => otelOn;

const OpenAI = require('openai');
// otel-openai's wrapper put on top of tokenmeter's by hand: its own patch() unwraps whatever
// wrapped the method before it (and tokenmeter leaves a method another instrumentation wrapped
// alone), so the two cannot be stacked through their install paths.
const proto = OpenAI.OpenAI.Chat.Completions.prototype;
if (!String(proto.create).includes('runCall')) throw new Error('tokenmeter did not patch openai');
proto.create = otel._getPatchedChatCompletionsCreate()(proto.create);
const { fakeFetch } = require('./fake-api.cjs');
const client = new OpenAI({ apiKey: 'k', baseURL: 'https://api.openai.com/v1', fetch: fakeFetch, maxRetries: 0 });
const messages = [{ role: 'user', content: 'What is the capital of France?' }];
const streamOnce = (withUsage) => async () => {
  const s = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    stream: true,
    ...(withUsage ? { stream_options: { include_usage: true } } : {}),
  });
  for await (const _ of s) {
  }
};
const once = streaming
  ? streamOnce(mode === 'stream-usage')
  : () => client.chat.completions.create({ model: 'gpt-4o-mini', messages });

const tracer = tp.getTracer('bench');
// The physical floor: one span with as many attributes as tokenmeter writes (bare-span.cjs).
const withBareSpan = require('./bare-span.cjs').bareSpanCall(tracer, streaming);
const bareSpan = () => withBareSpan(once);

const VARIANTS = {
  bare: { tm: false, otel: false, call: once },
  'bare-span': { tm: false, otel: false, call: bareSpan },
  tokenmeter: { tm: true, otel: false, call: once },
  'otel-openai': { tm: false, otel: true, call: once },
};
// stream: the bare SDK reading the usage chunk too (the app asks for it, no instrumentation), so
// `bare+usage` is what the SDK itself spends on the chunk exact usage needs.
// `tokenmeter+usage`: the same with tokenmeter on, which then injects and hides nothing.
if (mode === 'stream') {
  VARIANTS['bare+usage'] = { tm: false, otel: false, call: streamOnce(true) };
  VARIANTS['tokenmeter+usage'] = { tm: true, otel: false, call: streamOnce(true) };
}
const NAMES = Object.keys(VARIANTS);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

(async () => {
  const loadBefore = require('node:os').loadavg();
  const cpu = Object.fromEntries(NAMES.map((n) => [n, []]));
  for (let r = -3; r < ROUNDS; r++) {
    for (let i = 0; i < NAMES.length; i++) {
      const name = NAMES[(i + Math.max(r, 0)) % NAMES.length];
      const v = VARIANTS[name];
      setInstrumentationEnabled(v.tm);
      otelOn = v.otel;
      const c = process.cpuUsage();
      for (let k = 0; k < CALLS; k++) await v.call();
      const u = process.cpuUsage(c);
      if (r >= 0) cpu[name].push((u.user + u.system) / CALLS);
    }
  }
  // Per round: added over that round's bare block, and the ratios; then medians over rounds.
  const added = (name) => cpu[name].map((x, r) => x - cpu.bare[r]);
  const addedUs = Object.fromEntries(NAMES.slice(1).map((n) => [n, median(added(n))]));
  const ratio = (a, b) => addedUs[a] / addedUs[b];
  console.log(
    JSON.stringify({
      mode,
      node: process.versions.node,
      load: {
        before: loadBefore.map((x) => +x.toFixed(2)),
        after: require('node:os')
          .loadavg()
          .map((x) => +x.toFixed(2)),
      },
      rounds: ROUNDS,
      calls: CALLS,
      bareUs: median(cpu.bare),
      addedUs,
      tokenmeterVsOtelOpenai: ratio('tokenmeter', 'otel-openai'),
      tokenmeterVsBareSpan: ratio('tokenmeter', 'bare-span'),
      bareSpanVsOtelOpenai: ratio('bare-span', 'otel-openai'),
    }),
  );
  process.exit(0);
})();
