/**
 * bench/dashboards: every panel of every dashboard on N calls over 90 days, with "All" and with
 * one user, one service and one feature chosen, over the last 7, 30 and 90 days: p50 and p95 of
 * the panel's SQL as the built-in view runs it (same expansion, bound parameters, read-only
 * settings), plus the Overview drawn in Chromium end to end (bench/ui/overview.ts's page).
 *
 *   npm run build && nice -n 10 npx tsx bench/dashboards/run.ts [--calls 1000000] [--runs 7]
 *       [--data-dir /tmp/bench-dash-1m] [--no-ui]
 *
 * Data: generated inside ClickHouse (INSERT … SELECT … FROM numbers(N)) into ai_calls; the
 * materialized views fill the rollups as ingest would. 5 tenants, 10,000 users, 50 services,
 * 30 features, 20 models. Attribution is correlated the way it is in a company: a user belongs
 * to a tenant and mostly calls one service (one in five calls goes to another service of the
 * tenant), a service belongs to a team and serves three features, and uses four models.
 * Goals (issue 13): p95 ≤ 50 ms at 50 M calls; the 50 M figure ≤ 2 × the 1 M one; the
 * Overview drawn ≤ 500 ms. Results: bench/results/dashboards-<calls>.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DASHBOARDS, expandPanelSql, grafanaInterval, panelsOf, qualifyTables } from '@tokenmeter/dashboards';
import { insertSettings, readOnlySettings } from '../../ingest/src/store/client.ts';
import { PANEL_LIMITS } from '../../ingest/src/web/router.ts';
import { drawOverview } from './overview-page.ts';
import { KEY, startBenchService } from './service.ts';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '7' },
    'data-dir': { type: 'string' },
    'no-ui': { type: 'boolean', default: false },
    'generate-only': { type: 'boolean', default: false },
  },
});
const CALLS = Number(args.calls);
const DAYS = 90;
const RUNS = Number(args.runs);
const DAY_MS = 86_400_000;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
};

const keep = args['data-dir'] !== undefined;
const dataDir = keep ? (args['data-dir'] as string) : mkdtempSync(join(tmpdir(), 'tm-bench-dash-'));
mkdirSync(dataDir, { recursive: true });
const started = performance.now();
const svc = await startBenchService(dataDir);
const one = async (sql: string) =>
  (await (await svc.store.writer.query({ query: sql, format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n ?? '0';

const MODELS = [
  ['openai', 'gpt-4o'],
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4.1'],
  ['openai', 'gpt-4.1-mini'],
  ['openai', 'o3'],
  ['openai', 'o4-mini'],
  ['anthropic', 'claude-sonnet-4-5'],
  ['anthropic', 'claude-haiku-4-5'],
  ['anthropic', 'claude-opus-4-1'],
  ['anthropic', 'claude-3-5-haiku'],
  ['anthropic', 'claude-sonnet-4'],
  ['gcp.gemini', 'gemini-2.5-flash'],
  ['gcp.gemini', 'gemini-2.5-pro'],
  ['gcp.gemini', 'gemini-2.0-flash'],
  ['gcp.gemini', 'gemini-2.5-flash-lite'],
  ['gcp.gemini', 'gemini-1.5-pro'],
  ['aws.bedrock', 'amazon.nova-pro-v1:0'],
  ['aws.bedrock', 'amazon.nova-lite-v1:0'],
  ['aws.bedrock', 'meta.llama3-70b-instruct-v1:0'],
  ['aws.bedrock', 'mistral.mistral-large-2402-v1:0'],
];
const list = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

let end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const spanMs = DAYS * DAY_MS;
try {
  const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const t0 = performance.now();
  // The calls a kept store was generated with, counted in the daily rollup (kept when raw calls
  // expire): a store kept past its oldest day's retention holds fewer raw calls and must not be
  // generated into again (that added another N calls on top).
  const stored = Number(await one('SELECT toString(sum(requests)) AS n FROM ai_rollup_daily'));
  if (keep && stored !== 0 && stored !== CALLS) {
    throw new Error(`${dataDir} holds ${stored} calls, not ${CALLS}: use another --data-dir or --calls ${stored}`);
  }
  const reuse = keep && stored === CALLS;
  if (!reuse) {
    await svc.store.writer.command({
      query: `INSERT INTO ai_calls (timestamp, tenant, service, trace_id, span_id, scope_name, convention, provider, operation,
        request_model, response_model, model, user_id, team, feature, input_tokens, output_tokens, cache_read_tokens,
        reasoning_tokens, is_streaming, priced, cost_usd, cost_source, price_id, price_version, cache_savings_usd,
        duration_ms, ttft_ms, status, error_type, properties)
      SELECT
        fromUnixTimestamp64Milli(toInt64(${end - spanMs} + intDiv(number * ${spanMs}, ${CALLS}))) AS timestamp,
        ['acme', 'globex', 'initech', 'umbrella', 'hooli'][u % 5 + 1] AS tenant,
        concat('svc-', toString(s)) AS service,
        lower(hex(cityHash64(number, 1))) || lower(hex(cityHash64(number, 2))) AS trace_id,
        lower(hex(cityHash64(number, 3))) AS span_id,
        '@tokenmeter/instrumentation', 'gen_ai',
        ${list(MODELS.map((m) => m[0] as string))}[mi + 1] AS provider,
        if(f % 10 = 0, 'embeddings', 'chat') AS operation,
        ${list(MODELS.map((m) => m[1] as string))}[mi + 1] AS m, m, m,
        concat('user-', toString(u)) AS user_id,
        ['search', 'support', 'growth', 'platform', 'sales', 'legal', 'finance', 'data'][s % 8 + 1] AS team,
        concat('feature-', toString(f)) AS feature,
        200 + cityHash64(number, 5) % 4000 AS input_tokens,
        20 + cityHash64(number, 6) % 800 AS output_tokens,
        if(number % 4 = 0, 100 + cityHash64(number, 7) % 1000, 0) AS cache_read_tokens,
        0, number % 3 = 0, mi != 19,
        if(mi != 19, toDecimal128((input_tokens * 2.5 + output_tokens * 10) / 1000000, 12), NULL) AS cost_usd,
        if(mi != 19, 'ingest', ''), m, '2026-01', toDecimal128(cache_read_tokens * 1.25 / 1000000, 12),
        300 + cityHash64(number, 8) % 5000 AS duration_ms,
        if(number % 3 = 0, toNullable(toFloat64(80 + cityHash64(number, 9) % 800)), NULL),
        if(number % 50 = 0, 'error', 'ok'), if(number % 50 = 0, '429', ''),
        map('plan', ['free', 'team', 'enterprise'][u % 3 + 1], 'region', ['eu', 'us', 'apac'][s % 3 + 1]) AS properties
      FROM (
        SELECT number,
          cityHash64(number, 4) % 10000 AS u,
          if(cityHash64(number, 10) % 5 = 0, u % 5 + 5 * (cityHash64(number, 11) % 10), u % 50) AS s,
          (s * 3 + cityHash64(number, 12) % 3) % 30 AS f,
          (s + 5 * (cityHash64(number, 13) % 4)) % 20 AS mi
        FROM numbers(${CALLS})
      )`,
      clickhouse_settings: { ...insertSettings(`bench-dash-${CALLS}-${end}`), max_insert_threads: 2 },
    });
    for (const t of ['ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
      await svc.store.writer.command({ query: `OPTIMIZE TABLE ${t} FINAL` });
    }
  }
  // A reused store upgraded by a newer migration (a projection materialized): measure once that is done.
  while (
    Number(await one("SELECT count() AS n FROM system.mutations WHERE database = 'bench_dash' AND NOT is_done")) > 0
  ) {
    await new Promise((r) => setTimeout(r, 1000));
  }
  // A reused store keeps the range it was generated for: its last hour ends the 90 days.
  if (reuse)
    end = Number(await one('SELECT toUnixTimestamp(toStartOfHour(max(timestamp))) + 3600 AS n FROM ai_calls')) * 1000;
  const insertS = reuse ? 0 : (performance.now() - t0) / 1000;
  const timingStart = performance.now();
  const sizes: Record<string, number> = {};
  for (const t of ['ai_calls', 'ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily']) {
    sizes[t] = Number(await one(`SELECT count() AS n FROM ${t}`));
  }
  console.log(
    `${reuse ? 'reusing' : `inserted in ${insertS.toFixed(0)} s:`} ` +
      Object.entries(sizes)
        .map(([t, n]) => `${t} ${n.toLocaleString('en-US')} rows`)
        .join(', '),
  );
  if (args['generate-only']) process.exit(0);

  // A user, a service and a feature with traffic in the last 7 days (the first of each).
  const pick = async (col: string, table: string) =>
    (
      await (
        await svc.store.writer.query({
          query: `SELECT ${col} AS n FROM ${table} WHERE day >= today() - 7 ORDER BY ${col} LIMIT 1`,
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>()
    )[0]?.n as string;
  const selections: Record<string, Record<string, string[]>> = {
    All: {},
    user: { user: [await pick('user_id', 'ai_user_daily')] },
    service: { service: [await pick('service', 'ai_rollup_daily')] },
    feature: { feature: [await pick('feature', 'ai_rollup_daily')] },
  };
  const VARS = ['tenant', 'service', 'provider', 'model', 'user', 'feature'];

  interface Row {
    dashboard: string;
    panel: string;
    selection: string;
    days: number;
    p50: number;
    p95: number;
  }
  const results: Row[] = [];
  /** Panel, selection and range → why the view's limits refused it. */
  const failed = new Map<string, string>();
  for (const days of [7, 30, 90]) {
    const from = new Date(end - days * DAY_MS);
    const to = new Date(end);
    for (const [selection, chosen] of Object.entries(selections)) {
      const variables = Object.fromEntries(VARS.map((v) => [v, chosen[v] ?? ['$__all']]));
      const queries = DASHBOARDS.flatMap((d) =>
        panelsOf(d)
          .filter(() => selection === 'All' || d.variables.includes(Object.keys(chosen)[0] as never))
          .map((p) => {
            const bound = expandPanelSql(p.sql, {
              from,
              to,
              intervalSeconds: grafanaInterval(from, to, 1000),
              variables,
            });
            return { d, p, sql: qualifyTables(bound.sql, 'bench_dash'), params: bound.params };
          }),
      );
      const times = new Map<string, number[]>();
      for (let run = 0; run <= RUNS; run++) {
        for (const q of queries) {
          const k = `${q.d.uid}\u0000${q.p.title}`;
          if (failed.has(`${k}\u0000${selection}\u0000${days}`)) continue;
          const t = performance.now();
          try {
            const rs = await svc.store.reader.query({
              query: q.sql,
              query_params: q.params,
              format: 'JSONCompact',
              clickhouse_settings: readOnlySettings(PANEL_LIMITS),
            });
            await rs.json();
          } catch (err) {
            // A panel the view's limits refuse (memory, time) is reported as such, not timed.
            failed.set(`${k}\u0000${selection}\u0000${days}`, (err as Error).message.slice(0, 120));
            continue;
          }
          if (run === 0) continue; // warm-up
          times.set(k, [...(times.get(k) ?? []), performance.now() - t]);
        }
      }
      for (const [k, ms] of times) {
        const [dashboard = '', panel = ''] = k.split('\u0000');
        results.push({ dashboard, panel, selection, days, p50: quantile(ms, 0.5), p95: quantile(ms, 0.95) });
      }
    }
  }

  // The usage API and budget status, through the running service with the admin key (p50 / p95 of
  // the whole HTTP request). Budgets for the chosen user's tenant: whole tenant, a team, a feature,
  // and 20 users (one of them the chosen user), created once in a kept store.
  const user = selections.user?.user?.[0] as string;
  const tenant = (
    await (
      await svc.store.writer.query({
        query: 'SELECT any(tenant) AS n FROM ai_user_daily WHERE user_id = {u:String}',
        query_params: { u: user },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>()
  )[0]?.n as string;
  const api = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${svc.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
    return body;
  };
  if (Number(await one('SELECT count() AS n FROM budgets')) === 0) {
    const budgets = [
      { name: 'whole tenant', scope: {}, period: 'month', amountUsd: '5000' },
      { name: 'team search', scope: { team: 'search' }, period: 'month', amountUsd: '800' },
      { name: 'feature-3', scope: { feature: 'feature-3' }, period: 'week', amountUsd: '100' },
      ...Array.from({ length: 20 }, (_, i) => ({
        name: `user ${i}`,
        scope: { user: i === 0 ? user : `user-${Number(user.replace('user-', '')) + 5 * i}` },
        period: 'day',
        amountUsd: '5',
      })),
    ];
    for (const b of budgets) {
      await api('/api/v1/budgets', { method: 'POST', body: JSON.stringify({ tenant, mode: 'soft', ...b }) });
    }
  }
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const t = `tenant=${tenant}`;
  const u = `user=${encodeURIComponent(user)}`;
  /** Endpoint → (selection, days) → path; undefined where the cell does not apply. */
  const ENDPOINTS: Record<string, (sel: 'All' | 'user', days: number) => string | undefined> = {
    'usage/summary?group_by=model': (sel, days) =>
      days === 30 ? `/api/v1/usage/summary?${t}&group_by=model${sel === 'user' ? `&${u}` : ''}` : undefined,
    'usage/summary?group_by=user': (sel, days) =>
      sel === 'All' && days === 30 ? `/api/v1/usage/summary?${t}&group_by=user` : undefined,
    'usage/daily?group_by=model': (sel, days) =>
      `/api/v1/usage/daily?${t}&from=${day(end - days * DAY_MS)}&to=${day(end)}&group_by=model${sel === 'user' ? `&${u}` : ''}`,
    'usage/users/:id': (sel, days) =>
      sel === 'user' && days === 30 ? `/api/v1/usage/users/${encodeURIComponent(user)}?${t}` : undefined,
    'usage/estimate': (sel, days) =>
      days === 30 ? `/api/v1/usage/estimate?${t}&feature=feature-3${sel === 'user' ? `&${u}` : ''}` : undefined,
    'usage/projection': (sel, days) =>
      days === 30 ? `/api/v1/usage/projection?${t}${sel === 'user' ? `&${u}` : ''}` : undefined,
    'budgets (status)': (sel, days) => (sel === 'All' && days === 30 ? `/api/v1/budgets?${t}` : undefined),
  };
  for (const days of [7, 30, 90]) {
    for (const selection of ['All', 'user'] as const) {
      const paths = Object.entries(ENDPOINTS)
        .map(([name, f]) => [name, f(selection, days)] as const)
        .filter((x): x is readonly [string, string] => x[1] !== undefined);
      const times = new Map<string, number[]>();
      for (let run = 0; run <= RUNS; run++) {
        for (const [name, path] of paths) {
          const k = `api\u0000${name}`;
          if (failed.has(`${k}\u0000${selection}\u0000${days}`)) continue;
          const t0 = performance.now();
          try {
            await api(path);
          } catch (err) {
            failed.set(`${k}\u0000${selection}\u0000${days}`, (err as Error).message.slice(0, 160));
            continue;
          }
          if (run > 0) times.set(k, [...(times.get(k) ?? []), performance.now() - t0]);
        }
      }
      for (const [k, ms] of times) {
        const [dashboard = '', panel = ''] = k.split('\u0000');
        results.push({ dashboard, panel, selection, days, p50: quantile(ms, 0.5), p95: quantile(ms, 0.95) });
      }
    }
  }

  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadAfterSql = load();
  const ui = args['no-ui']
    ? undefined
    : {
        days7: await drawOverview(svc, KEY, { from: end - 7 * DAY_MS, to: end, runs: RUNS }),
        days90: await drawOverview(svc, KEY, { from: end - 90 * DAY_MS, to: end, runs: RUNS }),
      };

  console.log(
    `\n${CALLS.toLocaleString('en-US')} calls over ${DAYS} days: panel SQL (api: whole HTTP request) p50 / p95 in ms; ` +
      `load average ${loadAtStart} at the start, ${loadAfterSql} after the SQL, ${load()} at the end`,
  );
  const header = ['panel', ...[7, 30, 90].flatMap((d) => Object.keys(selections).map((s) => `${s} ${d}d`))];
  const table: string[][] = [];
  const keys = [...new Set(results.map((r) => `${r.dashboard}\u0000${r.panel}`))];
  for (const k of keys) {
    const [dashboard = '', panel = ''] = k.split('\u0000');
    const cells = [7, 30, 90].flatMap((d) =>
      Object.keys(selections).map((s) => {
        const r = results.find(
          (x) => x.dashboard === dashboard && x.panel === panel && x.selection === s && x.days === d,
        );
        if (failed.has(`${dashboard}\u0000${panel}\u0000${s}\u0000${d}`)) return 'refused';
        return r ? `${r.p50.toFixed(0)}/${r.p95.toFixed(0)}` : '–';
      }),
    );
    table.push([`${dashboard.replace('tokenmeter-', '')} / ${panel}`, ...cells]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(line(header));
  for (const r of table) console.log(line(r));
  for (const [k, why] of failed) console.log(`refused by the view's limits: ${k.replaceAll('\u0000', ' / ')}: ${why}`);
  const worst = results.reduce((a, r) => (r.p95 > a.p95 ? r : a));
  console.log(
    `\nworst p95: ${worst.p95.toFixed(1)} ms (${worst.dashboard} / ${worst.panel}, ${worst.selection}, ${worst.days}d); goal ≤ 50 ms at 50 M`,
  );
  if (ui) {
    console.log(
      `Overview in Chromium ("All"): 7 days median ${ui.days7.medianMs} ms (${ui.days7.runsMs.join(', ')}); ` +
        `90 days median ${ui.days90.medianMs} ms (${ui.days90.runsMs.join(', ')}); goal ≤ 500 ms`,
    );
  }
  console.log(
    `timing pass: ${((performance.now() - timingStart) / 1000).toFixed(0)} s` +
      (reuse
        ? ` (before it, ${((timingStart - started) / 1000).toFixed(0)} s to start the service on the store and apply its pending migrations)`
        : ''),
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    `bench/results/dashboards-${CALLS}.json`,
    `${JSON.stringify({ calls: CALLS, days: DAYS, runs: RUNS, insertSeconds: insertS, load: { atStart: loadAtStart, afterSql: loadAfterSql, atEnd: load() }, sizes, selections, results, failed: Object.fromEntries(failed), ui }, null, 2)}\n`,
  );
} finally {
  await svc.close();
  if (!keep) rmSync(dataDir, { recursive: true, force: true });
}
