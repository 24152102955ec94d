import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS } from '../../dashboards/src/all.ts';
import { panelsOf } from '../../dashboards/src/dashboard.ts';
import { ALL, expandAsGrafana, grafanaInterval } from '../../dashboards/src/macros.ts';
import { qualifyTables } from '../../dashboards/src/sql.ts';
import { FILTER_VARIABLES } from '../../dashboards/src/variables.ts';
import { type ServiceProcess, spawnService } from '../support/service.ts';
import { exportChunk, exporterFor, makeCallSpans, querySql } from '../support/spans.ts';

/**
 * The dashboards on data that went the real way: spans made by the OpenTelemetry SDK,
 * sent by the real OTLP/HTTP exporter with an ingest key to a running tokenmeter, priced
 * and written by the service. The overview's panels, as Grafana would send them, then
 * show exactly what was sent. Needs `npm run build` (it runs ingest/dist).
 */
const ADMIN = 'panels-e2e-bootstrap-key';
const COUNT = 400;
const overview = DASHBOARDS.find((d) => d.uid === 'tokenmeter-overview');
const panel = (title: string) => {
  const p = overview && panelsOf(overview).find((x) => x.title === title);
  if (!p) throw new Error(`no overview panel ${title}`);
  return p;
};

describe('overview panels over spans sent through the running service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-panels-e2e-'));
  let service: ServiceProcess;
  let made: ReturnType<typeof makeCallSpans>;
  const to = new Date(Date.now() + 3_600_000);
  const from = new Date(Date.now() - 3 * 3_600_000);
  const variables = Object.fromEntries(FILTER_VARIABLES.map((v) => [v.name, [ALL]]));
  const run = async (sql: string) =>
    querySql<Record<string, unknown>>(
      service.url,
      ADMIN,
      qualifyTables(
        expandAsGrafana(sql, { from, to, intervalSeconds: grafanaInterval(from, to), variables }),
        'tokenmeter',
      ),
    );

  beforeAll(async () => {
    service = await spawnService({
      TOKENMETER_DATA_DIR: dir,
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_BATCH_MAX_DELAY_MS: '20',
    });
    await service.ready();
    const created = await fetch(`${service.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', role: 'ingest', name: 'panels-e2e' }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    made = makeCallSpans({ run: 42, from: 0, count: COUNT, service: 'e2e-app' });
    const exporter = exporterFor(service.url, key);
    for (let i = 0; i < made.spans.length; i += 100) {
      expect(await exportChunk(exporter, made.spans.slice(i, i + 100))).toBe(true);
    }
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Requests and errors counts every call sent', async () => {
    const rows = await run(panel('Requests and errors').sql);
    expect(rows.reduce((a, r) => a + Number(r.calls), 0)).toBe(COUNT);
  });

  it('Tokens by kind adds up to the tokens sent', async () => {
    const rows = await run(panel('Tokens by kind').sql);
    const sum = (c: string) => rows.reduce((a, r) => a + Number(r[c]), 0);
    expect(sum('input_uncached') + sum('cache_read') + sum('cache_write')).toBe(made.inputTokens);
    expect(sum('output_visible') + sum('reasoning')).toBe(made.outputTokens);
  });

  it('Cost in range equals the cost the service stored per call, and is not zero', async () => {
    const [shown] = await run(panel('Cost in range').sql);
    const [raw] = await querySql<{ v: string }>(
      service.url,
      ADMIN,
      'SELECT toString(sum(cost_usd)) AS v, count() AS n FROM tokenmeter.ai_calls',
    );
    expect(Number(shown?.spend)).toBeCloseTo(Number(raw?.v), 9);
    expect(Number(raw?.v)).toBeGreaterThan(0);
  });

  it('Cost by service shows the sending service', async () => {
    const rows = await run(panel('Cost by service').sql);
    expect(new Set(rows.map((r) => r.service))).toEqual(new Set(['e2e-app']));
  });
});
