/**
 * bench/ingest: what one span costs on the way from an OTLP protobuf body to ClickHouse, and
 * how many spans a second the service acknowledges, against two baselines measured in the
 * same run (bench/ingest/README.md).
 *
 *   npm run bench:ingest -- [--spans 1000000] [--per-request 500] [--clients 8] [--batch 5000] [--only service|stages]
 *
 * 1. Service: `tokenmeter serve` as a child process on embedded ClickHouse; concurrent clients
 *    POST OTLP protobuf bodies made by the OTel SDK's own serializer (what the OTLP/proto
 *    exporter sends); a span counts once its request got a 200. Reports spans/s, the service's
 *    CPU µs a span (from /proc) and its peak RSS (VmHWM), and checks every span is stored once.
 * 2. Stages, in this process, with the service's own functions, batch by batch: decode
 *    (decodeTraces), build (limits + buildRows), spool (dedup, record encode, fsynced append,
 *    read back and decode, as the drainer does) and insert (the drainer's insertRows: same
 *    client, format and settings). CPU µs a span for each, from process.cpuUsage() (all
 *    threads, chdb's included). The insert stage alone is baseline (a): the raw insert of the
 *    rows as the service sends them.
 * 3. Baseline (b): the engine's own write of the same rows, INSERT … SELECT from Memory tables
 *    holding them into a fresh copy of the schema (rollup views included).
 *
 * Bodies: a few hundred requests are made with the SDK, then re-sent with fresh trace and span
 * ids and start times shifted to the moment of sending (bytes patched in place), so every span
 * is new and recent, and the bench's own CPU stays small.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeTraces, decodeTracesGenerated } from '../../ingest/src/otlp/decode.ts';
import { makeTemplates, requestBody, type Template } from './spans.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { SpanDedup } from '../../ingest/src/pipeline/dedup.ts';
import { insertBody } from '../../ingest/src/pipeline/insert.ts';
import { checkSpanLimits } from '../../ingest/src/pipeline/limits.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { Spool } from '../../ingest/src/pipeline/spool.ts';
import { CALL_COLUMNS, TRACE_COLUMNS } from '../../ingest/src/pipeline/rows.ts';
import { decodeRecord, encodeRecord, type TableBody } from '../../ingest/src/pipeline/spool-record.ts';
import { openStore, type Store } from '../../ingest/src/store/client.ts';
import { migrate } from '../../ingest/src/store/migrate.ts';
import { readConfig } from '../../ingest/src/config.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '200000' },
    'per-request': { type: 'string', default: '500' },
    clients: { type: 'string', default: '8' },
    batch: { type: 'string', default: '5000' },
    templates: { type: 'string', default: '40' },
    only: { type: 'string' },
    /**
     * The service's bin, or several (comma-separated: e.g. a copy of main's build), run interleaved;
     * each may start with node flags (`--cli='--max-old-space-size=384 ingest/dist/cli.js'`: with '=' when it starts with a dash).
     */
    cli: { type: 'string', default: 'ingest/dist/cli.js' },
    /** Service runs of every cli × batch, this many rounds, alternating. */
    rounds: { type: 'string', default: '1' },
  },
});
const TOTAL = Number(args.spans);
const PER_REQUEST = Number(args['per-request']);
const CLIENTS = Number(args.clients);
/** --batch may list several sizes (service runs); the stages use the first. */
const BATCHES = args.batch.split(',').map(Number);
const BATCH = BATCHES[0]!;
const CLIS = args.cli.split(',');
const REQUESTS = Math.ceil(TOTAL / PER_REQUEST);
/** Every how many batches the stages also insert the rows as JSON text, for the format's comparison. */
const TEXT_EVERY = 4;
const KEY = 'bench-admin-key';
const only = args.only?.split(',');
const runs = (part: string) => !only || only.includes(part);

/** utime + stime of this process's main thread, in µs (/proc, 10 ms ticks: summed over many batches). */
function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** utime + stime of a process, in µs (from /proc; clock ticks of 10 ms). */
function procCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

/**
 * A process's CPU by thread name (utime + stime in µs, from /proc/<pid>/task/*): the main thread
 * (JavaScript), libuv's pool (deflate, fsync, chdb's queries), V8's helpers, ClickHouse's pools
 * (merges, query pipelines). A thread that ended is missing: compare a run's sum with the total.
 */
function procCpuByThread(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main (JS)' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10_000);
    } catch {
      // the thread ended meanwhile
    }
  }
  return byName;
}

function procPeakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface ServiceResult {
  rate: number;
  seconds: number;
  cpuUsPerSpan: number;
  peakRssMb: number;
}

