/**
 * bench/dashboards/probe: where a slow cell's time goes, on a kept store of run.ts. Runs SQL
 * variants (or usage/budget API paths through the running service) alternately, so every
 * variant sees the same load, and prints per variant p50 / p95 wall time and, per query it sent,
 * the parts and rows ClickHouse plans to read (EXPLAIN ESTIMATE; embedded chdb keeps no system.query_log):
 * rows read survive a busy machine.
 *
 *   nice -n 10 npx tsx bench/dashboards/probe.ts --data-dir /work/bench-data/dash-50m-copy \
 *     --variants bench/dashboards/variants/budgets.ts [--runs 7]
 *   nice -n 10 npx tsx bench/dashboards/probe.ts --data-dir … --api '/api/v1/usage/estimate?feature=feature-3'
 *
 * A variants module exports `variants(ctx)`: a list of { name, sql, params } (ctx: the range end,
 * a user and the user's tenant as run.ts picks them, and `panel(dashboard, title, days, user?)`,
 * the panel's SQL expanded as the built-in view does). API paths get `tenant=` of that tenant.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DASHBOARDS, expandPanelSql, grafanaInterval, panelsOf, qualifyTables } from '@tokenmeter/dashboards';
import { KEY, startBenchService } from './service.ts';
import { readOnlySettings } from '../../ingest/src/store/client.ts';
import { PANEL_LIMITS } from '../../ingest/src/web/router.ts';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    variants: { type: 'string' },
    api: { type: 'string', multiple: true },
    runs: { type: 'string', default: '7' },
  },
});
if (!args['data-dir']) throw new Error('--data-dir is required');
const RUNS = Number(args.runs);
const DAY_MS = 86_400_000;
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
};

export interface Variant {
  name: string;
  sql: string;
  params?: Record<string, unknown>;
}
export interface ProbeContext {
  end: number;
  user: string;
  tenant: string;
  panel: (dashboard: string, title: string, days: number, user?: string) => Variant;
  /** A read on the store (tables qualified by the caller), for building a variant's parameters. */
  rows: <T>(query: string, params?: Record<string, unknown>) => Promise<T[]>;
}

