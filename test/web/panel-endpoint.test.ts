import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCalls } from '../support/seed.ts';
import { ADMIN_KEY, createKey, startWebService } from './support.ts';

/**
 * The panel endpoint takes a dashboard uid, a panel id, variables and a time range — never
 * SQL. Unknown dashboards and panels, and variable values that try to inject SQL, are
 * refused with a 4xx before anything runs: the service's own count of the queries the web
 * view ran on ClickHouse does not move.
 */
type Svc = Awaited<ReturnType<typeof startWebService>>;
let svc: Svc;
let to: number;
let from: number;
let acmeRead: string;
let userKey: string;
/** Panel ids looked up by title: `Cost in range` (overview) and the pipeline's first panel. */
let COST = 0;
let PIPE = 0;

beforeAll(async () => {
  svc = await startWebService('endpoint');
  const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  await seedCalls(svc.store, { tenant: 'acme', days: 2, end, callsPerHour: 6, seed: 3 });
  await seedCalls(svc.store, { tenant: 'globex', days: 2, end, callsPerHour: 6, seed: 4 });
  acmeRead = await createKey(svc, 'acme', 'read');
  userKey = await createKey(svc, 'acme', 'user');
  to = Date.now();
  from = to - 3 * 86_400_000;
  const ids = async (uid: string) =>
    ((await get(`/api/v1/dashboards/${uid}`)).body.panels as { id: number; title: string }[]) ?? [];
  COST = (await ids('tokenmeter-overview')).find((p) => p.title === 'Cost in range')?.id ?? -1;
  PIPE = (await ids('tokenmeter-pipeline'))[0]?.id ?? -1;
}, 120_000);

afterAll(async () => {
  await svc?.close();
});