async function service(templates: Template[], cli: string, batch: number): Promise<ServiceResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-svc-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  // `cli` may start with node flags: '--max-semi-space-size=32 ingest/dist/cli.js'.
  const child = spawn(process.execPath, [...cli.split(' ').filter(Boolean), 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TOKENMETER_DATA_DIR: dir,
      TOKENMETER_ADMIN_KEY: KEY,
      TOKENMETER_BATCH_MAX_ROWS: String(batch),
      TOKENMETER_RATE_LIMIT_RPS: '0',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/readyz`)).ok) break;
      } catch {}
      if (i > 600) throw new Error('service did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    let next = 0;
    let acknowledged = 0;
    let refused = 0;
    const cpuBefore = procCpuUs(child.pid!);
    const threadsBefore = procCpuByThread(child.pid!);
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < REQUESTS) {
          const k = next++;
          const body = requestBody(templates, k);
          for (;;) {
            const res = await fetch(`${url}/v1/traces`, {
              method: 'POST',
              headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-protobuf' },
              body,
            });
            await res.arrayBuffer();
            if (res.status === 200) break;
            refused++;
            await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 0.05) * 1000));
          }
          acknowledged += PER_REQUEST;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = procCpuUs(child.pid!) - cpuBefore;
    const threads = [...procCpuByThread(child.pid!)]
      .map(([name, us]) => [name, (us - (threadsBefore.get(name) ?? 0)) / acknowledged] as const)
      .filter(([, us]) => us >= 0.5)
      .sort((a, b) => b[1] - a[1]);
    console.log(
      `  service CPU µs a span by thread: ${threads.map(([name, us]) => `${name} ${us.toFixed(1)}`).join(', ')}`,
    );
    if (refused > 0) console.log(`  (${refused} answers 503, re-sent after Retry-After)`);
    // Every acknowledged span stored once, in the raw tables and in the rollup.
    let check = { calls: 0, traces: 0, rolled: 0 };
    for (let i = 0; i < 600; i++) {
      const res = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          sql: 'SELECT (SELECT count() FROM ai_calls) AS calls, (SELECT count() FROM otel_traces) AS traces, (SELECT sum(requests) FROM ai_rollup_hourly) AS rolled',
        }),
      });
      check = ((await res.json()) as { data: (typeof check)[] }).data[0]!;
      // A 200 may come on the spool's word (ackWaitMs) and the drainer inserts otel_traces before
      // ai_calls (and its rollups): wait for all three, not only the first.
      const want = REQUESTS * PER_REQUEST;
      if (Number(check.traces) >= want && Number(check.calls) >= want && Number(check.rolled) >= want) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const peakRssMb = procPeakRssMb(child.pid!);
    // How many inserts the drainer made (a group of spool records is one insert per table).
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
    const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1]);
    const inserts = metric('tokenmeter_batches_written_total');
    console.log(
      `  ${fmt(inserts)} inserts, ${fmt(metric('tokenmeter_spans_accepted_total') / inserts)} spans an insert, ` +
        `${((metric('tokenmeter_insert_duration_seconds_sum') / inserts) * 1000).toFixed(0)} ms an insert`,
    );
    const expected = REQUESTS * PER_REQUEST;
    if (Number(check.calls) !== expected || Number(check.rolled) !== expected || Number(check.traces) !== expected) {
      throw new Error(
        `service stored ${check.calls} calls, ${check.traces} spans, ${check.rolled} rolled up; expected ${expected}`,
      );
    }
    return { rate: acknowledged / seconds, seconds, cpuUsPerSpan: cpu / acknowledged, peakRssMb };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

interface StageResult {
  cpuUs: Record<'decode' | 'build' | 'spool' | 'insert', number>;
  /** The insert of the same rows as JSONCompactEachRow text (the previous format), every TEXT_EVERY-th batch. */
  textInsertUs: number;
  /** The spool stage's CPU on this thread only: the rest is other threads (chdb's merges) running meanwhile. */
  spoolMainUs: number;
  /** The generated decoder (protobufjs + walk) on the same bodies, for comparison (not in the total). */
  generatedDecodeUs: number;
  insertSeconds: number;
  spans: number;
}

/** The service's stages one after the other, batch by batch, in this process. */
async function stages(templates: Template[], store: Store, textStore: Store, spoolDir: string): Promise<StageResult> {
  const cfg = readConfig({});
  const pricer = new IngestPricer();
  const spool = await Spool.open({ dir: spoolDir, maxBytes: 1024 ** 4 });
  const dedup = new SpanDedup({ store, dir: spoolDir, recentKeys: 1_000_000 });
  const cpu = { decode: 0, build: 0, spool: 0, spoolMain: 0, insert: 0, generated: 0, text: 0 };
  let textSpans = 0;
  let insertMs = 0;
  let spans = 0;
  const perBatch = Math.max(1, Math.floor(BATCH / PER_REQUEST));
  const tenantOf = (s: { resource: Record<string, unknown> }) => String(s.resource['tokenmeter.tenant']);
  for (let k = 0; k < REQUESTS; k += perBatch) {
    const bodies: Buffer[] = [];
    for (let j = k; j < Math.min(REQUESTS, k + perBatch); j++) bodies.push(requestBody(templates, j));
    let t = cpuUs();
    const decoded = bodies.map((b) => decodeTraces(b, 'protobuf'));
    cpu.decode += cpuUs() - t;
    t = cpuUs();
    for (const b of bodies) decodeTracesGenerated(b);
    cpu.generated += cpuUs() - t;
    t = cpuUs();
    const requests = decoded.map((d) => {
      const limited = checkSpanLimits(d.spans, cfg.limits);
      return buildRows(limited.spans, tenantOf, pricer, Date.now(), cfg.limits, cfg.ttlDays);
    });
    cpu.build += cpuUs() - t;
    t = cpuUs();
    const main = mainThreadCpuUs();
    const { record } = await dedup.select(requests);
    const entry = await spool.append(encodeRecord(record));
    dedup.take(record.traces);
    const batch = decodeRecord(await spool.read(entry));
    await spool.ack(entry);
    cpu.spool += cpuUs() - t;
    cpu.spoolMain += mainThreadCpuUs() - main;
    t = cpuUs();
    const started = performance.now();
    await insertBody(store, 'otel_traces', batch.traces);
    await insertBody(store, 'ai_calls', batch.calls);
    insertMs += performance.now() - started;
    cpu.insert += cpuUs() - t;
    spans += batch.traces.keys.length;
    if ((k / perBatch) % TEXT_EVERY === 0) {
      // The same rows as JSONCompactEachRow text, through `exec` as before RowBinary, into another database.
      const asText = (rows: object[], columns: readonly string[], keys: string[]): TableBody => ({
        columns,
        keys,
        format: 'JSONCompactEachRow',
        data: Buffer.from(
          rows.map((r) => JSON.stringify(columns.map((c) => (r as Record<string, unknown>)[c])) + '\n').join(''),
        ),
      });
      const tracesText = asText(record.traces, TRACE_COLUMNS, batch.traces.keys);
      const callsText = asText(record.calls, CALL_COLUMNS, batch.calls.keys);
      t = cpuUs();
      await insertBody(textStore, 'otel_traces', tracesText);
      await insertBody(textStore, 'ai_calls', callsText);
      cpu.text += cpuUs() - t;
      textSpans += batch.traces.keys.length;
    }
  }
  await spool.close();
  const perSpan = (us: number) => us / spans;
  return {
    cpuUs: {
      decode: perSpan(cpu.decode),
      build: perSpan(cpu.build),
      spool: perSpan(cpu.spool),
      insert: perSpan(cpu.insert),
    },
    generatedDecodeUs: perSpan(cpu.generated),
    textInsertUs: cpu.text / textSpans,
    spoolMainUs: perSpan(cpu.spoolMain),
    insertSeconds: insertMs / 1000,
    spans,
  };
}

/** Baseline (b): the same rows (as stored by the stage run) written by the engine itself. */
async function engineWrite(source: Store, target: Store): Promise<{ rate: number; cpuUsPerSpan: number }> {
  const w = source.writer;
  for (const [mem, table] of [
    ['bench_mem_traces', 'otel_traces'],
    ['bench_mem_calls', 'ai_calls'],
  ]) {
    await w.command({ query: `CREATE TABLE ${source.database}.${mem} AS ${source.database}.${table} ENGINE = Memory` });
    await w.command({ query: `INSERT INTO ${source.database}.${mem} SELECT * FROM ${source.database}.${table}` });
  }
  const t = cpuUs();
  const started = performance.now();
  for (const [mem, table] of [
    ['bench_mem_traces', 'otel_traces'],
    ['bench_mem_calls', 'ai_calls'],
  ]) {
    // ingested_at as of now: the rows' own are older than this copy's cutover (migration 021), and the
    // rollup views would skip every one of them (before this, baseline (b) wrote no rollup at all).
    const select = table === 'ai_calls' ? 'SELECT * REPLACE (now64(3) AS ingested_at)' : 'SELECT *';
    await target.writer.command({
      query: `INSERT INTO ${target.database}.${table} ${select} FROM ${source.database}.${mem}`,
      clickhouse_settings: { insert_deduplicate: 0 },
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuUs() - t;
  const rs = await target.writer.query({
    query: `SELECT count() AS n FROM ${target.database}.ai_calls`,
    format: 'JSONEachRow',
  });
  const n = Number((await rs.json<{ n: string }>())[0]!.n);
  const rolled = await target.writer.query({
    query: `SELECT sum(requests) AS n FROM ${target.database}.ai_rollup_hourly`,
    format: 'JSONEachRow',
  });
  const r = Number((await rolled.json<{ n: string }>())[0]!.n);
  if (r !== n) throw new Error(`baseline (b) rolled up ${r} of ${n} calls: its rows must pass the views`);
  return { rate: n / seconds, cpuUsPerSpan: cpu / n };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const templates = makeTemplates(Math.min(Number(args.templates), REQUESTS), PER_REQUEST);
console.log(
  `bench/ingest: ${fmt(REQUESTS * PER_REQUEST)} GenAI spans in ${fmt(REQUESTS)} OTLP protobuf requests of ${PER_REQUEST}, ` +
    `${CLIENTS} concurrent clients, batches of ${BATCH}; load average ${load()}`,
);

let svc: ServiceResult | undefined;
if (runs('service')) {
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const cli of CLIS) {
      for (const batch of BATCHES) {
        const label = CLIS.length > 1 || BATCHES.length > 1 ? ` [${cli}, batch ${batch}]` : '';
        svc = await service(templates, cli, batch);
        console.log(
          `service${label}: ${fmt(svc.rate)} acknowledged spans/s (${svc.seconds.toFixed(1)} s), ` +
            `${svc.cpuUsPerSpan.toFixed(1)} µs CPU a span, peak RSS ${fmt(svc.peakRssMb)} MB; load average ${load()}`,
        );
      }
    }
  }
}

if (runs('stages')) {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-stages-'));
  try {
    const base = { url: undefined, user: 'default', password: '', cluster: undefined, dataDir: join(dir, 'ch') };
    const stageStore = await openStore({ ...base, database: 'bench_stages' });
    await migrate(stageStore, { ttlDays: 90 });
    const textStore = await openStore({ ...base, database: 'bench_text' });
    await migrate(textStore, { ttlDays: 90 });
    const st = await stages(templates, stageStore, textStore, join(dir, 'spool'));
    await textStore.close();
    const total = st.cpuUs.decode + st.cpuUs.build + st.cpuUs.spool + st.cpuUs.insert;
    const rawRate = st.spans / st.insertSeconds;
    console.log(
      `stages, CPU µs a span: decode ${st.cpuUs.decode.toFixed(1)}, build ${st.cpuUs.build.toFixed(1)}, ` +
        `spool ${st.cpuUs.spool.toFixed(1)}, insert ${st.cpuUs.insert.toFixed(1)}; total ${total.toFixed(1)} ` +
        `(one core's ceiling ${fmt(1e6 / total)} spans/s); the generated decoder would take ${st.generatedDecodeUs.toFixed(1)}; ` +
        `of the spool stage, ${st.spoolMainUs.toFixed(1)} on the main thread (the rest: other threads, chdb's merges, meanwhile)`,
    );
    console.log(
      `baseline (a), raw insert of the service's rows (same client, format, settings as the drainer): ${fmt(rawRate)} spans/s`,
    );
    console.log(
      `the same rows inserted as JSONCompactEachRow text (the format before RowBinary; every ${TEXT_EVERY}th batch): ` +
        `${st.textInsertUs.toFixed(1)} µs CPU a span, against ${st.cpuUs.insert.toFixed(1)} as RowBinary`,
    );
    const engineStore = await openStore({ ...base, database: 'bench_engine' });
    await migrate(engineStore, { ttlDays: 90 });
    const eng = await engineWrite(stageStore, engineStore);
    console.log(
      `baseline (b), engine's own write (INSERT … SELECT from Memory): ${fmt(eng.rate)} spans/s, ${eng.cpuUsPerSpan.toFixed(1)} µs CPU a span`,
    );
    if (svc) {
      console.log(
        `ratios: service / raw insert ${(svc.rate / rawRate).toFixed(2)}, service / engine ${(svc.rate / eng.rate).toFixed(3)}; ` +
          `goal 20,000 spans/s: ${svc.rate >= 20_000 ? 'met' : 'not met'}`,
      );
    }
    console.log(`bench process peak RSS ${fmt(process.resourceUsage().maxRSS / 1024)} MB; load average ${load()}`);
    await stageStore.close();
    await engineStore.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
