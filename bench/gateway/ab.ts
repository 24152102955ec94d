/**
 * bench/gateway/ab.ts: CPU per call of two builds of the gateway side by side (A/B), and of the
 * bare proxy, in one run: the same upstream and ClickHouse, blocks of calls sent to each in turn
 * (interleaved, so that the machine's load falls on all alike). Closed loop at CONCURRENCY, plain
 * calls and streams; CPU of each process from /proc (utime + stime) per call.
 *
 *   npx tsx bench/gateway/ab.ts A_CLI B_CLI       # e.g. /tmp/base/ingest/dist/cli.js ingest/dist/cli.js
 *   env: BLOCKS (6) CALLS (1000 a block) CONCURRENCY (8) STREAMS (100 a block) CHUNKS (10) GAP (20)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { ADMIN, cpuMicros, forked, freePort, load, startGateway } from './processes.ts';

const [A, B] = process.argv.slice(2).map((p) => resolve(p));
const BLOCKS = Number(process.env.BLOCKS ?? 6);
const CALLS = Number(process.env.CALLS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const STREAMS = Number(process.env.STREAMS ?? 100);
const CHUNKS = Number(process.env.CHUNKS ?? 10);
const GAP = Number(process.env.GAP ?? 20);
const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];

async function block(baseURL: string, headers: Record<string, string>): Promise<void> {
  const c = new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0, defaultHeaders: headers });
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await c.chat.completions.create({ model: 'gpt-4o-mini', messages });
    }),
  );
  await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      const s = await c.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
      for await (const _ of s);
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'tm-bench-gateway-ab-'));
const upPort = await freePort();
const proxyPort = await freePort();
const { child: upstream } = await forked('upstream.mjs', [String(upPort), String(CHUNKS), String(GAP)]);
const { child: proxy } = await forked('proxy.mjs', [String(proxyPort), String(upPort)]);
const store = await forked('clickhouse.ts', [join(dir, 'clickhouse')], ['--import', 'tsx']);
const ch = `http://127.0.0.1:${store.message as number}`;
// Two databases in one ClickHouse: each build its own tables.
const gateway = (cli: string, name: string) =>
  startGateway({
    cli,
    upstreamPort: upPort,
    dir: join(dir, name),
    clickhouseUrl: ch,
    env: { CLICKHOUSE_DATABASE: `ab_${name}` },
  });
const ga = await gateway(A!, 'a');
const gb = await gateway(B!, 'b');
const targets = [
  { name: 'proxy', pid: proxy.pid!, url: `http://127.0.0.1:${proxyPort}/openai/v1`, h: {} as Record<string, string> },
  { name: 'A', pid: ga.child.pid!, url: `http://127.0.0.1:${ga.port}/openai/v1`, h: { 'x-tokenmeter-key': ADMIN } },
  { name: 'B', pid: gb.child.pid!, url: `http://127.0.0.1:${gb.port}/openai/v1`, h: { 'x-tokenmeter-key': ADMIN } },
];
const per = new Map(targets.map((t) => [t.name, [] as number[]]));
try {
  for (const t of targets) await block(t.url, t.h); // warm-up
  for (let b = 0; b < BLOCKS; b++) {
    const order = b % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const c0 = cpuMicros(t.pid);
      await block(t.url, t.h);
      // The gateway's recording and insert finish after the answers: let them land in this block.
      await new Promise((r) => setTimeout(r, 400));
      per.get(t.name)!.push((cpuMicros(t.pid) - c0) / (CALLS + STREAMS));
    }
    process.stderr.write(
      `block ${b + 1}: ${targets.map((t) => `${t.name} ${per.get(t.name)!.at(-1)!.toFixed(0)}`).join(', ')} µs/call, load ${load()}\n`,
    );
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const m = Object.fromEntries(targets.map((t) => [t.name, med(per.get(t.name)!)]));
  console.log(
    `CPU µs per call (median of ${BLOCKS} blocks of ${CALLS} plain + ${STREAMS} streams): proxy ${m.proxy!.toFixed(0)}, A ${m.A!.toFixed(0)} (${(m.A! / m.proxy!).toFixed(2)}× proxy), B ${m.B!.toFixed(0)} (${(m.B! / m.proxy!).toFixed(2)}× proxy); B/A ${(m.B! / m.A!).toFixed(3)}; load ${load()}`,
  );
} finally {
  upstream.kill();
  proxy.kill();
  for (const g of [ga, gb]) g.child.kill('SIGTERM');
  await Promise.all([ga, gb].map((g) => new Promise((r) => g.child.once('exit', r))));
  store.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
