/**
 * bench/gateway: the real `openai` SDK against a local upstream that streams like the API
 * (upstream.mjs), through (a) nothing, (b) a bare Node.js pass-through proxy (proxy.mjs, the
 * physical floor) and (c) tokenmeter's gateway (`tokenmeter serve` with TOKENMETER_GATEWAY_PORT,
 * embedded ClickHouse, every call recorded), in one run, rounds in rotated order.
 *
 * Per target: plain requests paced at RATE/s for SECONDS (latency p50/p99), and STREAMS
 * concurrent streams of CHUNKS chunks GAP ms apart (time to first chunk, and each chunk's delay:
 * arrival − the upstream's write time, stamped in the chunk). Added = gateway − bare proxy.
 * Peak RSS and CPU per call of the proxy and gateway processes from /proc.
 *
 *   npm run build && nice -n 10 npx tsx bench/gateway/run.ts [ROUNDS]
 *   env: RATE (2000) SECONDS (5) STREAMS (500) CHUNKS (10) GAP (100)
 *        STORE: http (default: ClickHouse in a process of its own, as deployed) or embedded (chdb in the service)
 *        TARGETS: which of direct,proxy,gateway to run (all three by default)
 *        GATEWAY_CLI: another build's ingest/dist/cli.js as the gateway (an A/B of two commits)
 *        GATEWAY_ENV: more variables for the service, NAME=value,NAME=value
 *        PAUSE_STORE=1: ClickHouse stopped while the gateway is measured (its own cost, without the inserts')
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ADMIN, cpuMicros, forked, freePort, here, load, peakRss, startGateway } from './processes.ts';

const ROUNDS = Number(process.argv[2] ?? 2);
const RATE = Number(process.env.RATE ?? 2000);
const SECONDS = Number(process.env.SECONDS ?? 5);
const STREAMS = Number(process.env.STREAMS ?? 500);
const CHUNKS = Number(process.env.CHUNKS ?? 10);
const GAP = Number(process.env.GAP ?? 100);
const STORE = process.env.STORE ?? 'http';
const TARGETS = (process.env.TARGETS ?? 'direct,proxy,gateway').split(',');
const PAUSE_STORE = process.env.PAUSE_STORE === '1';
const now = () => performance.timeOrigin + performance.now();

async function startServiceGateway(
  upstreamPort: number,
  dir: string,
  clickhouseUrl: string | undefined,
  loopDelayFile: string,
): Promise<{ child: ChildProcess; port: number }> {
  // GATEWAY_NODE_ARGS: e.g. --cpu-prof --cpu-prof-dir=/tmp/prof to profile the service.
  const nodeArgs = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startGateway({
    cli: process.env.GATEWAY_CLI ?? here('../../ingest/dist/cli.js'),
    upstreamPort,
    dir,
    clickhouseUrl,
    nodeArgs: [...nodeArgs, ...LOOP_DELAY_ARGS],
    env: {
      LOOP_DELAY_FILE: loopDelayFile,
      // GATEWAY_ENV: more of the service's variables, e.g. TOKENMETER_BATCH_MAX_DELAY_MS=1000.
      ...Object.fromEntries(
        (process.env.GATEWAY_ENV ?? '')
          .split(',')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    },
  });
}

const LOOP_DELAY_ARGS = ['--import', here('loop-delay.mjs')];

/** The event-loop delay (ms) of a process since the last call (loop-delay.mjs, preloaded into it). */
interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  /** Garbage-collection pauses: the longest and their sum. */
  gcMax: number;
  gcTotal: number;
}

async function loopDelay(pid: number, file: string): Promise<LoopDelay> {
  const asked = Date.now();
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    try {
      const d = JSON.parse(readFileSync(file, 'utf8')) as LoopDelay & { at: number };
      if (d.at >= asked) return d;
    } catch {}
  }
  return { p50: NaN, p99: NaN, max: NaN, gcMax: NaN, gcTotal: NaN };
}

