/**
 * Same-process comparison: bare, bare span, tokenmeter and every peer in ONE process, alternating
 * small blocks of calls in a rotating order, so machine load and JIT state hit all alike. Each
 * instrumented variant has its own copy of the `openai` module (loaded afresh before any
 * instrumentation of it) and patches only that copy, the way each documents patching a module
 * object by hand: tokenmeter `apply()`, otel-openai its module definition's `patch()`, OpenLLMetry
 * and OpenInference `manuallyInstrument()`, OpenLIT `init({ instrumentations })`. A start-up check
 * makes one call per variant and fails unless exactly the instrumented ones made a span.
 * Per block: CPU µs per call (process.cpuUsage), minus the same round's bare block; medians over
 * rounds; ratios of those medians.
 *
 *   node bench/instrumentation-overhead/inproc.cjs <plain|stream|stream-usage> [rounds] [calls]
 *
 * Prints one JSON line. Load moves every variant alike here, but the figures are not those of
 * run.mjs: the bare block already pays the OTel context's promise hooks (enabled once in the
 * process), and garbage from one block is collected in the next, so the added µs are smaller.
 */
const mode = process.argv[2] ?? 'plain';
const ROUNDS = Number(process.argv[3] ?? 40);
const CALLS = Number(process.argv[4] ?? 200);
const streaming = mode !== 'plain';
const root = require('node:path').resolve(__dirname, '../..');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const exporter = { export: (_s, cb) => cb({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
let spansEnded = 0;
const counter = {
  onStart() {},
  onEnd() {
    spansEnded++;
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};
const tp = new NodeTracerProvider({
  spanProcessors: [counter, new BatchSpanProcessor(exporter, { maxQueueSize: 65536 })],
});
tp.register();

/** A fresh copy of the openai module: its own classes, so that only one instrumentation patches it. */
function freshOpenAI() {
  for (const k of Object.keys(require.cache)) if (k.includes('/node_modules/openai/')) delete require.cache[k];
  return require('openai');
}
// openlit's stream wrapper never finishes with openai 6 (see README): left out of `stream`.
const PEERS = ['otel-openai', 'traceloop', 'openinference', ...(mode === 'stream' ? [] : ['openlit'])];
const copies = { bare: freshOpenAI(), tokenmeter: freshOpenAI() };

const tm = require(`${root}/instrumentation/dist/instrumentations/openai.js`);
const tmInst = new tm.OpenAIInstrumentation({ enabled: false });
tmInst.setTracerProvider(tp);
tmInst.apply(copies.tokenmeter);

const PATCH = {
  'otel-openai': (copy) => {
    const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
    const i = new OpenAIInstrumentation({ enabled: false });
    i.setTracerProvider(tp);
    // Its stream path records metrics unconditionally: give it a (reader-less) meter provider.
    i.setMeterProvider(new (require('@opentelemetry/sdk-metrics').MeterProvider)());
    // Its wrapper checks isEnabled() per call; enable() would also hook every later require.
    i.isEnabled = () => true;
    for (const d of i.getModuleDefinitions()) if (d.name === 'openai') d.patch(copy);
  },
  traceloop: (copy) => {
    const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai');
    const i = new OpenAIInstrumentation({ enabled: false });
    i.setTracerProvider(tp);
    i.manuallyInstrument(copy.OpenAI ?? copy);
  },
  openinference: (copy) => {
    const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
    const i = new OpenAIInstrumentation({ enabled: false });
    i.setTracerProvider(tp);
    i.manuallyInstrument(copy);
  },
  openlit: (copy) => require('./openlit-setup.cjs')(tp, copy),
};
// Each peer's module is loaded right after its copy (some bind `require('openai')` at load, to
// check what a call returns), and none installs require hooks (`enabled: false`) that would patch
// the copies loaded after it.
for (const p of PEERS) {
  copies[p] = freshOpenAI();
  PATCH[p](copies[p]);
}

const { fakeFetch } = require('./fake-api.cjs');
const messages = [{ role: 'user', content: 'What is the capital of France?' }];
function clientOf(copy) {
  const OpenAI = copy.OpenAI ?? copy;
  return new OpenAI({ apiKey: 'k', baseURL: 'https://api.openai.com/v1', fetch: fakeFetch, maxRetries: 0 });
}
function callOf(client, withUsage) {
  if (!streaming) return () => client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  return async () => {
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      ...(withUsage ? { stream_options: { include_usage: true } } : {}),
    });
    for await (const _ of s) {
    }
  };
}
const usage = mode === 'stream-usage';
const bareCall = callOf(clientOf(copies.bare), usage);
// The physical floor: one span with as many attributes as tokenmeter writes (bare-span.cjs).
const withBareSpan = require('./bare-span.cjs').bareSpanCall(tp.getTracer('bench'), streaming);

const VARIANTS = {
  bare: bareCall,
  'bare-span': () => withBareSpan(bareCall),
  tokenmeter: callOf(clientOf(copies.tokenmeter), usage),
};
for (const p of PEERS) VARIANTS[p] = callOf(clientOf(copies[p]), usage);
// stream: the bare SDK reading the usage chunk too (the app asks for it, no instrumentation), so
// `bare+usage` is what the SDK itself spends on the chunk exact usage needs; `tokenmeter+usage`:
// the same with tokenmeter, which then injects and hides nothing.
if (mode === 'stream') {
  VARIANTS['bare+usage'] = callOf(clientOf(copies.bare), true);
  VARIANTS['tokenmeter+usage'] = callOf(clientOf(copies.tokenmeter), true);
}
const NAMES = Object.keys(VARIANTS);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

(async () => {
  // Exactly the instrumented variants make a span (a patch that did not take would look free).
  for (const name of NAMES) {
    const before = spansEnded;
    await VARIANTS[name]();
    const made = spansEnded - before;
    const expected = name.startsWith('bare') && name !== 'bare-span' ? 0 : 1;
    if (made !== expected) throw new Error(`${name}: ${made} spans for one call, expected ${expected}`);
  }
  // Promises created by one call of each variant: a load-proof count of the async work (each
  // promise also runs the OTel context's hooks), read beside the CPU figures.
  let promises = 0;
  const hook = require('node:async_hooks').createHook({
    init(_id, type) {
      if (type === 'PROMISE') promises++;
    },
  });
  const promisesPerCall = {};
  hook.enable();
  for (const name of NAMES) {
    promises = 0;
    await VARIANTS[name]();
    promisesPerCall[name] = promises;
  }
  hook.disable();
  const loadBefore = require('node:os').loadavg();
  const cpu = Object.fromEntries(NAMES.map((n) => [n, []]));
  for (let r = -3; r < ROUNDS; r++) {
    for (let i = 0; i < NAMES.length; i++) {
      const name = NAMES[(i + Math.max(r, 0)) % NAMES.length];
      const call = VARIANTS[name];
      const c = process.cpuUsage();
      for (let k = 0; k < CALLS; k++) await call();
      const u = process.cpuUsage(c);
      if (r >= 0) cpu[name].push((u.user + u.system) / CALLS);
    }
  }
  // Per round: added over that round's bare block; then medians over rounds.
  const added = (name) => cpu[name].map((x, r) => x - cpu.bare[r]);
  const addedUs = Object.fromEntries(NAMES.slice(1).map((n) => [n, +median(added(n)).toFixed(2)]));
  const best = PEERS.reduce((a, b) => (addedUs[a] <= addedUs[b] ? a : b));
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
      bareUs: +median(cpu.bare).toFixed(2),
      addedUs,
      bestPeer: best,
      tokenmeterVsBestPeer: +(addedUs.tokenmeter / addedUs[best]).toFixed(2),
      tokenmeterVsBareSpan: +(addedUs.tokenmeter / addedUs['bare-span']).toFixed(2),
      promisesPerCall,
      // Per round: tokenmeter's added CPU over the same round's best peer (the one best by median)
      // and bare span, median over rounds (the blocks of one round ran within the same second).
      perRound: {
        vsBestPeer: +median(cpu.tokenmeter.map((x, r) => (x - cpu.bare[r]) / (cpu[best][r] - cpu.bare[r]))).toFixed(2),
        vsBareSpan: +median(
          cpu.tokenmeter.map((x, r) => (x - cpu.bare[r]) / (cpu['bare-span'][r] - cpu.bare[r])),
        ).toFixed(2),
      },
    }),
  );
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
