/**
 * The event loop's per-span work on one side of the service, in-process, for A/B of a change:
 * decode, build (normalise, price, rows) and the spool record's RowBinary encode of the same
 * requests, CPU µs a span (min of rounds), against one or more built copies of ingest/dist.
 *
 *   npx tsx bench/ingest/micro.ts [--dist ingest/dist,/tmp/other/ingest/dist] [--spans 20000] [--rounds 7]
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { makeTemplates, requestBody } from './spans.ts';

const { values: args } = parseArgs({
  options: {
    dist: { type: 'string', default: 'ingest/dist' },
    spans: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '7' },
  },
});
const PER_REQUEST = 500;
const requests = Math.ceil(Number(args.spans) / PER_REQUEST);
const templates = makeTemplates(Math.min(requests, 40), PER_REQUEST);
const bodies = Array.from({ length: requests }, (_, k) => requestBody(templates, k));

type Mod = Record<string, any>;
async function load(dist: string): Promise<Mod> {
  const at = (p: string) => import(pathToFileURL(resolve(dist, p)).href) as Promise<Mod>;
  const [decode, build, pricing, record] = await Promise.all([
    at('otlp/decode.js'),
    at('pipeline/build.js'),
    at('pipeline/pricing.js'),
    at('pipeline/spool-record.js'),
  ]);
  return { ...decode, ...build, ...pricing, ...record };
}

function cpuUs(f: () => void): number {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

const dists = args.dist.split(',');
const mods = await Promise.all(dists.map(load));
const best = dists.map(() => ({ decode: Infinity, build: Infinity, encode: Infinity }));
for (let round = 0; round < Number(args.rounds); round++) {
  for (const [i, m] of mods.entries()) {
    const pricer = new m.IngestPricer();
    let spans: unknown[][] = [];
    const decode = cpuUs(() => {
      spans = bodies.map((b) => m.decodeTraces(b, 'protobuf').spans);
    });
    let built: { traces: unknown[]; calls: unknown[] }[] = [];
    const now = Date.now();
    const build = cpuUs(() => {
      built = spans.map((s) => m.buildRows(s, () => 'bench', pricer, now));
    });
    const encode = cpuUs(() => {
      for (let k = 0; k < built.length; k += 10) {
        const part = built.slice(k, k + 10);
        m.encodeRecord({ traces: part.flatMap((b) => b.traces), calls: part.flatMap((b) => b.calls) });
      }
    });
    const n = requests * PER_REQUEST;
    const b = best[i]!;
    b.decode = Math.min(b.decode, decode / n);
    b.build = Math.min(b.build, build / n);
    b.encode = Math.min(b.encode, encode / n);
  }
}
for (const [i, d] of dists.entries()) {
  const b = best[i]!;
  console.log(
    `${d}: decode ${b.decode.toFixed(1)}, build ${b.build.toFixed(1)}, record encode (incl. deflate) ${b.encode.toFixed(1)} µs a span (min of ${args.rounds})`,
  );
}
