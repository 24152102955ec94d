/**
 * bench/gateway/ab.ts: CPU per call of two builds of the gateway side by side (A/B), and of the
 * bare proxy, in one run: the same upstream and ClickHouse, blocks of calls sent to each in turn
 * (interleaved, so that the machine's load falls on all alike). Closed loop at CONCURRENCY, plain
 * calls and streams; CPU of each process from /proc (utime + stime) per call.
 *
 *   npx tsx bench/gateway/ab.ts A_CLI B_CLI       # e.g. /tmp/base/ingest/dist/cli.js ingest/dist/cli.js
 *   env: BLOCKS (6) CALLS (1000 a block) CONCURRENCY (8) STREAMS (100 a block) CHUNKS (10) GAP (20)
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const [A, B] = process.argv.slice(2).map((p) => resolve(p));
const BLOCKS = Number(process.env.BLOCKS ?? 6);
const CALLS = Number(process.env.CALLS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const STREAMS = Number(process.env.STREAMS ?? 100);
const CHUNKS = Number(process.env.CHUNKS ?? 10);
const GAP = Number(process.env.GAP ?? 20);
const ADMIN = 'bench-gateway-admin-key-0123456789';
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
function forked(
  file: string,
  args: string[],
  execArgv: string[] = [],
): Promise<{ child: ChildProcess; message: unknown }> {
  const child = fork(here(file), args, { stdio: 'inherit', execArgv });
  return new Promise((res, rej) => {
    child.once('message', (message) => res({ child, message }));
    child.once('exit', (code) => rej(new Error(`${file} exited ${code}`)));
  });
}
async function gateway(
  cli: string,
  upPort: number,
  dir: string,
  ch: string,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const gwPort = await freePort();
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      TOKENMETER_GATEWAY_PORT: String(gwPort),
      TOKENMETER_GATEWAY_ROUTES: `openai=http://127.0.0.1:${upPort}`,
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_DATA_DIR: dir,
      CLICKHOUSE_URL: ch,
      CLICKHOUSE_DATABASE: `ab_${Math.random().toString(36).slice(2, 8)}`,
      TOKENMETER_DEMO: 'false',
      TOKENMETER_RATE_LIMIT_RPS: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return { child, port: gwPort };
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${cli} did not start`);
}
function cpuMicros(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}
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
const ga = await gateway(A!, upPort, join(dir, 'a'), ch);
const gb = await gateway(B!, upPort, join(dir, 'b'), ch);
const targets = [
  { name: 'proxy', pid: proxy.pid!, url: `http://127.0.0.1:${proxyPort}/openai/v1`, h: {} },
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