interface Target {
  name: 'direct' | 'proxy' | 'gateway';
  baseURL: string;
  pid: number | undefined;
  /** Where its event-loop delay is written (loop-delay.mjs). */
  loop: string | undefined;
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

function client(t: Target): OpenAI {
  return new OpenAI({
    apiKey: 'sk-bench',
    baseURL: t.baseURL,
    maxRetries: 0,
    defaultHeaders: t.name === 'gateway' ? { 'x-tokenmeter-key': ADMIN, 'x-tokenmeter-user': 'bench' } : {},
  });
}

const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];

async function plain(t: Target): Promise<{ latency: number[]; errors: number; rate: number }> {
  const c = client(t);
  const latency: number[] = [];
  let errors = 0;
  const total = RATE * SECONDS;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  // Open loop: each request starts at its scheduled time, whatever the earlier ones do.
  for (let i = 0; i < total; i++) {
    const at = started + (i * 1000) / RATE;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(
      c.chat.completions.create({ model: 'gpt-4o-mini', messages }).then(
        () => void latency.push(performance.now() - t0),
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  // What the client managed: a client short of CPU sends late, and every target's latency grows alike.
  return { latency, errors, rate: latency.length / ((performance.now() - started) / 1000) };
}

async function streams(t: Target): Promise<{ ttfb: number[]; delay: number[]; errors: number }> {
  const c = client(t);
  const ttfb: number[] = [];
  const delay: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      try {
        const t0 = performance.now();
        const stream = await c.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
        let first = true;
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta?.content;
          if (!content?.startsWith('@')) continue;
          if (first) {
            ttfb.push(performance.now() - t0);
            first = false;
          }
          delay.push(now() - Number(content.slice(1)));
        }
      } catch {
        errors++;
      }
    }),
  );
  return { ttfb, delay, errors };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Sample {
  rates: number[];
  plain: number[];
  ttfb: number[];
  delay: number[];
  errors: number;
  cpuPerCallUs: number[];
  cpuPlainUs: number[];
  cpuStreamUs: number[];
  /** Event-loop delay of the target's process per phase (ms): p99s and maxima. */
  loopP99: number[];
  loopMax: number[];
  gcMax: number[];
  /** CPU µs of the ClickHouse process per call while this target ran (its inserts: the gateway's rows). */
  storeUs: number[];
  /** CPU µs per plain call of the client (this process: the openai SDK) and of the upstream. */
  clientUs: number[];
  upstreamUs: number[];
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-gateway-'));
  const upPort = await freePort();
  const proxyPort = await freePort();
  const { child: upstream } = await forked('upstream.mjs', [String(upPort), String(CHUNKS), String(GAP)]);
  const proxyLoop = join(dir, 'proxy-loop.json');
  const gatewayLoop = join(dir, 'gateway-loop.json');
  const { child: proxy } = await forked('proxy.mjs', [String(proxyPort), String(upPort)], LOOP_DELAY_ARGS, {
    ...process.env,
    LOOP_DELAY_FILE: proxyLoop,
  });
  const store =
    STORE === 'http' ? await forked('clickhouse.ts', [join(dir, 'clickhouse')], ['--import', 'tsx']) : undefined;
  const clickhouseUrl = store ? `http://127.0.0.1:${store.message as number}` : undefined;
  const gateway = await startServiceGateway(upPort, join(dir, 'data'), clickhouseUrl, gatewayLoop);
  const targets: Target[] = (
    [
      { name: 'direct', baseURL: `http://127.0.0.1:${upPort}/v1`, pid: undefined, loop: undefined },
      { name: 'proxy', baseURL: `http://127.0.0.1:${proxyPort}/openai/v1`, pid: proxy.pid, loop: proxyLoop },
      {
        name: 'gateway',
        baseURL: `http://127.0.0.1:${gateway.port}/openai/v1`,
        pid: gateway.child.pid,
        loop: gatewayLoop,
      },
    ] as Target[]
  ).filter((t) => TARGETS.includes(t.name));
  const samples = new Map(
    targets.map((t) => [
      t.name,
      {
        rates: [],
        plain: [],
        ttfb: [],
        delay: [],
        errors: 0,
        cpuPerCallUs: [],
        cpuPlainUs: [],
        cpuStreamUs: [],
        loopP99: [],
        loopMax: [],
        gcMax: [],
        storeUs: [],
        clientUs: [],
        upstreamUs: [],
      } as Sample,
    ]),
  );
  try {
    // Warm-up: connections, JIT, the gateway's key and budget caches.
    for (const t of targets) await client(t).chat.completions.create({ model: 'gpt-4o-mini', messages });
    for (let round = 0; round < ROUNDS; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const t of order) {
        const s = samples.get(t.name)!;
        if (t.pid) await loopDelay(t.pid, t.loop!); // reset
        const cpu0 = t.pid ? cpuMicros(t.pid) : 0;
        const storeCpu0 = store?.child.pid ? cpuMicros(store.child.pid) : NaN;
        const client0 = process.cpuUsage();
        const upstream0 = cpuMicros(upstream.pid!);
        // PAUSE_STORE=1: ClickHouse stopped (SIGSTOP) while the gateway is measured: its rows wait in the
        // spool, and what is left is the gateway's own cost, without the inserts' CPU on the same cores.
        const pause = PAUSE_STORE && t.name === 'gateway' && store?.child.pid !== undefined;
        if (pause) process.kill(store!.child.pid!, 'SIGSTOP');
        const p = await plain(t);
        const client1 = process.cpuUsage(client0);
        const plainCalls = Math.max(1, p.latency.length + p.errors);
        s.clientUs.push((client1.user + client1.system) / plainCalls);
        s.upstreamUs.push((cpuMicros(upstream.pid!) - upstream0) / plainCalls);
        const cpu1 = t.pid ? cpuMicros(t.pid) : 0;
        const st = await streams(t).finally(() => {
          if (pause) process.kill(store!.child.pid!, 'SIGCONT');
        });
        const calls = p.latency.length + p.errors + STREAMS;
        if (t.pid) {
          const cpu2 = cpuMicros(t.pid);
          s.cpuPerCallUs.push((cpu2 - cpu0) / calls);
          s.cpuPlainUs.push((cpu1 - cpu0) / Math.max(1, p.latency.length + p.errors));
          if (STREAMS > 0) s.cpuStreamUs.push((cpu2 - cpu1) / STREAMS);
          const d = await loopDelay(t.pid, t.loop!);
          s.loopP99.push(d.p99);
          s.loopMax.push(d.max);
          s.gcMax.push(d.gcMax);
          if (store?.child.pid) s.storeUs.push((cpuMicros(store.child.pid) - storeCpu0) / calls);
        }
        s.plain.push(...p.latency);
        s.rates.push(p.rate);
        s.ttfb.push(...st.ttfb);
        s.delay.push(...st.delay);
        s.errors += p.errors + st.errors;
        process.stderr.write(
          `round ${round + 1} ${t.name}: ${p.rate.toFixed(0)} req/s done, plain p50 ${pct(p.latency, 50).toFixed(2)} ms p99 ${pct(p.latency, 99).toFixed(2)} ms, ttfb p50 ${pct(st.ttfb, 50).toFixed(2)} ms, errors ${p.errors + st.errors}, CPU µs/call plain ${f(s.cpuPlainUs.at(-1) ?? NaN)} stream ${f(s.cpuStreamUs.at(-1) ?? NaN)}, loop delay p99 ${f(s.loopP99.at(-1) ?? NaN)} max ${f(s.loopMax.at(-1) ?? NaN)} ms, GC pause max ${f(s.gcMax.at(-1) ?? NaN)} ms, ClickHouse µs/call ${f(s.storeUs.at(-1) ?? NaN)}, client µs/plain call ${f(s.clientUs.at(-1) ?? NaN)}, upstream ${f(s.upstreamUs.at(-1) ?? NaN)}, load ${load()}\n`,
        );
      }
    }
    const rows = targets.map((t) => {
      const s = samples.get(t.name)!;
      return {
        target: t.name,
        rate: Math.min(...s.rates),
        plainP50: pct(s.plain, 50),
        plainP99: pct(s.plain, 99),
        ttfbP50: pct(s.ttfb, 50),
        ttfbP99: pct(s.ttfb, 99),
        delayP50: pct(s.delay, 50),
        delayP99: pct(s.delay, 99),
        delayMax: pct(s.delay, 100),
        errors: s.errors,
        peakRssMiB: t.pid ? peakRss(t.pid) / 1024 / 1024 : NaN,
        cpuPerCallUs: mean(s.cpuPerCallUs),
        cpuPlainUs: mean(s.cpuPlainUs),
        cpuStreamUs: mean(s.cpuStreamUs),
        loopP99: s.loopP99.length ? Math.max(...s.loopP99) : NaN,
        loopMax: s.loopMax.length ? Math.max(...s.loopMax) : NaN,
        gcMax: s.gcMax.length ? Math.max(...s.gcMax) : NaN,
        storeUs: mean(s.storeUs),
        clientUs: mean(s.clientUs),
        upstreamUs: mean(s.upstreamUs),
      };
    });
    const nan = { plainP50: NaN, plainP99: NaN, ttfbP50: NaN, ttfbP99: NaN, delayP99: NaN, delayMax: NaN };
    const proxyRow = rows.find((r) => r.target === 'proxy') ?? nan;
    const gwRow = rows.find((r) => r.target === 'gateway') ?? nan;
    const added = {
      plainP50: gwRow.plainP50 - proxyRow.plainP50,
      plainP99: gwRow.plainP99 - proxyRow.plainP99,
      ttfbP50: gwRow.ttfbP50 - proxyRow.ttfbP50,
      ttfbP99: gwRow.ttfbP99 - proxyRow.ttfbP99,
      chunkDelayP99: gwRow.delayP99 - proxyRow.delayP99,
      chunkDelayMax: gwRow.delayMax - proxyRow.delayMax,
    };
    const md = [
      `# bench/gateway (${new Date().toISOString()}, load ${load()})`,
      '',
      `${ROUNDS} rounds; plain ${RATE}/s for ${SECONDS} s; ${STREAMS} concurrent streams × ${CHUNKS} chunks ${GAP} ms apart; store ${STORE === 'http' ? 'ClickHouse over HTTP in its own process' : 'embedded in the service (chdb)'}. Times in ms.`,
      '',
      '| target | plain req/s done | plain p50 | plain p99 | ttfb p50 | ttfb p99 | chunk delay p50 | p99 | max | errors | peak RSS MiB | CPU µs/call | plain | stream | loop delay p99 | max | GC pause max | ClickHouse µs/call | client µs/plain call | upstream µs/plain call |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${r.target} | ${r.rate.toFixed(0)} | ${f(r.plainP50)} | ${f(r.plainP99)} | ${f(r.ttfbP50)} | ${f(r.ttfbP99)} | ${f(r.delayP50)} | ${f(r.delayP99)} | ${f(r.delayMax)} | ${r.errors} | ${f(r.peakRssMiB)} | ${f(r.cpuPerCallUs)} | ${f(r.cpuPlainUs)} | ${f(r.cpuStreamUs)} | ${f(r.loopP99)} | ${f(r.loopMax)} | ${f(r.gcMax)} | ${f(r.storeUs)} | ${f(r.clientUs)} | ${f(r.upstreamUs)} |`,
      ),
      '',
      `Added by the gateway over the bare proxy: plain p50 ${f(added.plainP50)}, p99 ${f(added.plainP99)}; time to first chunk p50 ${f(added.ttfbP50)}, p99 ${f(added.ttfbP99)}; chunk delay p99 ${f(added.chunkDelayP99)}, max ${f(added.chunkDelayMax)}.`,
      '',
    ].join('\n');
    process.stdout.write(md);
    mkdirSync(here('../results'), { recursive: true });
    writeFileSync(here('../results/gateway.md'), md);
    writeFileSync(here('../results/gateway.json'), JSON.stringify({ rows, added }, null, 2));
  } finally {
    upstream.kill();
    proxy.kill();
    gateway.child.kill('SIGTERM');
    await new Promise((r) => gateway.child.once('exit', r));
    store?.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
