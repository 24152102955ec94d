import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';
import { type ClickHouseHttpHarness, startClickHouseHttp } from '../support/clickhouse-http.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { exportChunk, exporterFor, makeCallSpans, storedCalls } from '../support/spans.ts';

/**
 * Acceptance (issue 18): /readyz stays ready while a ClickHouse outage is shorter than
 * TOKENMETER_READY_MAX_FAILING_MS (the spool takes the data), says not ready with the reason
 * once writes have failed for longer, and is ready again once they go through. The
 * production path: the service talks HTTP to ClickHouse (the chdb HTTP test harness) through
 * the TCP fault proxy.
 */
const ADMIN = 'readyz-bootstrap-key';
const BOUND_MS = 1500;
let dir: string;
let harness: ClickHouseHttpHarness;
let proxy: FaultProxy;
let running: Running;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-readyz-'));
  harness = await startClickHouseHttp({ dataDir: join(dir, 'clickhouse') });
  proxy = await FaultProxy.start({ port: harness.port });
  running = await startServer(
    readConfig({
      CLICKHOUSE_URL: proxy.url,
      CLICKHOUSE_DATABASE: 'readyz',
      TOKENMETER_DATA_DIR: join(dir, 'service'),
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_BATCH_MAX_DELAY_MS: '20',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      TOKENMETER_EVALUATE_INTERVAL_MS: '0',
      TOKENMETER_READY_MAX_FAILING_MS: String(BOUND_MS),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
    }),
  );
});

afterAll(async () => {
  await running?.close();
  await proxy?.close();
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readyz(): Promise<{ status: number; reason?: string; atMs: number }> {
  const res = await fetch(`${running.url}/readyz`);
  const body = (await res.json()) as { reason?: string };
  return { status: res.status, reason: body.reason, atMs: Date.now() };
}

describe('/readyz while ClickHouse writes fail', () => {
  it('is ready (spooling) within the bound, not ready past it with the reason, ready after recovery', async () => {
    const { key } = await running.keyStore.create({ tenant: 'acme', role: 'ingest', name: 'readyz' }, 'test');
    const exporter = exporterFor(running.url, key);
    expect((await readyz()).status).toBe(200);

    await proxy.set('refuse');
    const outageAt = Date.now();
    // Acknowledged from the spool while ClickHouse is away.
    expect(await exportChunk(exporter, makeCallSpans({ run: 71, from: 0, count: 50, startMs: Date.now() }).spans)).toBe(
      true,
    );
    const seen: Awaited<ReturnType<typeof readyz>>[] = [];
    while (Date.now() - outageAt < BOUND_MS + 3000) {
      seen.push(await readyz());
      await sleep(100);
    }
    const early = seen.filter((s) => s.atMs - outageAt < BOUND_MS - 300);
    expect(early.length).toBeGreaterThan(0);
    expect(early.every((s) => s.status === 200)).toBe(true);
    const late = seen.filter((s) => s.atMs - outageAt > BOUND_MS + 1500);
    expect(late.length).toBeGreaterThan(0);
    for (const s of late) {
      expect(s.status).toBe(503);
      expect(s.reason).toMatch(/^ClickHouse writes failing for \d+ s \(bound 1500 ms\): /);
    }

    await proxy.set('pass');
    const recoveredAt = Date.now();
    let last = await readyz();
    while (last.status !== 200 && Date.now() - recoveredAt < 20_000) {
      await sleep(100);
      last = await readyz();
    }
    expect(last.status).toBe(200);
    // The drainer's backoff is at most 5 s: the first insert after recovery clears the state.
    expect(Date.now() - recoveredAt).toBeLessThan(7000);
    const stored = await storedCalls(running.url, ADMIN, 'acme');
    expect(stored.count).toBe(50);
    console.log(
      JSON.stringify({
        readyz: { boundMs: BOUND_MS, notReadySamples: late.length, readyAfterMs: Date.now() - recoveredAt },
      }),
    );
  }, 120_000);
});
