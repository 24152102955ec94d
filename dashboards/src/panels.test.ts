import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, rows } from '../../test/support/store.ts';
import { DASHBOARDS } from './all.js';
import { type DashboardSpec, panelsOf } from './dashboard.js';
import { DAY, END, type Fixture, seedFixture } from './fixture.test-support.js';
import { GENERATED_DIR } from './generate.js';
import { ALL, type ExpandOptions, expandAsGrafana, expandPanelSql, grafanaInterval } from './macros.js';
import { type PanelSpec, unitOf } from './panels.js';
import { CHECKS } from './panels.checks.test-support.js';
import { DAY_RANGE, LONG_RANGE, qualifyTables, tablesReadBySelection } from './sql.js';
import { filter, VARIABLE_NAMES, variableQuery } from './variables.js';

type Row = Record<string, unknown>;
let store: Awaited<ReturnType<typeof openTestStore>>;
let fixture: Fixture;

beforeAll(async () => {
  store = await openTestStore('dashboards_panels');
  fixture = await seedFixture(store);
});
afterAll(() => store.close());

const from = new Date(END.getTime() - 7 * DAY);
const allVars = Object.fromEntries(VARIABLE_NAMES.map((name) => [name, [ALL]]));
/** Two selections: everything ("All"), and a narrow one with multi-value variables. */
const SELECTIONS: { name: string; variables: ExpandOptions['variables'] }[] = [
  { name: 'All', variables: allVars },
  {
    name: 'acme, openai+anthropic, alice+bob',
    variables: { ...allVars, tenant: ['acme'], provider: ['openai', 'anthropic'], user: ['alice', 'bob'] },
  },
];

function options(variables: ExpandOptions['variables']): ExpandOptions {
  return { from, to: END, intervalSeconds: grafanaInterval(from, END, 1000), variables };
}

/** Run panel SQL both ways: bound parameters (the web view) and Grafana's spliced text. */
async function runBoth(sql: string, opts: ExpandOptions): Promise<Row[]> {
  const bound = expandPanelSql(sql, opts);
  const viaParams = await rows(store, qualifyTables(bound.sql, store.database), bound.params);
  const viaText = await rows(store, qualifyTables(expandAsGrafana(sql, opts), store.database));
  expect(viaText).toEqual(viaParams);
  return viaParams;
}

function generatedPanel(spec: DashboardSpec, title: string) {
  const json = JSON.parse(readFileSync(join(GENERATED_DIR, `${spec.uid}.json`), 'utf8'));
  const panel = json.panels.find((p: { title: string }) => p.title === title);
  expect(panel, `${spec.uid}: panel "${title}" in generated JSON`).toBeDefined();
  return panel;
}