const svc = await startBenchService(args['data-dir']);
const rows = async <T>(query: string, params: Record<string, unknown> = {}) =>
  (await svc.store.writer.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
try {
  const [{ n: endS = '0' } = {}] = await rows<{ n: string }>(
    'SELECT toUnixTimestamp(toStartOfHour(max(timestamp))) + 3600 AS n FROM bench_dash.ai_calls',
  );
  const end = Number(endS) * 1000;
  const [{ n: user = '' } = {}] = await rows<{ n: string }>(
    'SELECT user_id AS n FROM bench_dash.ai_user_daily WHERE day >= today() - 7 ORDER BY user_id LIMIT 1',
  );
  const [{ n: tenant = '' } = {}] = await rows<{ n: string }>(
    'SELECT any(tenant) AS n FROM bench_dash.ai_user_daily WHERE user_id = {u:String}',
    { u: user },
  );
  const VARS = ['tenant', 'service', 'provider', 'model', 'user', 'feature', 'property'];
  const ctx: ProbeContext = {
    rows,
    end,
    user,
    tenant,
    panel(dashboard, title, days, chosen) {
      const d = DASHBOARDS.find((x) => x.uid === `tokenmeter-${dashboard}`);
      const p = d && panelsOf(d).find((x) => x.title === title);
      if (!p) throw new Error(`no panel ${dashboard} / ${title}`);
      const from = new Date(end - days * DAY_MS);
      const to = new Date(end);
      const variables = Object.fromEntries(VARS.map((v) => [v, ['$__all']]));
      if (chosen) variables.user = [chosen];
      const bound = expandPanelSql(p.sql, { from, to, intervalSeconds: grafanaInterval(from, to, 1000), variables });
      return { name: `${title} ${chosen ? 'user' : 'All'} ${days}d`, sql: bound.sql, params: bound.params };
    },
  };
  console.log(`store end ${new Date(end).toISOString()}, user ${user} of ${tenant}; load ${load()}`);

  type Job = { name: string; run: () => Promise<void> };
  /** Every query the reader ran during a timed run, with the job it ran for. */
  const seen: { job: string; sql: string; params: Record<string, unknown>; ms: number }[] = [];
  let current = '';
  const reader = svc.store.reader;
  const query = reader.query.bind(reader);
  reader.query = (async (p: Parameters<typeof query>[0]) => {
    const t = performance.now();
    const rs = await query(p);
    if (current) seen.push({ job: current, sql: p.query, params: p.query_params ?? {}, ms: performance.now() - t });
    return rs;
  }) as typeof reader.query;
  const jobs: Job[] = [];
  if (args.variants) {
    const mod = (await import(resolve(args.variants))) as {
      variants: (c: ProbeContext) => Variant[] | Promise<Variant[]>;
    };
    for (const v of await mod.variants(ctx)) {
      jobs.push({
        name: v.name,
        run: async () => {
          const rs = await svc.store.reader.query({
            query: qualifyTables(v.sql, 'bench_dash'),
            query_params: v.params ?? {},
            format: 'JSONCompact',
            clickhouse_settings: readOnlySettings(PANEL_LIMITS),
          });
          await rs.json();
        },
      });
    }
  }
  for (const path of args.api ?? []) {
    const url = `${svc.url}${path}${path.includes('?') ? '&' : '?'}tenant=${tenant}`.replace('{user}', user);
    jobs.push({
      name: `api ${path}`,
      run: async () => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
        const body = await res.text();
        if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
      },
    });
  }
  const times = new Map<string, number[]>();
  for (let run = 0; run <= RUNS; run++) {
    for (const j of jobs) {
      current = run === 0 ? '' : j.name;
      const t = performance.now();
      await j.run();
      current = '';
      const ms = performance.now() - t;
      if (run === 0) continue;
      times.set(j.name, [...(times.get(j.name) ?? []), ms]);
    }
  }
  console.log(`${RUNS} alternate runs each; load ${load()} at the end`);
  for (const j of jobs) {
    const ms = times.get(j.name) ?? [];
    console.log(`${j.name}: p50 ${quantile(ms, 0.5).toFixed(0)} / p95 ${quantile(ms, 0.95).toFixed(0)} ms`);
    // Per distinct query the job sent: its median time as the caller saw it, and (one more run,
    // EXPLAIN ESTIMATE) what ClickHouse plans to read.
    const byQ = new Map<string, { ms: number[]; params: Record<string, unknown> }>();
    for (const l of seen.filter((x) => x.job === j.name)) {
      const e = byQ.get(l.sql) ?? { ms: [], params: l.params };
      e.ms.push(l.ms);
      byQ.set(l.sql, e);
    }
    for (const [sql, e] of byQ) {
      // EXPLAIN ESTIMATE: the parts, rows and marks (granules) ClickHouse plans to read, per table.
      const est = await (
        await query({
          query: `EXPLAIN ESTIMATE ${sql.replace(/\s*FORMAT\s+\w+\s*$/i, '')}`,
          query_params: e.params,
          format: 'JSONEachRow',
          clickhouse_settings: readOnlySettings(PANEL_LIMITS),
        })
      ).json<{ table: string; parts: string; rows: string; marks: string }>();
      // Which projection each read of the plan uses ("ReadFromMergeTree (by_model_hour)").
      const plan = await (
        await query({
          query: `EXPLAIN projections = 1 ${sql.replace(/\s*FORMAT\s+\w+\s*$/i, '')}`,
          query_params: e.params,
          format: 'TabSeparatedRaw',
          clickhouse_settings: readOnlySettings(PANEL_LIMITS),
        })
      ).text();
      const used = [...new Set([...plan.matchAll(/ReadFromMergeTree \(([^)]*)\)/g)].map((m) => m[1]))].join(', ');
      const reads = est
        .map((x) => `${x.table} ${Number(x.rows).toLocaleString('en-US')} rows/${x.parts} parts`)
        .join(', ');
      console.log(
        `    ${e.ms.length}× ${quantile(e.ms, 0.5).toFixed(0)} ms, ${reads || 'nothing'} [${used}]: ${sql.replace(/\s+/g, ' ').slice(0, 90)}`,
      );
    }
  }
} finally {
  await svc.close();
}
