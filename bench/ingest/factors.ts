/**
 * bench/ingest/factors.ts: where the engine's part of a span goes, one factor at a time.
 *
 *   npm run bench:ingest:factors -- [--spans 60000] [--batch 5000] [--per-request 500] [--merges]
 *
 * The same rows (the service's own decode + build, as RowBinary bodies) go into several
 * databases of one embedded ClickHouse, batch by batch, the variants interleaved (each batch
 * through every variant, in a rotating order), so load hits them alike. Each variant changes
 * one thing against "service" (what the drainer does today). CPU µs a span of the whole
 * process (all threads: chdb's insert threads included) around each insert; background merges
 * are stopped unless --merges, so a merge of one variant's parts is not billed to another's
 * insert. Beside it, the engine's own counters (system.events) summed per variant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../../ingest/src/config.ts';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { insertBody } from '../../ingest/src/pipeline/insert.ts';
import { checkSpanLimits } from '../../ingest/src/pipeline/limits.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { CALL_BINARY, namesAndTypesHeader, TRACE_BINARY } from '../../ingest/src/pipeline/rowbinary.ts';
import { spanKey } from '../../ingest/src/pipeline/rows.ts';
import { type TableBody, tableBody } from '../../ingest/src/pipeline/spool-record.ts';
import { insertSettings, openStore, type Store } from '../../ingest/src/store/client.ts';
import { migrate } from '../../ingest/src/store/migrate.ts';
import { makeTemplates, requestBody } from './spans.ts';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '60000' },
    'per-request': { type: 'string', default: '500' },
    batch: { type: 'string', default: '5000' },
    merges: { type: 'boolean', default: false },
    /** Only these variants (comma-separated names; "service" is always run, as the reference). */
    variants: { type: 'string' },
  },
});
const PER_REQUEST = Number(args['per-request']);
const BATCH = Number(args.batch);
const BATCHES = Math.max(1, Math.round(Number(args.spans) / BATCH));
/** The "fewer, larger inserts" variant inserts this many batches at once. */
const GROUP = 4;
const TABLES = ['otel_traces', 'ai_calls'] as const;

interface Batch {
  otel_traces: TableBody;
  ai_calls: TableBody;
}

function makeBatches(): Batch[] {
  const templates = makeTemplates(40, PER_REQUEST);
  const cfg = readConfig({});
  const pricer = new IngestPricer();
  const tenantOf = (s: { resource: Record<string, unknown> }) => String(s.resource['tokenmeter.tenant']);
  const batches: Batch[] = [];
  let k = 0;
  for (let b = 0; b < BATCHES; b++) {
    const traces = [];
    const calls = [];
    for (let n = 0; n < BATCH; n += PER_REQUEST, k++) {
      const spans = checkSpanLimits(decodeTraces(requestBody(templates, k), 'protobuf').spans, cfg.limits).spans;
      const built = buildRows(spans, tenantOf, pricer, Date.now(), cfg.limits, cfg.ttlDays);
      traces.push(...built.traces);
      calls.push(...built.calls);
    }
    batches.push({
      otel_traces: tableBody(traces, TRACE_BINARY, (r) => spanKey(r.TenantId, r.TraceId, r.SpanId)),
      ai_calls: tableBody(calls, CALL_BINARY, (r) => spanKey(r.tenant, r.trace_id, r.span_id)),
    });
  }
  return batches;
}

/** The store's RowBinary insert of `bodies` (concatenated rows under one header) with `settings`. */
async function insertRaw(store: Store, table: string, bodies: TableBody[], settings: Record<string, unknown>) {
  const [first] = bodies;
  const columns = first!.columns.map((c) => `\`${c}\``).join(', ');
  await store.insertRowBinary!(`INSERT INTO ${store.database}.${table} (${columns})`, settings, [
    namesAndTypesHeader(first!.columns, first!.types!),
    ...bodies.map((b) => b.data),
  ]);
}

const token = (table: string, b: number, g = 1) => `${table}:factors:${b}:${g}`;

interface Variant {
  name: string;
  what: string;
  /** Made once, after the schema is migrated. */
  setup?(store: Store): Promise<void>;
  /** Batch b (or, for a grouped variant, batches b-GROUP+1..b on the group's last one). */
  insert(store: Store, table: (typeof TABLES)[number], b: number, batches: Batch[]): Promise<boolean>;
}

async function run(store: Store, query: string): Promise<void> {
  await store.writer.command({ query });
}