function close(actual: number, expected: number, tolerance: number) {
  const scale = Math.max(Math.abs(expected), 1e-9);
  expect(Math.abs(actual - expected) / scale, `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

/** What ClickHouse's plan reads for a panel: each ReadFromMergeTree's table or projection. */
async function planReads(sql: string, opts: ExpandOptions): Promise<string[]> {
  const bound = expandPanelSql(sql, opts);
  const plan = await rows<{ explain: string }>(
    store,
    `EXPLAIN ${qualifyTables(bound.sql, store.database)}`,
    bound.params,
  );
  return plan.map((r) => r.explain.match(/ReadFromMergeTree \((\S+)\)/)?.[1]).filter((x) => x !== undefined);
}

describe.each(DASHBOARDS.map((d) => [d.uid, d] as const))('%s', (_uid, spec) => {
  it('every panel has a raw-sum check', () => {
    for (const p of panelsOf(spec)) expect(CHECKS[`${spec.uid} / ${p.title}`], p.title).toBeDefined();
  });

  const panels = panelsOf(spec).map((p) => [p.title, p] as const);
  describe.each(panels)('%s', (title, panel: PanelSpec) => {
    it('ships in the generated JSON with the plugin target shape and its units', () => {
      const json = generatedPanel(spec, title);
      expect(json.datasource).toEqual({ type: 'grafana-clickhouse-datasource', uid: '${datasource}' });
      expect(json.targets).toHaveLength(1);
      expect(json.targets[0]).toMatchObject({ editorType: 'sql', rawSql: panel.sql, queryType: panel.format });
      expect(json.targets[0].format).toBe(panel.format === 'table' ? 1 : 0);
      expect(json.fieldConfig.defaults.unit).toBe(panel.unit);
      for (const [name, unit] of Object.entries(panel.units ?? {})) {
        const o = json.fieldConfig.overrides.find((x: { matcher: { options: string } }) => x.matcher.options === name);
        expect(o?.properties).toEqual([{ id: 'unit', value: unit }]);
        expect(panel.columns).toContain(name);
      }
    });

    it.each(SELECTIONS.map((s) => [s.name, s.variables] as const))(
      'runs on ClickHouse (%s): expected columns, value equals the raw sum',
      async (selection, variables) => {
        const opts = options(variables);
        const result = await runBoth(panel.sql, opts);
        const check = CHECKS[`${spec.uid} / ${title}`];
        if (selection === 'All' || !check?.mayBeEmpty) expect(result.length, 'rows').toBeGreaterThan(0);
        if (result.length > 0) expect(Object.keys(result[0] as Row)).toEqual(panel.columns);
        for (const c of panel.columns)
          expect(['currencyUSD', 'short', 'ms', 'percent', 'dateTimeAsIso', 'none', 'string', 'bytes', 's']).toContain(
            unitOf(panel, c),
          );
        if (!check) return;
        const [raw] = await runBoth(check.raw, opts);
        const expected = Number(raw?.v ?? 0);
        const actual = check.value(result, { intervalSeconds: opts.intervalSeconds });
        if (actual === undefined) {
          expect(selection !== 'All' && check.mayBeEmpty, 'the checked row is missing').toBe(true);
          return;
        }
        close(actual, expected, check.tolerance ?? 1e-9);
        if (selection === 'All') expect(expected, 'the checked value is not trivially 0').not.toBe(0);
      },
    );
  });
});

describe('template variable queries', () => {
  it.each(VARIABLE_NAMES.map((name) => [name] as const))('%s lists values', async (name) => {
    const result = await runBoth(variableQuery(name), options(allVars));
    expect(result.length).toBeGreaterThan(0);
  });

  it('property lists name=value pairs, and filters the property panel', async () => {
    const result = await runBoth(variableQuery('property'), options(allVars));
    expect(result.map((r) => r.property)).toEqual(['arm=a', 'arm=b', 'plan=free', 'plan=pro', 'plan=team']);
    const users = DASHBOARDS.find((d) => d.uid === 'tokenmeter-users') as DashboardSpec;
    const panel = panelsOf(users).find((p) => p.title === 'Spend by custom property') as PanelSpec;
    const only = await runBoth(panel.sql, options({ ...allVars, property: ['plan=pro', 'arm=b'] }));
    expect(only.map((r) => r.property).sort()).toEqual(['arm=b', 'plan=pro']);
  });

  it('model depends on provider', async () => {
    const result = await runBoth(variableQuery('model'), options({ ...allVars, provider: ['google'] }));
    expect(result.map((r) => r.model)).toEqual(['gemini-2.5-flash']);
  });
});

describe('seeded data sanity', () => {
  it('the fixture has the two tenants the selections use', () => {
    expect(fixture.acme.calls).toBeGreaterThan(1000);
    expect(fixture.globex.calls).toBeGreaterThan(100);
  });
});

describe('hostile variable values stay values', () => {
  it('a quote-and-comment value in $user matches no user and changes nothing else', async () => {
    const overview = DASHBOARDS.find((d) => d.uid === 'tokenmeter-overview') as DashboardSpec;
    const panel = panelsOf(overview).find((p) => p.title === 'Cost in range') as PanelSpec;
    const hostile = ["alice') OR 1=1 --", "x' UNION ALL SELECT 1 --", '\\'];
    const bound = expandPanelSql(panel.sql, options({ ...allVars, user: hostile }));
    expect(bound.params.v_user).toEqual(hostile);
    for (const h of hostile) expect(bound.sql).not.toContain(h);
    const [row] = await rows<{ spend: unknown }>(store, qualifyTables(bound.sql, store.database), bound.params);
    expect(Number(row?.spend)).toBe(0);
  });
});

/** The usage tables whose choice matters: what EXPLAIN ESTIMATE says a query reads of them. */
const USAGE_TABLES = ['ai_calls', 'ai_rollup_hourly', 'ai_rollup_daily', 'ai_user_daily', 'ai_user_calls'];

describe('each panel reads the table the README names', () => {
  const SINGLE: { name: 'all' | 'user'; variables: ExpandOptions['variables'] }[] = [
    { name: 'all', variables: allVars },
    { name: 'user', variables: { ...allVars, user: ['alice'] } },
  ];
  const cases = DASHBOARDS.flatMap((d) =>
    panelsOf(d).flatMap((p) =>
      SINGLE.filter((s) => s.name === 'all' || d.variables.includes('user')).map(
        (s) => [`${d.uid} / ${p.title} (${s.name})`, p, s] as const,
      ),
    ),
  );
  it.each(cases)('%s', async (_name, panel, selection) => {
    const bound = expandPanelSql(panel.sql, options(selection.variables));
    const plan = await rows<{ table: string; marks: string }>(
      store,
      `EXPLAIN ESTIMATE ${qualifyTables(bound.sql, store.database)}`,
      bound.params,
    );
    const read = [...new Set(plan.filter((r) => Number(r.marks) > 0).map((r) => r.table))]
      .filter((t) => USAGE_TABLES.includes(t))
      .sort();
    const reads = tablesReadBySelection(panel.sql);
    const declared = reads[selection.name].filter((t) => USAGE_TABLES.includes(t)).sort();
    // Latency and cost series read ai_rollup_daily only over more than 7 days (this range is 7): see below.
    expect(read).toEqual(panel.sql.includes(LONG_RANGE) ? declared.filter((t) => t !== 'ai_rollup_daily') : declared);
  });
});

describe('latency and cost series over more than 7 days: a point per UTC day from ai_rollup_daily', () => {
  const from30 = new Date(END.getTime() - 30 * DAY);
  const opts30 = (variables: ExpandOptions['variables']): ExpandOptions => ({
    from: from30,
    to: END,
    intervalSeconds: grafanaInterval(from30, END, 1000),
    variables,
  });
  const series = DASHBOARDS.flatMap((d) => panelsOf(d)).filter(
    (p) => p.sql.includes(LONG_RANGE) && p.kind === 'timeseries',
  );
  const latency = series.filter((p) => !p.title.startsWith('Cost by'));
  it("the long-range series are latency, cost by provider, model and service; Models in range's p95 column is not a series", () => {
    expect(series.map((p) => p.title).sort()).toEqual([
      'Cost by model',
      'Cost by provider',
      'Cost by service',
      'Latency p50 / p95',
      'p95 latency by provider',
    ]);
    const others = DASHBOARDS.flatMap((d) => panelsOf(d)).filter(
      (p) => p.sql.includes(LONG_RANGE) && p.kind !== 'timeseries',
    );
    expect(others.map((p) => p.title)).toEqual([]);
    // Its p95 column (no points to lose) takes the days' states over more than a day.
    const models = DASHBOARDS.flatMap((d) => panelsOf(d)).find((p) => p.title === 'Models in range') as PanelSpec;
    expect(models.sql).toContain(DAY_RANGE);
  });
  it("Models in range: sums by the hour, p95 from the days' by_model_day states", async () => {
    const panel = DASHBOARDS.flatMap((d) => panelsOf(d)).find((p) => p.title === 'Models in range') as PanelSpec;
    const read = await planReads(panel.sql, opts30(allVars));
    expect(read).toContain('by_model_day');
    expect(read).toContain('by_model_hour');
    const result = await runBoth(panel.sql, opts30(allVars));
    const exact = await runBoth(
      `SELECT provider, model, quantileExact(0.95)(duration_ms) AS p95, sum(cost_usd) AS cost
       FROM ai_calls WHERE $__dateFilter(toDate(timestamp)) AND ${filter()} GROUP BY provider, model`,
      opts30(allVars),
    );
    expect(result.length).toBe(exact.length);
    for (const e of exact) {
      const r = result.find((x) => x.provider === e.provider && x.model === e.model) as Row;
      close(Number(r.p95_ms), Number(e.p95), 0.1);
    }
  });
  it.each(latency.map((p) => [p.title, p] as const))('%s', async (_title, panel) => {
    // The overall series merges by_day's states (one per tenant and day, 048), per provider by_model_day's.
    expect(await planReads(panel.sql, opts30(allVars))).toContain(
      panel.title === 'Latency p50 / p95' ? 'by_day' : 'by_model_day',
    );
    const bound = expandPanelSql(panel.sql, opts30(allVars));
    const sql = qualifyTables(bound.sql, store.database);
    const estimate = await rows<{ table: string; marks: string }>(store, `EXPLAIN ESTIMATE ${sql}`, bound.params);
    expect([...new Set(estimate.filter((r) => Number(r.marks) > 0).map((r) => r.table))]).toEqual(['ai_rollup_daily']);
    // One point per UTC day (per provider), and each p95 near the exact p95 of the day's raw calls.
    const result = await runBoth(panel.sql, opts30(allVars));
    const exact = await runBoth(
      `SELECT toDateTime(toDate(timestamp), 'UTC') AS time, ${panel.title.startsWith('p95') ? 'provider' : "'' AS provider"},
         quantileExact(0.95)(duration_ms) AS p95
       FROM ai_calls WHERE $__dateFilter(toDate(timestamp)) AND ${filter()}
       GROUP BY time, provider ORDER BY time, provider`,
      opts30(allVars),
    );
    expect(result.length).toBe(exact.length);
    result.forEach((r, i) => {
      const e = exact[i] as Row;
      expect(r.time).toBe(e.time);
      close(Number(r.p95_ms), Number(e.p95), 0.1);
    });
  });
  it.each(series.filter((p) => p.title.startsWith('Cost by')).map((p) => [p.title, p] as const))(
    '%s: a point per UTC day from ai_rollup_daily, equal to the raw sums of whole days',
    async (title, panel) => {
      const bound = expandPanelSql(panel.sql, opts30(allVars));
      const sql = qualifyTables(bound.sql, store.database);
      const estimate = await rows<{ table: string; marks: string }>(store, `EXPLAIN ESTIMATE ${sql}`, bound.params);
      expect([...new Set(estimate.filter((r) => Number(r.marks) > 0).map((r) => r.table))]).toEqual([
        'ai_rollup_daily',
      ]);
      const column = title.replace('Cost by ', '');
      const result = await runBoth(panel.sql, opts30(allVars));
      const exact = await runBoth(
        `SELECT toDateTime(toDate(timestamp), 'UTC') AS time, ${column}, sum(ifNull(cost_usd, toDecimal128(0, 12))) AS cost
         FROM ai_calls WHERE $__dateFilter(toDate(timestamp)) AND ${filter()}
         GROUP BY time, ${column} ORDER BY time, ${column}`,
        opts30(allVars),
      );
      expect(result.length).toBe(exact.length);
      result.forEach((r, i) => {
        const e = exact[i] as Row;
        expect([r.time, r[column]]).toEqual([e.time, e[column]]);
        close(Number(r.cost), Number(e.cost), 1e-9);
      });
    },
  );
});

describe('custom properties: "All" from the property projection of ai_calls, users chosen from ai_user_calls', () => {
  const users = () => DASHBOARDS.find((d) => d.uid === 'tokenmeter-users') as DashboardSpec;
  const panel = () => panelsOf(users()).find((p) => p.title === 'Spend by custom property') as PanelSpec;
  /** The tables EXPLAIN ESTIMATE says the panel reads marks of (the other $user branch folds away). */
  const marksRead = async (variables: ExpandOptions['variables']) => {
    const bound = expandPanelSql(panel().sql, options(variables));
    const plan = await rows<{ table: string; marks: string }>(
      store,
      `EXPLAIN ESTIMATE ${qualifyTables(bound.sql, store.database)}`,
      bound.params,
    );
    return plan.filter((r) => Number(r.marks) > 0).map((r) => r.table);
  };
  it('All: by_property_day, never the calls', async () => {
    const read = await planReads(panel().sql, options(allVars));
    expect(read).toContain('by_property_day');
    expect(read).not.toContain(`${store.database}.ai_calls`);
    expect(await marksRead(allVars)).toEqual(['ai_calls']);
  });
  it("one user: that user's calls in ai_user_calls, nothing of ai_calls", async () => {
    expect(await marksRead({ ...allVars, user: ['alice'] })).toEqual(['ai_user_calls']);
  });
  it('a service chosen reads the calls themselves (no projection holds services)', async () => {
    const read = await planReads(panel().sql, options({ ...allVars, service: ['chat-api'] }));
    expect(read).toContain(`${store.database}.ai_calls`);
    expect(read.filter((r) => r.startsWith('by_'))).toEqual([]);
  });
  it('the $property options read by_property_day', async () => {
    expect(await planReads(variableQuery('property'), options(allVars))).toEqual(['by_property_day']);
  });
});

describe('panels about every user read the projections of ai_user_daily', () => {
  // On a store this small several projections read as few marks, and ClickHouse may take any
  // of them: each read must be one of the panel's projections, never the table's rows.
  it.each([
    ['Top spenders', ['by_user_day_total', 'by_user_day_sums', 'by_user_day']],
    [
      'Per user: today, month, all time',
      ['by_user_team', 'by_user_month_sums', 'by_user_day_total', 'by_user_day_sums', 'by_user_day'],
    ],
    ['Teams', ['by_team_day_hll']],
  ])('%s: %s', async (title, projections) => {
    const users = DASHBOARDS.find((d) => d.uid === 'tokenmeter-users') as DashboardSpec;
    const panel = panelsOf(users).find((p) => p.title === title) as PanelSpec;
    const read = await planReads(panel.sql, options(allVars));
    expect(read.length).toBeGreaterThan(0);
    for (const name of read) expect(projections).toContain(name);
  });
});

describe('"All" panels about providers, models, services or teams read a projection of ai_rollup_hourly', () => {
  const PROJECTION: Record<string, string> = {
    'tokenmeter-overview / Cost by provider': 'by_model_hour',
    'tokenmeter-overview / Cost by model': 'by_model_hour',
    'tokenmeter-overview / Cost by service': 'by_service_hour',
    'tokenmeter-overview / Tokens by kind': 'by_model_hour',
    'tokenmeter-overview / Requests and errors': 'by_model_hour',
    // by_hour (036) on a store of any size; on this one by_model_hour reads as few marks and may be taken.
    'tokenmeter-overview / Latency p50 / p95': 'by_hour|by_model_hour',
    'tokenmeter-overview / Savings from cache reads': 'by_model_hour',
    'tokenmeter-models / Models in range': 'by_model_hour',
    'tokenmeter-models / Cost share by provider': 'by_model_hour',
    'tokenmeter-models / Calls by model': 'by_model_hour',
    'tokenmeter-models / p95 latency by provider': 'by_model_hour',
    'tokenmeter-models / Unpriced models seen': 'by_model_hour',
    'tokenmeter-users / Spend by team': 'by_service_hour',
  };
  const panels = DASHBOARDS.flatMap((d) => panelsOf(d).map((p) => [`${d.uid} / ${p.title}`, p] as const));
  it.each(Object.entries(PROJECTION))('%s: %s', async (name, projection) => {
    const panel = panels.find(([n]) => n === name)?.[1] as PanelSpec;
    // Models in range reads hourly t-digests only over a day or less (its p95 column, DAY_RANGE):
    // over 7 days that branch folds to false and plans the bare table, reading no granule.
    const day = new Date(END.getTime() - DAY);
    const opts = name.endsWith('/ Models in range')
      ? { ...options(allVars), from: day, intervalSeconds: grafanaInterval(day, END, 1000) }
      : options(allVars);
    const read = await planReads(panel.sql, opts);
    // The per-user branch's table is in the plan too; it reads no granule with $user "All".
    expect(
      read.some((r) => projection.split('|').includes(r)),
      `${read} has ${projection}`,
    ).toBe(true);
    expect(read).not.toContain(`${store.database}.ai_rollup_hourly`);
  });
});
