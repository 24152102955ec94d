/**
 * bench/ui: time to draw the Overview dashboard (every panel) in Chromium on N calls,
 * against the same panels' SQL run directly on ClickHouse in the same run.
 *
 *   npm run build && npx tsx bench/ui/overview.ts [--calls 10000000] [--days 30] [--runs 7]
 *       [--data-dir /tmp/bench-ui] [--insert-only]
 *
 * With --data-dir the store is kept there and reused when it already holds the calls
 * (generating 10 M calls with their rollups takes minutes); --insert-only stops after that.
 *
 * Data: N rows generated inside ClickHouse (INSERT … SELECT … FROM numbers(N)) into
 * ai_calls; the materialized views fill the hourly and daily rollups, as ingest would.
 * Service: `tokenmeter serve` (startServer) in this process on embedded chdb.
 * Page: Debian's Chromium draws the overview over the data's whole range; a run is the
 * time from the refresh click to the last panel drawn (requests, JSON, uPlot), as the page
 * records it. Baseline: the very queries the page asked for (same expansion, same bound
 * parameters, same maxDataPoints) run in parallel on the same ClickHouse client, rows read
 * as JSON. Runs alternate page / SQL; medians are compared. Goal: page ≤ 1.2 × SQL.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { readConfig } from '../../ingest/src/config.ts';
import { startServer } from '../../ingest/src/server.ts';
import { insertSettings, readOnlySettings } from '../../ingest/src/store/client.ts';
import { readDashboards } from '../../ingest/src/web/dashboards.ts';
import { panelSql, parseVariables } from '../../ingest/src/web/panel-query.ts';
import { PANEL_LIMITS } from '../../ingest/src/web/router.ts';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000000' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '7' },
    'data-dir': { type: 'string' },
    'insert-only': { type: 'boolean', default: false },
  },
});
const CALLS = Number(args.calls);
const DAYS = Number(args.days);
const RUNS = Number(args.runs);
const KEY = 'bench-ui-admin-key';
const UID = 'tokenmeter-overview';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const keep = args['data-dir'] !== undefined;
const dataDir = keep ? (args['data-dir'] as string) : mkdtempSync(join(tmpdir(), 'tm-bench-ui-'));
mkdirSync(dataDir, { recursive: true });
const svc = await startServer(
  readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TOKENMETER_DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: 'bench_ui',
    TOKENMETER_ADMIN_KEY: KEY,
    TOKENMETER_DEMO: 'false',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    TOKENMETER_RATE_LIMIT_RPS: '0',
    LOG_LEVEL: 'warn',
  }),
);
const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const spanMs = DAYS * 86_400_000;

const calls = async () =>
  Number(
    (
      await (
        await svc.store.writer.query({ query: 'SELECT count() AS n FROM ai_calls', format: 'JSONEachRow' })
      ).json<{
        n: string;
      }>()
    )[0]?.n ?? 0,
  );
try {
  const t0 = performance.now();
  const reuse = keep && (await calls()) === CALLS;
  // Deterministic rows from the row number: 5 models, 40 services, 2,000 users, 8 features, 3 tenants.
  if (!reuse)
    await svc.store.writer.command({
      query: `INSERT INTO ai_calls (timestamp, tenant, service, trace_id, span_id, scope_name, convention, provider, operation,
        request_model, response_model, model, user_id, team, feature, input_tokens, output_tokens, cache_read_tokens,
        reasoning_tokens, is_streaming, priced, cost_usd, cost_source, price_id, price_version, cache_savings_usd,
        duration_ms, ttft_ms, status, error_type)
      SELECT
        fromUnixTimestamp64Milli(toInt64(${end - spanMs} + intDiv(number * ${spanMs}, ${CALLS}))) AS timestamp,
        ['acme', 'globex', 'initech'][number % 3 + 1] AS tenant,
        concat('svc-', toString(number % 40)) AS service,
        lower(hex(cityHash64(number, 1))) || lower(hex(cityHash64(number, 2))) AS trace_id,
        lower(hex(cityHash64(number, 3))) AS span_id,
        '@tokenmeter/instrumentation', 'gen_ai',
        ['openai', 'openai', 'anthropic', 'anthropic', 'google'][number % 5 + 1] AS provider, 'chat',
        ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'gemini-2.5-flash'][number % 5 + 1] AS m, m, m,
        concat('user-', toString(cityHash64(number, 4) % 2000)) AS user_id,
        ['search', 'support', 'growth', 'platform'][cityHash64(number, 4) % 4 + 1] AS team,
        ['chat', 'summarize', 'classify', 'extract', 'agent', 'search', 'rerank', 'embed'][number % 8 + 1] AS feature,
        200 + cityHash64(number, 5) % 4000 AS input_tokens,
        20 + cityHash64(number, 6) % 800 AS output_tokens,
        if(number % 4 = 0, 100 + cityHash64(number, 7) % 1000, 0) AS cache_read_tokens,
        0, number % 3 = 0, true,
        toDecimal128((input_tokens * 2.5 + output_tokens * 10) / 1000000, 12) AS cost_usd,
        'ingest', m, '2026-01', toDecimal128(cache_read_tokens * 1.25 / 1000000, 12),
        300 + cityHash64(number, 8) % 5000 AS duration_ms,
        if(number % 3 = 0, toNullable(toFloat64(80 + cityHash64(number, 9) % 800)), NULL),
        if(number % 50 = 0, 'error', 'ok'), if(number % 50 = 0, '429', '')
      FROM numbers(${CALLS})`,
      clickhouse_settings: { ...insertSettings(`bench-ui-${CALLS}-${end}`), max_insert_threads: 2 },
    });
  if (!reuse) await svc.store.writer.command({ query: 'OPTIMIZE TABLE ai_rollup_hourly FINAL' }).catch(() => undefined);
  const insertS = reuse ? 0 : (performance.now() - t0) / 1000;
  const count = await (
    await svc.store.writer.query({ query: 'SELECT count() AS n FROM ai_calls', format: 'JSONEachRow' })
  ).json<{ n: string }>();
  const hourly = await (
    await svc.store.writer.query({ query: 'SELECT count() AS n FROM ai_rollup_hourly', format: 'JSONEachRow' })
  ).json<{ n: string }>();
  console.log(
    reuse
      ? `reusing ${count[0]?.n} calls in ${dataDir} (hourly rollup rows: ${hourly[0]?.n})`
      : `inserted ${count[0]?.n} calls in ${insertS.toFixed(1)} s (hourly rollup rows: ${hourly[0]?.n})`,
  );
  if (args['insert-only']) {
    await svc.close();
    process.exit(0);
  }

  const from = end - spanMs;
  const to = end;
  const dash = readDashboards().find((d) => d.uid === UID);
  if (!dash) throw new Error(`no dashboard ${UID}`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await (await browser.newContext({ viewport: { width: 1600, height: 1000 } })).newPage();
  const asked = new Map<number, number>(); // panel id → maxDataPoints the page sent
  let batchUrl = '';
  const renderMs: number[] = []; // of each page run: time the page spent drawing
  page.on('request', (r) => {
    const m = /\/dashboards\/[\w-]+\/data\?(.*)$/.exec(r.url());
    if (!m) return;
    batchUrl = r.url();
    for (const [k, v] of new URLSearchParams(m[1])) if (k.startsWith('mdp-')) asked.set(Number(k.slice(4)), Number(v));
  });
  await page.goto(`${svc.url}/`);
  await page.locator('input[name="key"]').fill(KEY);
  await page.locator('form.signin button[type="submit"]').click();
  await page.locator('nav.top').waitFor();
  const firstStart = performance.now();
  await page.goto(`${svc.url}/#/d/${UID}?from=${from}&to=${to}&refresh=`);
  await page.locator('.grid[data-pending="0"]').waitFor({ timeout: 300_000 });
  const firstMs = performance.now() - firstStart;
  const errors = await page.locator('section.panel[data-state="error"]').count();
  if (errors > 0) throw new Error(`${errors} panels failed to draw`);
  mkdirSync('bench/results', { recursive: true });
  await page.screenshot({ path: 'bench/results/ui-overview.png', fullPage: true });

  const who = { keyId: 'bench', role: 'admin' as const, tenant: '*' };
  const queries = dash.panels.map((p) =>
    panelSql(p, { from: new Date(from), to: new Date(to) }, asked.get(p.id) ?? 1000, parseVariables({}, dash, who)),
  );
  async function sqlRun(): Promise<number> {
    const t = performance.now();
    await Promise.all(
      queries.map(async (q) => {
        const rs = await svc.store.reader.query({
          query: q.sql,
          query_params: q.params,
          format: 'JSONCompact',
          clickhouse_settings: readOnlySettings(PANEL_LIMITS),
        });
        await rs.json();
      }),
    );
    return performance.now() - t;
  }
  /** The page's own request, fetched from Node and read to the end: the service without the browser. */
  async function endpointRun(): Promise<number> {
    const t = performance.now();
    const res = await fetch(batchUrl, { headers: { authorization: `Bearer ${KEY}` } });
    const lines = (await res.text()).trim().split('\n');
    if (lines.length !== dash?.panels.length) throw new Error(`endpoint answered ${lines.length} lines`);
    return performance.now() - t;
  }
  async function pageRun(): Promise<number> {
    await page.locator('button[title="Refresh now"]').click();
    await page.locator('.grid[data-pending="0"]').waitFor({ timeout: 300_000 });
    renderMs.push(Number(await page.locator('.grid').getAttribute('data-render-ms')));
    return Number(await page.locator('.grid').getAttribute('data-drawn-ms'));
  }
  await sqlRun(); // warm both paths once
  await pageRun();
  const pageMs: number[] = [];
  const sqlMs: number[] = [];
  const endpointMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    pageMs.push(await pageRun());
    sqlMs.push(await sqlRun());
    endpointMs.push(await endpointRun());
  }
  if (process.env.BENCH_DEBUG) {
    await page.evaluate(() => performance.clearResourceTimings());
    const ms = await pageRun();
    const entries = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => {
        const r = e as PerformanceResourceTiming;
        const t = r.serverTiming.find((x) => x.name === 'db')?.duration ?? 0;
        return `${r.name.replace(/\?.*/, '')} start ${r.startTime.toFixed(0)} wait ${(r.responseStart - r.requestStart).toFixed(0)} db ${t.toFixed(0)} end ${r.responseEnd.toFixed(0)} bytes ${r.encodedBodySize}`;
      }),
    );
    console.log(`page run ${ms} ms\n${entries.join('\n')}`);
  }
  await browser.close();
  const result = {
    calls: CALLS,
    days: DAYS,
    panels: dash.panels.length,
    insertSeconds: Number(insertS.toFixed(1)),
    firstDrawMs: Math.round(firstMs),
    pageMedianMs: Math.round(median(pageMs)),
    sqlMedianMs: Math.round(median(sqlMs)),
    endpointMedianMs: Math.round(median(endpointMs)),
    ratio: Number((median(pageMs) / median(sqlMs)).toFixed(3)),
    pageMs: pageMs.map(Math.round),
    sqlMs: sqlMs.map(Math.round),
    endpointMs: endpointMs.map(Math.round),
    renderMs: renderMs.slice(-RUNS),
  };
  writeFileSync('bench/results/ui.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `overview (${result.panels} panels, ${DAYS} days, ${CALLS.toLocaleString('en-US')} calls): ` +
      `page ${result.pageMedianMs} ms, same SQL direct ${result.sqlMedianMs} ms, ratio ${result.ratio} ` +
      `(the page's request from Node, no browser: ${result.endpointMedianMs} ms) ` +
      `(goal ≤ 1.2; first draw ${result.firstDrawMs} ms)`,
  );
} finally {
  await svc.close();
  if (!keep) rmSync(dataDir, { recursive: true, force: true });
}