async function rows<T>(store: Store, query: string): Promise<T[]> {
  const rs = await store.writer.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** The table as columns only (types and defaults): no skip indexes, projections, views or TTL. */
async function columnsOf(store: Store, table: string): Promise<string> {
  const cols = await rows<{ name: string; type: string; default_kind: string; default_expression: string }>(
    store,
    `SELECT name, type, default_kind, default_expression FROM system.columns WHERE database = '${store.database}' AND table = '${table}' ORDER BY position`,
  );
  return cols
    .map((c) => `\`${c.name}\` ${c.type}${c.default_kind ? ` ${c.default_kind} ${c.default_expression}` : ''}`)
    .join(', ');
}

/** Replace the schema's tables by bare ones of the same columns, on `engine`. */
async function bareTables(store: Store, engine: (table: string) => Promise<string>): Promise<void> {
  for (const table of TABLES) {
    const columns = await columnsOf(store, table);
    const ddl = `CREATE TABLE ${store.database}.${table}_bare (${columns}) ENGINE = ${await engine(table)}`;
    await dropViews(store);
    await run(store, `DROP TABLE ${store.database}.${table}`);
    await run(store, ddl);
    await run(store, `RENAME TABLE ${store.database}.${table}_bare TO ${store.database}.${table}`);
  }
}

async function dropViews(store: Store): Promise<void> {
  const views = await rows<{ name: string }>(
    store,
    `SELECT name FROM system.tables WHERE database = '${store.database}' AND engine = 'MaterializedView'`,
  );
  for (const v of views) await run(store, `DROP VIEW ${store.database}.${v.name}`);
}

async function dropProjections(store: Store, table: string): Promise<void> {
  const [t] = await rows<{ q: string }>(
    store,
    `SELECT create_table_query AS q FROM system.tables WHERE database = '${store.database}' AND name = '${table}'`,
  );
  for (const m of t!.q.matchAll(/PROJECTION (\w+)/g)) {
    await run(store, `ALTER TABLE ${store.database}.${table} DROP PROJECTION ${m[1]}`);
  }
}

/** The drainer's insert with settings changed. */
const withSettings =
  (extra: Record<string, unknown>): Variant['insert'] =>
  async (store, table, b, batches) => {
    await insertRaw(store, table, [batches[b]![table]], { ...insertSettings(token(table, b)), ...extra });
    return true;
  };

const service = (store: Store, table: string, b: number, batches: Batch[]) =>
  insertBody(store, table, batches[b]![table as (typeof TABLES)[number]]).then(() => true);

const ALL_VARIANTS: Variant[] = [
  { name: 'service', what: 'as the drainer inserts today (file() transport, full schema)', insert: service },
  {
    name: 'memory-source',
    what: 'the same batch INSERT … SELECT from a Memory table (no parse, no file): the engine write alone',
    async insert(store, table, b) {
      await store.writer.command({
        query: `INSERT INTO ${store.database}.${table} SELECT * FROM ${store.database}.mem_${table}_${b}`,
        clickhouse_settings: insertSettings(token(table, b)),
      });
      return true;
    },
  },
  {
    name: 'null-engine',
    what: 'into ENGINE = Null tables of the same columns: file() + RowBinary parse, nothing written',
    setup: (store) => bareTables(store, async () => 'Null'),
    insert: service,
  },
  {
    name: 'plain-mergetree',
    what: 'into plain MergeTree tables of the same columns and key: no views, projections, skip indexes',
    setup: (store) =>
      bareTables(store, async (table) => {
        const [t] = await rows<{ sorting_key: string; partition_key: string }>(
          store,
          `SELECT sorting_key, partition_key FROM system.tables WHERE database = '${store.database}' AND name = '${table}'`,
        );
        return `MergeTree PARTITION BY ${t!.partition_key} ORDER BY (${t!.sorting_key})`;
      }),
    insert: service,
  },
  {
    name: 'no-views',
    what: 'full schema without the materialized views (rollups, trace-id lookup)',
    setup: dropViews,
    insert: service,
  },
  {
    name: 'no-trace-id-view',
    what: 'full schema without otel_traces_trace_id_ts_mv (one row a trace: a row a span for GenAI calls)',
    setup: (store) => run(store, `DROP VIEW ${store.database}.otel_traces_trace_id_ts_mv`),
    insert: service,
  },
  {
    name: 'no-rollup-views',
    what: 'full schema without the three rollup views of ai_calls',
    async setup(store) {
      for (const r of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
        await run(store, `DROP VIEW ${store.database}.${r}_mv`);
      }
    },
    insert: service,
  },
  {
    name: 'no-user-daily-view',
    what: 'full schema without ai_user_daily_mv (the per-user rollup: about a row a call in a batch here)',
    setup: (store) => run(store, `DROP VIEW ${store.database}.ai_user_daily_mv`),
    insert: service,
  },
  {
    name: 'no-user-calls-view',
    what: 'full schema without ai_user_calls_mv (migration 052: a row a call with a user, its own table)',
    setup: (store) => run(store, `DROP VIEW ${store.database}.ai_user_calls_mv`),
    insert: service,
  },
  {
    name: 'views-without-tdigest',
    what: 'the three rollup views without their two quantilesTDigest states (the columns left empty)',
    async setup(store) {
      for (const r of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
        const [t] = await rows<{ q: string }>(
          store,
          `SELECT as_select AS q FROM system.tables WHERE database = '${store.database}' AND name = '${r}_mv'`,
        );
        const select = t!.q.replace(/,\s*quantilesTDigest[\s\S]*?AS (duration|ttft)_ms_quantiles/g, '');
        if (select.includes('TDigest')) throw new Error(`could not take the quantiles out of ${r}_mv`);
        await run(store, `DROP VIEW ${store.database}.${r}_mv`);
        await run(store, `CREATE MATERIALIZED VIEW ${store.database}.${r}_mv TO ${store.database}.${r} AS ${select}`);
      }
    },
    insert: service,
  },
  {
    name: 'no-rollup-projections',
    what: 'full schema without the projections of the rollup tables (ai_user_daily, ai_rollup_hourly, ai_rollup_daily)',
    async setup(store) {
      for (const r of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) await dropProjections(store, r);
    },
    insert: service,
  },
  {
    name: 'no-skip-indexes',
    what: 'full schema without the bloom-filter and minmax indexes of otel_traces and ai_calls',
    async setup(store) {
      for (const table of TABLES) {
        const [t] = await rows<{ q: string }>(
          store,
          `SELECT create_table_query AS q FROM system.tables WHERE database = '${store.database}' AND name = '${table}'`,
        );
        for (const m of t!.q.matchAll(/INDEX (\w+) /g)) {
          await run(store, `ALTER TABLE ${store.database}.${table} DROP INDEX ${m[1]}`);
        }
      }
    },
    insert: service,
  },
  {
    name: 'no-projections',
    what: "full schema without ai_calls' projections",
    setup: (store) => dropProjections(store, 'ai_calls'),
    insert: service,
  },
  {
    name: 'no-dedup',
    what: 'insert_deduplicate = 0 (no block hash, no dedup log)',
    insert: withSettings({ insert_deduplicate: 0 }),
  },
  {
    name: 'parallel-views',
    what: 'parallel_view_processing = 1 (the views of a block on several threads)',
    insert: withSettings({ parallel_view_processing: 1 }),
  },
  {
    name: 'no-optimize-on-insert',
    what: 'optimize_on_insert = 0 (ReplacingMergeTree does not collapse a block on insert)',
    insert: withSettings({ optimize_on_insert: 0 }),
  },
  {
    name: `groups-of-${GROUP}`,
    what: `${GROUP} batches in one insert (fewer, larger parts)`,
    async insert(store, table, b, batches) {
      if (b % GROUP !== GROUP - 1) return false;
      const group = batches.slice(b - GROUP + 1, b + 1).map((x) => x[table]);
      await insertRaw(store, table, group, insertSettings(token(table, b, GROUP)));
      return true;
    },
  },
];

const chosen = args.variants?.split(',');
const VARIANTS = ALL_VARIANTS.filter(
  (v) => !chosen || v.name === 'service' || v.name === 'memory-source' || chosen.includes(v.name),
);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function events(store: Store): Promise<Map<string, number>> {
  const list = await rows<{ event: string; value: string }>(store, 'SELECT event, value FROM system.events');
  return new Map(list.map((e) => [e.event, Number(e.value)]));
}

console.log(
  `bench/ingest factors: ${BATCHES} batches of ${BATCH} spans through ${VARIANTS.length} variants, interleaved; ` +
    `merges ${args.merges ? 'on' : 'stopped'}; load average ${load()}`,
);
const batches = makeBatches();
const dir = mkdtempSync(join(tmpdir(), 'tm-bench-factors-'));
try {
  const base = { url: undefined, user: 'default', password: '', cluster: undefined, dataDir: join(dir, 'ch') };
  const stores: Store[] = [];
  for (const v of VARIANTS) {
    const store = await openStore({ ...base, database: `f_${v.name.replaceAll('-', '_')}` });
    await migrate(store, { ttlDays: 90 });
    await v.setup?.(store);
    stores.push(store);
  }
  // The memory-source variant's batches, parsed into Memory tables before any timing.
  const memStore = stores[VARIANTS.findIndex((v) => v.name === 'memory-source')]!;
  for (const table of TABLES) {
    const columns = await columnsOf(memStore, table);
    for (let b = 0; b < batches.length; b++) {
      await run(memStore, `CREATE TABLE ${memStore.database}.mem_${table}_${b} (${columns}) ENGINE = Memory`);
      await insertRaw(memStore, `mem_${table}_${b}`, [batches[b]![table]], { async_insert: 0 });
    }
  }
  if (!args.merges) await run(stores[0]!, 'SYSTEM STOP MERGES');
  const cpu = VARIANTS.map(() => ({ otel_traces: 0, ai_calls: 0, wallMs: 0, spans: 0 }));
  const evs = VARIANTS.map(() => new Map<string, number>());
  for (let b = 0; b < batches.length; b++) {
    for (let i = 0; i < VARIANTS.length; i++) {
      const v = (b + i) % VARIANTS.length;
      const before = await events(stores[v]!);
      const started = performance.now();
      let did = false;
      for (const table of TABLES) {
        const t = cpuUs();
        did = (await VARIANTS[v]!.insert(stores[v]!, table, b, batches)) || did;
        cpu[v]![table] += cpuUs() - t;
      }
      cpu[v]!.wallMs += performance.now() - started;
      if (did) cpu[v]!.spans += BATCH * (VARIANTS[v]!.name.startsWith('groups') ? GROUP : 1);
      for (const [e, n] of await events(stores[v]!)) {
        const d = n - (before.get(e) ?? 0);
        if (d) evs[v]!.set(e, (evs[v]!.get(e) ?? 0) + d);
      }
    }
  }
  if (!args.merges) await run(stores[0]!, 'SYSTEM START MERGES');
  const svc = cpu[0]!;
  const svcUs = (svc.otel_traces + svc.ai_calls) / svc.spans;
  console.log(`load average ${load()}`);
  console.log('variant                 µs/span  traces  calls  ×service  spans/s(wall)  what');
  VARIANTS.forEach((v, i) => {
    const c = cpu[i]!;
    const us = (c.otel_traces + c.ai_calls) / c.spans;
    console.log(
      `${v.name.padEnd(22)} ${us.toFixed(1).padStart(8)} ${(c.otel_traces / c.spans).toFixed(1).padStart(7)} ` +
        `${(c.ai_calls / c.spans).toFixed(1).padStart(6)} ${(us / svcUs).toFixed(2).padStart(9)} ` +
        `${Math.round(c.spans / (c.wallMs / 1000))
          .toLocaleString('en-US')
          .padStart(14)}  ${v.what}`,
    );
  });
  const shown = [
    'UserTimeMicroseconds',
    'SystemTimeMicroseconds',
    'OSCPUVirtualTimeMicroseconds',
    'InsertedRows',
    'MergeTreeDataWriterBlocks',
    'MergeTreeDataProjectionWriterBlocks',
    'MergeTreeDataWriterRows',
    'MergeTreeDataProjectionWriterRows',
    'DuplicatedInsertedBlocks',
    'ReadBufferFromFileDescriptorReadBytes',
    'WriteBufferFromFileDescriptorWriteBytes',
    'FileOpen',
    'FileSync',
    'DirectorySync',
    'SelectQuery',
    'InsertQuery',
  ];
  console.log('system.events per span (engine counters; time in µs):');
  console.log(`${'event'.padEnd(40)} ${VARIANTS.map((v) => v.name.slice(0, 12).padStart(13)).join('')}`);
  for (const e of shown) {
    console.log(
      `${e.padEnd(40)} ${VARIANTS.map((_, i) => ((evs[i]!.get(e) ?? 0) / cpu[i]!.spans).toFixed(2).padStart(13)).join('')}`,
    );
  }
  for (const s of stores) await s.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