/** Queries the web view has run on ClickHouse so far (tokenmeter_web_queries_total, every label). */
async function queriesRun(): Promise<number> {
  const res = await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const text = await res.text();
  return [...text.matchAll(/^tokenmeter_web_queries_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

async function get(path: string, key = ADMIN_KEY): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const panelPath = (panel: string | number, extra = '', uid = 'tokenmeter-overview') =>
  `/api/v1/dashboards/${uid}/panels/${panel}/data?from=${from}&to=${to}${extra}`;
const v = (name: string, value: string) => `&var-${name}=${encodeURIComponent(value)}`;

describe('panel endpoint', () => {
  it('runs a known panel once, with its variables bound (and counts the query it ran)', async () => {
    const before = await queriesRun();
    const all = await get(panelPath(COST));
    expect(all.status).toBe(200);
    const one = await get(panelPath(COST, v('model', 'gpt-4o') + v('model', 'gpt-4o-mini')));
    expect(one.status).toBe(200);
    const spend = (b: Record<string, unknown>) => (b.fields as { values: number[] }[])[0]?.values[0] ?? 0;
    expect(spend(all.body)).toBeGreaterThan(spend(one.body));
    expect(spend(one.body)).toBeGreaterThan(0);
    expect(await queriesRun()).toBe(before + 2);
  });

  const hostile: [string, () => string, number][] = [
    ['unknown dashboard', () => '/api/v1/dashboards/nope/panels/1/data?from=1&to=2', 404],
    ['unknown dashboard (path tricks)', () => `/api/v1/dashboards/..%2F..%2Fetc/panels/1/data?from=${1}&to=2`, 404],
    ['unknown panel', () => panelPath(999), 404],
    ['panel id that is not a number', () => panelPath('1%3B%20DROP%20TABLE%20ai_calls'), 404],
    ['quote and OR', () => panelPath(COST, v('model', "x' OR '1'='1")), 400],
    ['closing the IN list', () => panelPath(COST, v('model', "gpt-4o') OR 1=1 --")), 400],
    ['UNION SELECT', () => panelPath(COST, v('model', "') UNION SELECT name FROM system.tables --")), 400],
    ['statement separator', () => panelPath(COST, v('tenant', 'acme; DROP TABLE ai_calls')), 400],
    ['a query-parameter placeholder', () => panelPath(COST, v('model', '{v_tenant:String}')), 400],
    ['a macro', () => panelPath(COST, v('model', '$__timeFilter(hour)')), 400],
    ['a variable reference', () => panelPath(COST, v('service', '${tenant}')), 400],
    ['backslash escape', () => panelPath(COST, v('model', "gpt\\' OR 1=1")), 400],
    ['comment opener', () => panelPath(COST, v('feature', '/* x */')), 400],
    ['line comment', () => panelPath(COST, v('feature', '-- x')), 400],
    ['NUL byte', () => panelPath(COST, '&var-user=a%00b'), 400],
    ['newline', () => panelPath(COST, '&var-user=a%0Ab'), 400],
    ['empty value', () => panelPath(COST, '&var-user='), 400],
    ['300 characters', () => panelPath(COST, v('user', 'a'.repeat(300))), 400],
    ['201 values', () => panelPath(COST, Array.from({ length: 201 }, (_, i) => v('user', `u${i}`)).join('')), 400],
    ['a variable the dashboard does not have', () => panelPath(COST, v('evil', 'x')), 400],
    ['a variable on a dashboard without it', () => panelPath(PIPE, v('model', 'gpt-4o'), 'tokenmeter-pipeline'), 400],
    ['from after to', () => `/api/v1/dashboards/tokenmeter-overview/panels/${COST}/data?from=${to}&to=${from}`, 400],
    ['from not a number', () => `/api/v1/dashboards/tokenmeter-overview/panels/${COST}/data?from=now-7d&to=${to}`, 400],
    [
      'SQL as the range',
      () => `/api/v1/dashboards/tokenmeter-overview/panels/${COST}/data?from=1)%20OR%20(1&to=${to}`,
      400,
    ],
    [
      'a range of 1000 days',
      () => `/api/v1/dashboards/tokenmeter-overview/panels/${COST}/data?from=${to - 1000 * 86_400_000}&to=${to}`,
      400,
    ],
    ['maxDataPoints out of bounds', () => panelPath(COST, '&maxDataPoints=0'), 400],
    ['range given twice', () => `${panelPath(COST)}&from=1`, 400],
  ];

  it.each(hostile)('refuses %s with a 4xx and runs nothing', async (_name, path, status) => {
    const before = await queriesRun();
    const res = await get(path());
    expect(res.status).toBe(status);
    expect(String(res.body.error)).not.toBe('');
    expect(await queriesRun()).toBe(before);
  });

  it('the dashboard endpoint streams one line per panel, each equal to the panel endpoint', async () => {
    const dash = await get('/api/v1/dashboards/tokenmeter-overview');
    const ids = (dash.body.panels as { id: number }[]).map((p) => p.id);
    const before = await queriesRun();
    const res = await fetch(
      `${svc.url}/api/v1/dashboards/tokenmeter-overview/data?from=${from}&to=${to}${ids.map((i) => `&panel=${i}&mdp-${i}=800`).join('')}${v('model', 'gpt-4o')}`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; frame: unknown });
    expect(lines.map((l) => l.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(await queriesRun()).toBe(before + ids.length);
    const cost = lines.find((l) => l.id === COST);
    expect(cost?.frame).toEqual((await get(panelPath(COST, v('model', 'gpt-4o')))).body);
  });

  it.each([
    ['an unknown panel among known ones', () => `&panel=${COST}&panel=999`, ADMIN_KEY, 404],
    ['no panel', () => '', ADMIN_KEY, 400],
    ['a hostile value', () => `&panel=${COST}${v('model', "x') OR 1=1 --")}`, ADMIN_KEY, 400],
    ['a hostile maxDataPoints', () => `&panel=${COST}&mdp-${COST}=1%3B`, ADMIN_KEY, 400],
    ['a money panel for a user key', () => `&panel=${COST}`, 'user', 403],
  ])('the dashboard endpoint refuses %s before running anything', async (_name, extra, key, status) => {
    const before = await queriesRun();
    const res = await get(
      `/api/v1/dashboards/tokenmeter-overview/data?from=${from}&to=${to}${extra()}`,
      key === 'user' ? userKey : key,
    );
    expect(res.status).toBe(status);
    expect(await queriesRun()).toBe(before);
  });

  it.each([
    ['a hostile value', () => `${v('tenant', "acme' OR 1=1 --")}`, 400],
    ['an unknown variable', () => `${v('evil', 'x')}`, 400],
  ])('the variable options endpoint refuses %s before running anything', async (_name, extra, status) => {
    const before = await queriesRun();
    const res = await get(
      `/api/v1/dashboards/tokenmeter-overview/variables/model/options?from=${from}&to=${to}${extra()}`,
    );
    expect(res.status).toBe(status);
    expect(await queriesRun()).toBe(before);
    expect(
      (await get(`/api/v1/dashboards/tokenmeter-overview/variables/nope/options?from=${from}&to=${to}`)).status,
    ).toBe(404);
    expect(await queriesRun()).toBe(before);
  });

  it('a tenant key sees its tenant only: other tenants refused, All forced to its own', async () => {
    const before = await queriesRun();
    expect((await get(panelPath(COST, v('tenant', 'globex')), acmeRead)).status).toBe(403);
    expect((await get(panelPath(COST, v('tenant', 'acme') + v('tenant', 'globex')), acmeRead)).status).toBe(403);
    expect((await get(panelPath(PIPE, '', 'tokenmeter-pipeline'), acmeRead)).status).toBe(403); // every tenant's counters
    expect(await queriesRun()).toBe(before);
    const mine = await get(panelPath(COST), acmeRead);
    const acme = await get(panelPath(COST, v('tenant', 'acme')));
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual(acme.body);
    const options = await get(
      `/api/v1/dashboards/tokenmeter-overview/variables/tenant/options?from=${from}&to=${to}`,
      acmeRead,
    );
    expect(options.body).toEqual({ values: ['acme'] });
    const admin = await get(`/api/v1/dashboards/tokenmeter-overview/variables/tenant/options?from=${from}&to=${to}`);
    expect(admin.body).toEqual({ values: ['acme', 'globex'] });
  });

  it('a user key gets no money panel, and tables without their money columns', async () => {
    expect((await get(panelPath(COST), userKey)).status).toBe(403);
    const list = await get('/api/v1/dashboards/tokenmeter-models', userKey);
    const titles = (list.body.panels as { title: string }[]).map((p) => p.title);
    expect(titles).not.toContain('Cost share by provider');
    expect(titles).toContain('Models in range');
    const id = (list.body.panels as { id: number; title: string }[]).find((p) => p.title === 'Models in range')?.id;
    const table = await get(panelPath(id as number, '', 'tokenmeter-models'), userKey);
    const columns = (table.body.fields as { name: string }[]).map((f) => f.name);
    expect(columns).toContain('calls');
    expect(columns).not.toContain('cost');
    expect(columns).not.toContain('cost_per_call');
    expect(JSON.stringify(list.body)).not.toMatch(/rawSql|SELECT/);
  });

  it('no key is 401, a wrong key 401, an ingest key 403', async () => {
    expect((await fetch(`${svc.url}${panelPath(COST)}`)).status).toBe(401);
    expect((await get(panelPath(COST), 'wrong-key')).status).toBe(401);
    expect((await get(panelPath(COST), await createKey(svc, 'acme', 'ingest'))).status).toBe(403);
  });

  it('the calls and one-call endpoints are tenant-scoped and check their ids', async () => {
    const list = await get(`/api/v1/calls?from=${from}&to=${to}&model=gpt-4o`, acmeRead);
    expect(list.status).toBe(200);
    const fields = list.body.fields as { name: string; values: string[] }[];
    const col = (n: string) => fields.find((f) => f.name === n)?.values ?? [];
    expect(new Set(col('tenant'))).toEqual(new Set(['acme']));
    expect(new Set(col('model'))).toEqual(new Set(['gpt-4o']));
    const call = await get(`/api/v1/calls/${col('trace_id')[0]}/${col('span_id')[0]}`, acmeRead);
    expect(call.status).toBe(200);
    expect((call.body.call as { tenant: string }).tenant).toBe('acme');
    const other = await get(`/api/v1/calls?from=${from}&to=${to}&tenant=globex`);
    const globex = other.body.fields as { name: string; values: string[] }[];
    const g = (n: string) => globex.find((f) => f.name === n)?.values[0];
    expect((await get(`/api/v1/calls/${g('trace_id')}/${g('span_id')}`, acmeRead)).status).toBe(404);
    expect((await get(`/api/v1/calls/${g('trace_id')}/${g('span_id')}`, userKey)).body).toEqual({
      error: 'no such call',
    });
    expect((await get(`/api/v1/calls/xyz/abc`, acmeRead)).status).toBe(400);
    const mine = await get(`/api/v1/calls/${col('trace_id')[0]}/${col('span_id')[0]}`, userKey);
    expect(Object.keys(mine.body.call as object)).not.toContain('cost_usd');
  });
});
