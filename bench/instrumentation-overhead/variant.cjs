/**
 * One variant in one process: `node variant.cjs <variant> <plain|stream> <calls> <samples>`.
 * Prints {"variant","mode","cpuUs":[…],"wallUs":[…]} (µs per call, one value per sample) on stdout. The openai SDK talks to an
 * in-process fetch that answers like the API (honouring stream_options.include_usage), so
 * the numbers are the SDK's own cost plus the instrumentation's, without network noise.
 */
const [variant, mode, callsArg, samplesArg] = process.argv.slice(2);
// 'stream-usage': the app itself asks for usage (stream_options.include_usage), so every variant
// reads the same chunks and tokenmeter adds and hides nothing.
const streaming = mode === 'stream' || mode === 'stream-usage';
const CALLS = Number(callsArg ?? 2000);
const SAMPLES = Number(samplesArg ?? 7);
const root = require('node:path').resolve(__dirname, '../..');

const { fakeFetch } = require('./fake-api.cjs');

// ---- tracing: the same provider and a dropping exporter for every traced variant ----
function provider() {
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const exporter = { export: (spans, cb) => cb({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
  const p = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65536 })] });
  p.register();
  return p;
}

let wrapCall = (fn) => fn();
function setup() {
  switch (variant) {
    case 'bare':
      return;
    case 'otel-context': {
      // What any span pays before it is a span: a registered provider, and the call run in an
      // OTel context (AsyncLocalStorage), which turns on Node's promise hooks for every promise
      // the SDK makes. No span is recorded. (The BatchSpanProcessor enables the same hooks at
      // its first export, so no traced variant escapes them.)
      provider();
      const { context, trace } = require('@opentelemetry/api');
      const parent = trace.wrapSpanContext({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
      });
      wrapCall = (fn) => context.with(trace.setSpan(context.active(), parent), fn);
      return;
    }
    case 'bare-span': {
      // The physical floor: one span with as many attributes as tokenmeter writes (bare-span.cjs).
      wrapCall = require('./bare-span.cjs').bareSpanCall(provider().getTracer('bench'), streaming);
      return;
    }
    case 'tokenmeter': {
      const tp = provider();
      const { OpenAIInstrumentation } = require(`${root}/instrumentation/dist/instrumentations/openai.js`);
      const i = new OpenAIInstrumentation();
      i.setTracerProvider(tp);
      i.enable();
      return;
    }
    case 'otel-openai': {
      const tp = provider();
      const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
      const i = new OpenAIInstrumentation();
      i.setTracerProvider(tp);
      // Its stream path records metrics unconditionally: give it a (reader-less) meter provider.
      i.setMeterProvider(new (require('@opentelemetry/sdk-metrics').MeterProvider)());
      i.enable();
      return;
    }
    case 'traceloop': {
      const tp = provider();
      const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai');
      const i = new OpenAIInstrumentation();
      i.setTracerProvider(tp);
      i.enable();
      return;
    }
    case 'openinference': {
      const tp = provider();
      const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
      const i = new OpenAIInstrumentation();
      i.setTracerProvider(tp);
      i.enable();
      return;
    }
    case 'openlit': {
      const tp = provider();
      require('./openlit-setup.cjs')(tp, require('openai'));
      return;
    }
    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

async function main() {
  setup();
  const OpenAI = require('openai');
  const client = new OpenAI({
    apiKey: 'sk-bench',
    baseURL: 'https://api.openai.com/v1',
    fetch: fakeFetch,
    maxRetries: 0,
  });
  const messages = [{ role: 'user', content: 'What is the capital of France?' }];
  const once = streaming
    ? async () => {
        const s = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages,
          stream: true,
          ...(mode === 'stream-usage' ? { stream_options: { include_usage: true } } : {}),
        });
        for await (const _ of s) {
        }
      }
    : () => client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  const call = () => wrapCall(once);
  for (let i = 0; i < Math.max(500, CALLS / 2); i++) await call();
  // CPU time of this process per call (robust to other load on the machine), and wall time.
  const cpuUs = [];
  const wallUs = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) await call();
    const used = process.cpuUsage(c);
    wallUs.push(Number(process.hrtime.bigint() - t) / 1000 / CALLS);
    cpuUs.push((used.user + used.system) / CALLS);
  }
  process.stdout.write(`${JSON.stringify({ variant, mode, cpuUs, wallUs })}\n`);
  process.exit(0);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
