/**
 * bench/dashboards/compare: the slow panels' SQL at an earlier commit and now, alternately on one
 * store of bench/dashboards/run.ts (`--data-dir` of a finished run), so that both sides see the
 * same load: a same-run comparison where the machine is too busy for absolute figures.
 *
 *   npm run build && nice -n 10 npx tsx bench/dashboards/compare.ts --data-dir /tmp/bench-dash-10m --before bc8dd31 [--runs 5]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { expandPanelSql, grafanaInterval, qualifyTables } from '@tokenmeter/dashboards';
import { openStore, readOnlySettings } from '../../ingest/src/store/client.ts';
import { PANEL_LIMITS } from '../../ingest/src/web/router.ts';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    before: { type: 'string' },
    runs: { type: 'string', default: '5' },
  },
});
if (!args['data-dir'] || !args.before) throw new Error('--data-dir and --before are required');
const RUNS = Number(args.runs);
const DAY_MS = 86_400_000;
const PANELS: [string, string][] = [
  ['overview', 'Cost by provider'],
  ['overview', 'Cost by model'],
  ['overview', 'Cost by service'],
  ['overview', 'Tokens by kind'],
  ['overview', 'Requests and errors'],
  ['overview', 'Latency p50 / p95'],
  ['overview', 'Savings from cache reads'],
  ['models', 'Models in range'],
  ['models', 'Calls by model'],
  ['models', 'p95 latency by provider'],
  ['models', 'Unpriced models seen'],
  ['users', 'Top spenders'],
  ['users', 'Per user: today, month, all time'],
  ['users', 'Spend by team'],
  ['users', 'Teams'],
];

type Json = { panels: { title: string; targets: { rawSql: string }[] }[] };
const before = (d: string): Json =>
  JSON.parse(
    execFileSync('git', ['show', `${args.before}:dashboards/generated/tokenmeter-${d}.json`], { encoding: 'utf8' }),
  );
const now = (d: string): Json =>
  JSON.parse(readFileSync(new URL(`../../dashboards/generated/tokenmeter-${d}.json`, import.meta.url), 'utf8'));
const sqlOf = (json: Json, title: string) => json.panels.find((p) => p.title === title)?.targets[0]?.rawSql ?? '';
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
};

const store = await openStore({
  url: undefined,
  user: 'default',
  password: '',
  database: 'bench_dash',
  cluster: undefined,
  dataDir: args['data-dir'],
});
try {
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const [first] = await (
    await store.writer.query({
      query: 'SELECT user_id FROM ai_user_daily WHERE day >= today() - 7 ORDER BY user_id LIMIT 1',
      format: 'JSONEachRow',
    })
  ).json<{ user_id: string }>();
  const VARS = ['tenant', 'service', 'provider', 'model', 'user', 'feature'];
  console.log(`panel | selection | days | before p50/p95 | now p50/p95 (ms, ${RUNS} alternate runs each)`);
  for (const [selection, days] of [
    ['All', 7],
    ['All', 30],
    ['All', 90],
    ['user', 90],
  ] as const) {
    const from = new Date(end - days * DAY_MS);
    const to = new Date(end);
    const variables: Record<string, string[]> = Object.fromEntries(VARS.map((v) => [v, ['$__all']]));
    if (selection === 'user') variables.user = [first?.user_id ?? ''];
    const opts = { from, to, intervalSeconds: grafanaInterval(from, to, 1000), variables };
    for (const [d, title] of PANELS) {
      const sides = {
        before: expandPanelSql(sqlOf(before(d), title), opts),
        now: expandPanelSql(sqlOf(now(d), title), opts),
      };
      const times: Record<string, number[]> = { before: [], now: [] };
      const refused: Record<string, string> = {};
      for (let run = 0; run <= RUNS; run++) {
        for (const side of ['before', 'now'] as const) {
          if (refused[side]) continue;
          const t = performance.now();
          try {
            const rs = await store.reader.query({
              query: qualifyTables(sides[side].sql, 'bench_dash'),
              query_params: sides[side].params,
              format: 'JSONCompact',
              clickhouse_settings: readOnlySettings(PANEL_LIMITS),
            });
            await rs.json();
          } catch (err) {
            refused[side] = (err as Error).message.slice(0, 60);
            continue;
          }
          if (run > 0) times[side]?.push(performance.now() - t);
        }
      }
      const cell = (side: string) => {
        const ms = times[side] ?? [];
        return refused[side]
          ? `refused (${refused[side]})`
          : `${quantile(ms, 0.5).toFixed(0)}/${quantile(ms, 0.95).toFixed(0)}`;
      };
      console.log(`${d} / ${title} | ${selection} | ${days} | ${cell('before')} | ${cell('now')}`);
    }
  }
} finally {
  await store.close();
}
