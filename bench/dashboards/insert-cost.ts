/**
 * bench/dashboards/insert-cost: what the projections a dashboard change adds cost every insert
 * into ai_calls (its materialized views fill the rollups, and each rollup part builds its
 * projections). A fresh store with every migration; then, alternately, batches of generated calls
 * (bench/dashboards' attribution: 5 tenants, 10,000 users, 50 services) are inserted with the
 * projections named by --drop removed and with the store as migrated. CPU of the whole process
 * (chdb runs in it) per call, median of the rounds, and the ratio: a figure that survives load.
 *
 *   nice -n 10 npx tsx bench/dashboards/insert-cost.ts --drop ai_user_daily.by_team_day_hll [--drop …] [--rows 20000] [--rounds 7]
 *
 * `--migrations <dir>` migrates with another checkout's migrations (an earlier commit's
 * projections, for the same comparison there). `--drop` takes table.projection; the projection is dropped before the "without" batch and added
 * back (its migration's definition, read from system.tables) before the "with" batch.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../../ingest/src/store/client.ts';
import { migrate } from '../../ingest/src/store/migrate.ts';

const { values: args } = parseArgs({
  options: {
    drop: { type: 'string', multiple: true, default: [] },
    rows: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '7' },
    migrations: { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const dir = mkdtempSync(join(tmpdir(), 'tm-insert-cost-'));
const store = await openStore({
  url: undefined,
  user: 'default',
  password: '',
  database: 'bench_ins',
  cluster: undefined,
  dataDir: dir,
});
const rows = async <T>(query: string) => (await store.writer.query({ query, format: 'JSONEachRow' })).json<T>();
try {
  await migrate(store, { ttlDays: 400, settleMs: 0, dir: args.migrations });
  // Each projection's definition as the migrations made it (from the table's CREATE statement).
  const defs = new Map<string, string>();
  for (const d of args.drop) {
    const [table = '', name = ''] = d.split('.');
    const [{ q = '' } = {}] = await rows<{ q: string }>(
      `SELECT create_table_query AS q FROM system.tables WHERE database = 'bench_ins' AND name = '${table}'`,
    );
    const m = new RegExp(`PROJECTION ${name}\\s*\\(`).exec(q);
    if (!m) throw new Error(`no projection ${d}`);
    let depth = 0;
    let i = m.index + m[0].length - 1;
    for (; i < q.length; i++) {
      if (q[i] === '(') depth++;
      if (q[i] === ')' && --depth === 0) break;
    }
    defs.set(d, q.slice(m.index, i + 1));
  }
  const alter = async (add: boolean) => {
    for (const [d, def] of defs) {
      const [table, name] = d.split('.');
      await store.writer.command({
        query: add
          ? `ALTER TABLE bench_ins.${table} ADD ${def}`
          : // A mutation that rewrites the parts: waited for, so it overlaps no measured insert.
            `ALTER TABLE bench_ins.${table} DROP PROJECTION ${name} SETTINGS mutations_sync = 1`,
      });
    }
  };
  let batch = 0;
  const insert = async () => {
    const base = batch++ * ROWS;
    // Merges run on background threads of this process: stopped while it inserts, the CPU measured
    // is the insert's own (the views' aggregation, each new part's projections), not a merge it
    // overlapped. Started again after (a DROP PROJECTION is a mutation, which needs them).
    await store.writer.command({ query: 'SYSTEM STOP MERGES' });
    const t = process.cpuUsage();
    await store.writer.command({
      query: `INSERT INTO bench_ins.ai_calls (timestamp, tenant, service, trace_id, span_id, provider, operation, model,
          user_id, team, feature, input_tokens, output_tokens, priced, cost_usd, duration_ms, status, properties)
        SELECT now64(3) - toIntervalSecond(number % 86400 * 30) AS timestamp,
          ['acme', 'globex', 'initech', 'umbrella', 'hooli'][u % 5 + 1], concat('svc-', toString(u % 50)),
          lower(hex(cityHash64(number, 1))), lower(hex(cityHash64(number, 3))), 'openai', 'chat',
          concat('model-', toString((u % 50 + number % 4) % 20)), concat('user-', toString(u)),
          ['search', 'support', 'growth', 'platform', 'sales', 'legal', 'finance', 'data'][u % 8 + 1],
          concat('feature-', toString(u % 30)), 200 + number % 4000, 20 + number % 800, 1,
          toDecimal128((200 + number % 4000) * 2.5 / 1000000, 12), 300 + number % 5000, 'ok',
          map('plan', ['free', 'team', 'enterprise'][u % 3 + 1])
        FROM (SELECT number + ${base} AS number, cityHash64(number + ${base}, 4) % 10000 AS u FROM numbers(${ROWS}))`,
    });
    const c = process.cpuUsage(t);
    await store.writer.command({ query: 'SYSTEM START MERGES' });
    return (c.user + c.system) / ROWS;
  };
  await insert(); // warm-up
  const without: number[] = [];
  const withIt: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await alter(false);
    without.push(await insert());
    await alter(true);
    withIt.push(await insert());
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const a = median(without);
  const b = median(withIt);
  console.log(
    `${ROWS} calls a batch, ${ROUNDS} rounds, load ${load()}: CPU per call without ${args.drop.join(', ')} ${a.toFixed(1)} µs, ` +
      `as migrated ${b.toFixed(1)} µs (+${(b - a).toFixed(1)} µs, ${((100 * (b - a)) / a).toFixed(1)} %)`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
