import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';
import { type ClickHouseHttpHarness, startClickHouseHttp } from '../support/clickhouse-http.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { exportChunk, exporterFor, makeCallSpans, spanIdOf, storedCalls } from '../support/spans.ts';

/**
 * Acceptance: ClickHouse unreachable under load, on the production path (the service
 * talks HTTP to ClickHouse: here the chdb HTTP test harness behind the TCP fault proxy).
 * The suite runs TM_OUTAGE_MS (default 10 s: half refused connections, 40 % stalled,
 * 10 % cut answers); TM_OUTAGE_MS=60000 is the acceptance size (bench/durability).
 */
const OUTAGE_MS = Number(process.env.TM_OUTAGE_MS ?? 10_000);
const ADMIN = 'outage-bootstrap-key';
const PACE_MS = Number(process.env.TM_OUTAGE_PACE_MS ?? 400);

let dir: string;
let harness: ClickHouseHttpHarness;
let proxy: FaultProxy;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-outage-'));
  harness = await startClickHouseHttp({ dataDir: join(dir, 'clickhouse') });
  proxy = await FaultProxy.start({ port: harness.port });
});

afterAll(async () => {
  await proxy?.close();
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function service(name: string, extra: Record<string, string> = {}): Promise<Running> {
  return startServer(
    readConfig({
      CLICKHOUSE_URL: proxy.url,
      CLICKHOUSE_DATABASE: name,
      TOKENMETER_DATA_DIR: join(dir, name),
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_BATCH_MAX_DELAY_MS: '50',
      TOKENMETER_RATE_LIMIT_RPS: '0',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: process.env.TM_LOG_LEVEL ?? 'error',
      ...extra,
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function drained(running: Running, timeoutMs = 600_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if ((await running.metrics.spoolRecords.get()).values[0]?.value === 0 && !running.writer.isDegraded) {
      return Date.now() - started;
    }
    await sleep(100);
  }
  throw new Error('the spool did not drain');
}

describe('ClickHouse outage under load (HTTP, fault proxy)', () => {
  it(`loses nothing and doubles nothing through a ${OUTAGE_MS / 1000} s outage, and the spool drains`, async () => {
    const running = await service('outage');
    try {
      const { key } = await running.keyStore.create({ tenant: 'acme', role: 'ingest', name: 'load' }, 'test');
      const exporter = exporterFor(running.url, key, 20_000);
      const CHUNK = 100;
      let next = 0;
      let stop = false;
      const results: { from: number; count: number; ok: boolean; during: boolean }[] = [];
      let inOutage = false;
      let peakSpoolBytes = 0;
      const sender = async () => {
        while (!stop) {
          const from = next;
          next += CHUNK;
          const made = makeCallSpans({ run: 11, from, count: CHUNK, startMs: Date.now() });
          const during = inOutage;
          const ok = await exportChunk(exporter, made.spans);
          results.push({ from, count: CHUNK, ok, during });
          // Paced (about 1,000 spans/s in all): this is about durability, not top speed (bench/load).
          await sleep(PACE_MS);
        }
      };
      const senders = Array.from({ length: 4 }, sender);
      await sleep(2000);
      inOutage = true;
      const sampler = setInterval(() => {
        void running.metrics.spoolBytes.get().then((g) => {
          peakSpoolBytes = Math.max(peakSpoolBytes, g.values[0]?.value ?? 0);
        });
      }, 100);
      expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
      await proxy.set('refuse');
      await sleep(OUTAGE_MS * 0.5);
      // Still ready while the spool has room: the load balancer keeps sending.
      const ready = await fetch(`${running.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { degraded?: string }).degraded).toMatch(/spooling/);
      await proxy.set('stall');
      await sleep(OUTAGE_MS * 0.4);
      await proxy.set('cut');
      await sleep(OUTAGE_MS * 0.1);
      await proxy.set('pass');
      inOutage = false;
      await sleep(2000);
      stop = true;
      await Promise.all(senders);
      const drainMs = await drained(running);
      clearInterval(sampler);

      const acked = results.filter((r) => r.ok);
      const ackedDuring = results.filter((r) => r.ok && r.during);
      expect(acked.length).toBe(results.length);
      expect(ackedDuring.length).toBeGreaterThan(0);
      expect(peakSpoolBytes).toBeGreaterThan(0);

      const stored = await storedCalls(running.url, ADMIN, 'acme');
      const sent = acked.reduce((n, r) => n + r.count, 0);
      expect(stored.unique).toBe(sent);
      expect(stored.count).toBe(sent);
      for (const r of acked)
        for (let n = r.from; n < r.from + r.count; n++) expect(stored.ids.has(spanIdOf(11, n))).toBe(true);
      for (const rollup of [stored.hourly, stored.daily]) {
        expect(Number(rollup.n)).toBe(stored.count);
        expect(Number(rollup.input)).toBe(stored.input);
        expect(Number(rollup.output)).toBe(stored.output);
        expect(rollup.cost).toBe(stored.cost);
      }
      console.log(
        JSON.stringify({
          outage: {
            outageMs: OUTAGE_MS,
            spansAcked: sent,
            chunksAckedDuringOutage: ackedDuring.length,
            peakSpoolBytes,
            drainMsAfterLoad: drainMs,
            storedOnce: stored.unique,
          },
        }),
      );
    } finally {
      await running.close();
    }
  }, 600_000);

  it('with a small spool, answers 503 + Retry-After, and the data arrives after the clients retry', async () => {
    const running = await service('smallspool', { TOKENMETER_SPOOL_MAX_BYTES: String(64 * 1024) });
    try {
      const { key } = await running.keyStore.create({ tenant: 'acme', role: 'ingest', name: 'load' }, 'test');
      const CHUNK = 50;
      const CHUNKS = 60;
      const refusals: { status: number; retryAfter: string | null; code: number }[] = [];
      let acked = 0;
      // A client that keeps data until it is acknowledged, honouring Retry-After (as the collector's queue does).
      const send = async (i: number) => {
        const made = makeCallSpans({ run: 12, from: i * CHUNK, count: CHUNK, startMs: Date.now() });
        const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(made.spans)!);
        for (;;) {
          let res: Response;
          try {
            res = await fetch(`${running.url}/v1/traces`, {
              method: 'POST',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' },
              body,
            });
          } catch {
            await sleep(200);
            continue;
          }
          const bytes = Buffer.from(await res.arrayBuffer());
          if (res.status === 200) {
            acked++;
            return;
          }
          refusals.push({ status: res.status, retryAfter: res.headers.get('retry-after'), code: bytes[1] ?? -1 });
          expect([429, 503]).toContain(res.status);
          await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
        }
      };
      await proxy.set('refuse');
      const sends = Array.from({ length: CHUNKS }, (_, i) => sleep(i * 50).then(() => send(i)));
      await sleep(6000);
      expect(refusals.length).toBeGreaterThan(0);
      await proxy.set('pass');
      await Promise.all(sends);
      await drained(running);
      expect(acked).toBe(CHUNKS);
      expect(refusals.every((r) => r.status === 503 && Number(r.retryAfter) > 0)).toBe(true);
      const stored = await storedCalls(running.url, ADMIN, 'acme');
      expect(stored.count).toBe(CHUNK * CHUNKS);
      expect(stored.unique).toBe(CHUNK * CHUNKS);
      expect(Number(stored.hourly.n)).toBe(CHUNK * CHUNKS);
      expect(Number(stored.hourly.input)).toBe(stored.input);
      console.log(JSON.stringify({ smallSpool: { spoolMaxBytes: 65536, refusals: refusals.length, acked } }));
    } finally {
      await running.close();
    }
  }, 300_000);
});
