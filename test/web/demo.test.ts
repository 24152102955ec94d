import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServiceProcess, spawnService } from '../support/service.ts';

/**
 * The first minute: `tokenmeter serve` (the built CLI, as `npm start` runs it) on an empty
 * store sends demo traffic from the real SDKs through the real instrumentation, under tenant
 * `demo`, and the web view's panels show it within a minute.
 */
const KEY = 'demo-test-admin-key-0123456789';
let svc: ServiceProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tm-web-demo-'));
  svc = await spawnService({
    TOKENMETER_DATA_DIR: dataDir,
    TOKENMETER_ADMIN_KEY: KEY,
    TOKENMETER_DEMO: 'true',
    TOKENMETER_DEMO_BURST: '40',
    // The live part alone: test/demo/demo.test.ts covers the history sent before it.
    TOKENMETER_DEMO_HISTORY: 'false',
  });
  await svc.ready();
}, 120_000);

afterAll(async () => {
  await svc?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function json(path: string): Promise<any> {
  const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  return res.json();
}

it('fills the view with tenant demo within a minute', async () => {
  const started = Date.now();
  let calls = 0;
  while (Date.now() - started < 60_000) {
    const res = await fetch(`${svc.url}/api/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: "SELECT count() AS n FROM ai_calls WHERE tenant = 'demo'" }),
    });
    calls = Number(((await res.json()) as { data: { n: string }[] }).data[0]?.n ?? 0);
    if (calls >= 40) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(calls, svc.output()).toBeGreaterThanOrEqual(40);
  // Real SDKs, real instrumentation: several providers and models, priced on the span.
  const res = await fetch(`${svc.url}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      sql: "SELECT uniqExact(provider) AS providers, uniqExact(model) AS models, countIf(cost_source = 'span') AS on_span, any(scope_name) AS scope FROM ai_calls WHERE tenant = 'demo'",
    }),
  });
  const [stats] = ((await res.json()) as { data: Record<string, string | number>[] }).data;
  expect(Number(stats?.providers)).toBeGreaterThanOrEqual(3);
  expect(Number(stats?.models)).toBeGreaterThanOrEqual(4);
  expect(Number(stats?.on_span)).toBeGreaterThan(0);
  // The overview's calls panel, through the web view's own endpoint.
  const dash = await json('/api/v1/dashboards/tokenmeter-overview');
  const panel = (dash.panels as { id: number; title: string }[]).find((p) => p.title === 'Requests and errors');
  const to = Date.now() + 60_000;
  const frame = await json(
    `/api/v1/dashboards/tokenmeter-overview/panels/${panel?.id}/data?from=${to - 3_600_000}&to=${to}&var-tenant=demo`,
  );
  const callsField = (frame.fields as { name: string; values: number[] }[]).find((f) => f.name === 'calls');
  expect(callsField?.values.reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThanOrEqual(40);
}, 90_000);
