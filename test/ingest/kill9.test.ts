import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClickHouseHttpHarness, startClickHouseHttp } from '../support/clickhouse-http.ts';
import { type ServiceProcess, spawnService } from '../support/service.ts';
import {
  chunks,
  exportChunk,
  exporterFor,
  makeCallSpans,
  metricValue,
  pool,
  spanIdOf,
  storedCalls,
} from '../support/spans.ts';

/**
 * Acceptance: kill -9 in the middle of a load sent by the real OTLP exporter, restart,
 * and every span that got a 200 is in ai_calls exactly once, rollups equal raw sums.
 * The suite runs TM_KILL9_SPANS (default 20,000) with two kills; `bench/durability`
 * runs the acceptance size (100,000). Needs `npm run build` (it runs ingest/dist).
 */
const SPANS = Number(process.env.TM_KILL9_SPANS ?? 20_000);
/** The same over HTTP to ClickHouse (the chdb HTTP test harness in this process), the production path. */
const HTTP_SPANS = Number(process.env.TM_KILL9_HTTP_SPANS ?? 5_000);
const KILLS = Number(process.env.TM_KILL9_KILLS ?? 2);
const CHUNK = 200;
const ADMIN = 'kill9-bootstrap-key';

describe('kill -9 under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-kill9-'));
  let service: ServiceProcess | undefined;
  let harness: ClickHouseHttpHarness | undefined;
  afterAll(async () => {
    await service?.stop();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged span of ${SPANS} exactly once across ${KILLS} SIGKILLs (embedded ClickHouse)`, async () => {
    await killUnderLoad(SPANS, {});
  }, 900_000);

  it(`keeps every acknowledged span of ${HTTP_SPANS} exactly once across ${KILLS} SIGKILLs (ClickHouse over HTTP)`, async () => {
    harness = await startClickHouseHttp({ dataDir: join(dir, 'clickhouse-http') });
    await killUnderLoad(HTTP_SPANS, { CLICKHOUSE_URL: harness.url, CLICKHOUSE_DATABASE: 'kill9http' }, 'http');
    await service?.stop();
    service = undefined;
  }, 900_000);

  async function killUnderLoad(SPANS: number, extra: Record<string, string>, name = 'embedded'): Promise<void> {
    const env = {
      ...extra,
      TOKENMETER_DATA_DIR: join(dir, name),
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_BATCH_MAX_DELAY_MS: '50',
      TOKENMETER_RATE_LIMIT_RPS: '0',
    };
    service = await spawnService(env);
    await service.ready();
    const port = service.port;
    const created = await fetch(`${service.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', role: 'ingest', name: 'loadgen' }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };

    const made = makeCallSpans({ run: 7, from: 0, count: SPANS });
    const parts = chunks(made.spans, CHUNK);
    const exporters = Array.from({ length: 4 }, () => exporterFor(service!.url, key, 15_000));
    const acked = new Array<boolean>(parts.length).fill(false);
    let ackedCount = 0;
    const killAt = Array.from({ length: KILLS }, (_, k) => Math.floor((parts.length * (k + 1)) / (KILLS + 1)));
    let kills = 0;
    let restarting: Promise<void> | undefined;
    const started = performance.now();

    await pool(parts, 8, async (spans, i) => {
      await restarting;
      const ok = await exportChunk(exporters[i % exporters.length]!, spans);
      acked[i] = ok;
      if (ok) ackedCount++;
      if (kills < KILLS && ackedCount >= killAt[kills]! && !restarting) {
        kills++;
        restarting = (async () => {
          await service!.kill9();
          service = await spawnService(env, port);
          await service.ready();
          restarting = undefined;
        })();
      }
    });
    await restarting;
    const firstPass = acked.filter(Boolean).length;

    // Client retries for what was never acknowledged (lost in a kill): must not double anything.
    const missing = acked.flatMap((ok, i) => (ok ? [] : [i]));
    for (let attempt = 0; attempt < 5 && missing.length > 0; attempt++) {
      const still: number[] = [];
      await pool(missing, 4, async (i) => {
        if (await exportChunk(exporters[0]!, parts[i]!)) acked[i] = true;
        else still.push(i);
      });
      missing.splice(0, missing.length, ...still);
    }
    expect(missing, service.output()).toEqual([]);

    // The spool drains into ClickHouse.
    const deadline = Date.now() + 60_000;
    while ((await metricValue(service.url, ADMIN, 'tokenmeter_spool_records')) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - started) / 1000;

    const stored = await storedCalls(service.url, ADMIN, 'acme');
    // Every span acknowledged (all of them, after the retries) is there exactly once.
    expect(stored.count).toBe(SPANS);
    expect(stored.unique).toBe(SPANS);
    for (let n = 0; n < SPANS; n++) expect(stored.ids.has(spanIdOf(7, n))).toBe(true);
    expect(stored.input).toBe(made.inputTokens);
    expect(stored.output).toBe(made.outputTokens);
    // Rollups equal the raw sums.
    for (const rollup of [stored.hourly, stored.daily]) {
      expect(Number(rollup.n)).toBe(SPANS);
      expect(Number(rollup.input)).toBe(made.inputTokens);
      expect(Number(rollup.output)).toBe(made.outputTokens);
      expect(rollup.cost).toBe(stored.cost);
    }
    // The tenant came from the key, not from the span's forged tokenmeter.tenant.
    const forged = await storedCalls(service.url, ADMIN, 'forged');
    expect(forged.count).toBe(0);
    console.log(
      JSON.stringify({
        kill9: {
          store: name,
          spans: SPANS,
          kills,
          chunksAckedFirstPass: firstPass,
          chunksRetried: parts.length - firstPass,
          seconds: Number(seconds.toFixed(1)),
          storedOnce: stored.unique,
          costUsd: stored.cost,
        },
      }),
    );
    if (name === 'embedded') {
      await service.stop();
      service = undefined;
    }
  }
});
