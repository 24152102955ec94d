/**
 * Diagnostic, not the official table: bare, bare span and tokenmeter in ONE process,
 * alternating in small blocks (tokenmeter's instrumentation enabled and disabled between
 * blocks), so machine load hits all three alike. `node ab.cjs <plain|stream> [blocks] [calls]`.
 */
const mode = process.argv[2] ?? 'plain';
const BLOCKS = Number(process.argv[3] ?? 30);
const CALLS = Number(process.argv[4] ?? 300);
process.argv = [process.argv[0], __filename, 'tokenmeter', mode, '0', '0'];
const root = require('node:path').resolve(__dirname, '../..');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const exporter = { export: (_s, cb) => cb({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
const tp = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65536 })] });
tp.register();
const { OpenAIInstrumentation } = require(`${root}/instrumentation/dist/instrumentations/openai.js`);
const inst = new OpenAIInstrumentation();
inst.setTracerProvider(tp);
inst.enable();
const OpenAI = require('openai');
const { fakeFetch } = require('./fake-api.cjs');
const client = new OpenAI({ apiKey: 'k', baseURL: 'https://api.openai.com/v1', fetch: fakeFetch, maxRetries: 0 });
const messages = [{ role: 'user', content: 'What is the capital of France?' }];
const once =
  mode === 'stream'
    ? async () => {
        const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
        for await (const _ of s) {
        }
      }
    : () => client.chat.completions.create({ model: 'gpt-4o-mini', messages });
const tracer = tp.getTracer('bench');
const withBareSpan = require('./bare-span.cjs').bareSpanCall(tracer, mode === 'stream');
const bareSpan = () => withBareSpan(once);
const variants = {
  bare: { on: false, call: once },
  'bare-span': { on: false, call: bareSpan },
  tokenmeter: { on: true, call: once },
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
(async () => {
  const cpu = { bare: [], 'bare-span': [], tokenmeter: [] };
  for (let b = -3; b < BLOCKS; b++) {
    for (const name of Object.keys(variants)) {
      const v = variants[name];
      if (v.on) inst.enable();
      else inst.disable();
      const c = process.cpuUsage();
      for (let i = 0; i < CALLS; i++) await v.call();
      const u = process.cpuUsage(c);
      if (b >= 0) cpu[name].push((u.user + u.system) / CALLS);
    }
  }
  const base = median(cpu.bare);
  const span = median(cpu['bare-span']) - base;
  const ours = median(cpu.tokenmeter) - base;
  console.log(
    JSON.stringify({
      mode,
      bareUs: base,
      bareSpanAddedUs: span,
      tokenmeterAddedUs: ours,
      ratioToBareSpan: ours / span,
    }),
  );
  process.exit(0);
})();
