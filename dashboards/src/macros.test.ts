import { describe, expect, it } from 'vitest';
import { ALL, type ExpandOptions, expandAsGrafana, expandPanelSql, grafanaInterval, MacroError } from './macros.js';

const from = new Date('2026-11-19T00:00:00Z');
const to = new Date('2026-11-20T06:30:00Z');
const base: ExpandOptions = { from, to, intervalSeconds: 60, variables: {} };
const F = from.getTime() / 1000;
const T = to.getTime() / 1000;

describe('time macros, as the ClickHouse plugin expands them', () => {
  const cases: [string, string, Partial<ExpandOptions>?][] = [
    ['WHERE $__timeFilter(ts)', `WHERE ts >= toDateTime(${F}) AND ts <= toDateTime(${T})`],
    [
      'WHERE $__timeFilter_ms(ts)',
      `WHERE ts >= fromUnixTimestamp64Milli(${F}000) AND ts <= fromUnixTimestamp64Milli(${T}000)`,
    ],
    ['WHERE $__dateFilter(day)', "WHERE day >= toDate('2026-11-19') AND day <= toDate('2026-11-20')"],
    ['SELECT $__timeInterval(hour) AS t', 'SELECT toStartOfInterval(toDateTime(hour), INTERVAL 60 second) AS t'],
    [
      'SELECT $__timeInterval(hour)',
      'SELECT toStartOfInterval(toDateTime(hour), INTERVAL 1 second)',
      { intervalSeconds: 0.2 },
    ],
    ['SELECT $__interval_s', 'SELECT 3600', { intervalSeconds: 3600 }],
    ['SELECT $__interval_s', 'SELECT 1', { intervalSeconds: 0 }],
    ['SELECT $__fromTime, $__toTime', `SELECT toDateTime(${F}), toDateTime(${T})`],
    ['SELECT $__timeFrom(ts)', `SELECT ts >= toDateTime(${F})`],
    [
      'SELECT $__dt(d, t)',
      `SELECT (d >= toDate('2026-11-19') AND d <= toDate('2026-11-20')) AND (t >= toDateTime(${F}) AND t <= toDateTime(${T}))`,
    ],
    ["SELECT '$__fromTime' AS s", "SELECT '$__fromTime' AS s"],
    ['SELECT 1 -- $__fromTime\n', `SELECT 1 ${' '.repeat(14)}\n`],
    ['SELECT $__unknown(x)', 'SELECT $__unknown(x)'],
    [
      'SELECT $__timeInterval(toStartOfHour(ts))',
      'SELECT toStartOfInterval(toDateTime(toStartOfHour(ts)), INTERVAL 60 second)',
    ],
  ];
  it.each(cases)('%s', (sql, want, extra) => {
    expect(expandAsGrafana(sql, { ...base, ...extra })).toBe(want);
  });

  it('refuses a macro with the wrong number of arguments, as the plugin does', () => {
    expect(() => expandAsGrafana('SELECT $__timeFilter(a, b)', base)).toThrow(MacroError);
  });
});

describe('template variables, as Grafana interpolates them', () => {
  const vars = { user: ['alice', "o'brien"], model: ALL, tenant: 'acme', empty: [] as string[] };
  const opts = { ...base, variables: vars, allValues: { model: ['gpt-4o', 'claude'] } };
  const cases: [string, string][] = [
    ['user_id IN (${user:singlequote})', "user_id IN ('alice','o\\'brien')"],
    ['user_id IN (${user:sqlstring})', "user_id IN ('alice','o''brien')"],
    ['user_id IN ($user)', "user_id IN ('alice','o'brien')"], // the plugin's default formatter does not escape
    ["tenant = '$tenant'", "tenant = 'acme'"],
    ['tenant = ${tenant:singlequote}', "tenant = 'acme'"],
    ['model IN (${model:singlequote})', "model IN ('gpt-4o','claude')"],
    ['$__conditionalAll(model IN (${model:singlequote}), $model)', '1=1'],
    ['$__conditionalAll(user_id IN (${user:singlequote}), $user)', "user_id IN ('alice','o\\'brien')"],
    ['$__conditionalAll(x IN (${empty:singlequote}), ${empty})', '1=1'],
    ['$nobody stays', '$nobody stays'],
  ];
  it.each(cases)('%s', (sql, want) => {
    expect(expandAsGrafana(sql, opts)).toBe(want);
  });
});

describe('expandPanelSql: values bound as query parameters', () => {
  const sql =
    'SELECT sum(cost_usd) FROM ai_user_daily WHERE $__dateFilter(day) AND $__conditionalAll(user_id IN (${user:singlequote}), $user) AND $__conditionalAll(model IN (${model:singlequote}), $model)';

  it('binds a multi-value variable as Array(String) and drops an "All" one', () => {
    const out = expandPanelSql(sql, { ...base, variables: { user: ['alice', "x' OR 1=1 --"], model: [ALL] } });
    expect(out.sql).toBe(
      "SELECT sum(cost_usd) FROM ai_user_daily WHERE day >= toDate('2026-11-19') AND day <= toDate('2026-11-20') AND user_id IN ({v_user:Array(String)}) AND 1=1",
    );
    expect(out.params).toEqual({ v_user: ['alice', "x' OR 1=1 --"] });
  });

  it('matches the Grafana text when values are harmless', () => {
    const variables = { user: ['alice', 'bob'], model: 'gpt-4o' };
    const bound = expandPanelSql(sql, { ...base, variables });
    const inlined = bound.sql.replace(/\{v_(\w+):Array\(String\)\}/g, (_, n: string) =>
      (bound.params[`v_${n}`] ?? []).map((v) => `'${v}'`).join(','),
    );
    expect(inlined).toBe(expandAsGrafana(sql, { ...base, variables }));
  });

  const refused: [string, ExpandOptions['variables']][] = [
    ["WHERE user_id = '$user'", { user: 'a' }],
    ['WHERE user_id IN ($user)', { user: 'a' }],
    ['WHERE user_id = ${user:singlequote}', { user: 'a' }],
    ['WHERE user_id IN (${user:singlequote}, ${other:singlequote})', { user: 'a', other: 'b' }],
    ['WHERE user_id IN (${user:singlequote})', {}],
    ['WHERE user_id IN (${user:singlequote})', { user: 'a\u0000b' }],
    ['WHERE user_id IN (${user:singlequote})', { user: 'x'.repeat(600) }],
    ['WHERE user_id IN (${user:singlequote})', { user: ALL }],
    ['WHERE $__bogus(x)', {}],
  ];
  it.each(refused)('refuses %s', (s, variables) => {
    expect(() => expandPanelSql(s, { ...base, variables })).toThrow(MacroError);
  });
});

describe('grafanaInterval', () => {
  it('rounds range / maxDataPoints the way Grafana does', () => {
    const day = new Date('2026-11-20T00:00:00Z');
    expect(grafanaInterval(new Date(day.getTime() - 86_400_000), day, 1000)).toBe(60); // 86.4s → 1m
    expect(grafanaInterval(new Date(day.getTime() - 30 * 86_400_000), day, 1000)).toBe(1800); // 43.2min → 30m
    expect(grafanaInterval(new Date(day.getTime() - 3_600_000), day, 1000, 60)).toBe(60);
  });
});
