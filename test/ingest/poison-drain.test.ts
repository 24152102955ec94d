import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import { decodeTraces } from '../../ingest/src/otlp/decode.ts';
import { buildRows } from '../../ingest/src/pipeline/build.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { Spool } from '../../ingest/src/pipeline/spool.ts';
import { StatsFlusher } from '../../ingest/src/pipeline/stats.ts';
import { encodeRecord, type SpoolBatch } from '../../ingest/src/pipeline/spool-record.ts';
import { startServer } from '../../ingest/src/server.ts';
import { spawnService } from '../support/service.ts';
import { makeCallSpans, metricValue, querySql, spanIdOf, storedCalls } from '../support/spans.ts';

/**
 * Acceptance (issue 18): a batch ClickHouse refuses as data cannot block the others. The
 * spool is written directly with rows the engine refuses (a lone surrogate, which the door
 * will soon repair) beside good rows of the same and of another tenant; the real service on
 * real chdb stores every good row exactly once, quarantines only the bad spans (counted,
 * kept on disk), retries a bounded number of times, and /readyz says not ready while
 * writes keep failing past its bound, ready again after. The split survives a kill -9.
 */
const ADMIN = 'poison-bootstrap-key';
const dir = mkdtempSync(join(tmpdir(), 'tm-poison-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RETRIES = 4;
const B_SPANS = 20;
/** Tenant beta's span 3 has a bad otel_traces row (so neither row is stored); span 14 a bad ai_calls row only. */
const BAD_TRACE = 3;
const BAD_CALL = 14;

function rowsOf(run: number, from: number, count: number, tenant: string): SpoolBatch {
  const made = makeCallSpans({ run, from, count });
  const decoded = decodeTraces(Buffer.from(ProtobufTraceSerializer.serializeRequest(made.spans)!), 'protobuf');
  const built = buildRows(decoded.spans, () => tenant, new IngestPricer(), Date.now());
  expect(built.rejected).toEqual([]);
  return { traces: built.traces, calls: built.calls };
}

/** Two spool records: beta's 20 spans (two poisoned) then alpha's 30, and 10 more of alpha's. */
async function plantSpool(spoolDir: string): Promise<void> {
  const beta = rowsOf(61, 0, B_SPANS, 'beta');
  beta.traces[BAD_TRACE]!.ServiceName = 'chat-api\ud800';
  beta.calls[BAD_CALL]!.user_id = '\ud83duser';
  const alpha = rowsOf(62, 0, 30, 'alpha');
  const spool = await Spool.open({ dir: spoolDir, maxBytes: 1024 ** 3 });
  await spool.append(
    encodeRecord({ traces: [...beta.traces, ...alpha.traces], calls: [...beta.calls, ...alpha.calls] }),
  );
  await spool.append(encodeRecord(rowsOf(62, 30, 10, 'alpha')));
  await spool.close();
}

async function traceCounts(url: string, tenant: string): Promise<{ n: number; uniq: number; ids: string[] }> {
  const [r] = await querySql<{ n: string; uniq: string; ids: string[] }>(
    url,
    ADMIN,
    `SELECT count() AS n, uniqExact(TraceId, SpanId) AS uniq, groupArray(SpanId) AS ids FROM otel_traces WHERE TenantId = '${tenant}'`,
  );
  return { n: Number(r!.n), uniq: Number(r!.uniq), ids: r!.ids };
}

/** Every good row once, the bad ones nowhere, rollups equal to the raw rows. */
async function expectStoredOnce(url: string): Promise<void> {
  const alpha = await storedCalls(url, ADMIN, 'alpha');
  expect(alpha.count).toBe(40);
  expect(alpha.unique).toBe(40);
  const beta = await storedCalls(url, ADMIN, 'beta');
  expect(beta.count).toBe(B_SPANS - 2);
  expect(beta.unique).toBe(B_SPANS - 2);
  expect(beta.ids.has(spanIdOf(61, BAD_TRACE))).toBe(false);
  expect(beta.ids.has(spanIdOf(61, BAD_CALL))).toBe(false);
  expect(beta.ids.has(spanIdOf(61, BAD_CALL + 1))).toBe(true);
  for (const s of [alpha, beta])
    for (const rollup of [s.hourly, s.daily]) {
      expect(Number(rollup.n)).toBe(s.count);
      expect(Number(rollup.input)).toBe(s.input);
      expect(rollup.cost).toBe(s.cost);
    }
  expect(await traceCounts(url, 'alpha')).toMatchObject({ n: 40, uniq: 40 });
  const betaTraces = await traceCounts(url, 'beta');
  // The span whose ai_calls row was refused keeps its otel_traces row; the other has none.
  expect(betaTraces).toMatchObject({ n: B_SPANS - 1, uniq: B_SPANS - 1 });
  expect(betaTraces.ids).toContain(spanIdOf(61, BAD_CALL));
  expect(betaTraces.ids).not.toContain(spanIdOf(61, BAD_TRACE));
}

function quarantined(spoolDir: string): { tenant: string; reason: string; rows: SpoolBatch; tries: number }[] {
  const qdir = join(spoolDir, 'quarantine');
  return readdirSync(qdir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(qdir, f), 'utf8')));
}

function expectQuarantine(spoolDir: string): void {
  const files = quarantined(spoolDir).sort((a, b) => b.rows.traces.length - a.rows.traces.length);
  expect(files).toHaveLength(2);
  for (const f of files) {
    expect(f.tenant).toBe('beta');
    expect(f.reason).toBe('parse');
    expect(f.tries).toBe(RETRIES + 1);
  }
  expect(files[0]!.rows.traces.map((t) => t.SpanId)).toEqual([spanIdOf(61, BAD_TRACE)]);
  expect(files[0]!.rows.calls.map((c) => c.span_id)).toEqual([spanIdOf(61, BAD_TRACE)]);
  expect(files[1]!.rows.traces).toEqual([]);
  expect(files[1]!.rows.calls.map((c) => c.span_id)).toEqual([spanIdOf(61, BAD_CALL)]);
  expect(files[1]!.rows.calls[0]!.user_id).toBe('\ud83duser');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a batch ClickHouse refuses as data', () => {
  it('stores every good row, quarantines only the bad spans, bounds retries, and /readyz follows', async () => {
    const dataDir = join(dir, 'inprocess');
    const spoolDir = join(dataDir, 'spool');
    await plantSpool(spoolDir);
    const running = await startServer(
      readConfig({
        TOKENMETER_DATA_DIR: dataDir,
        TOKENMETER_ADMIN_KEY: ADMIN,
        TOKENMETER_STATS_INTERVAL_MS: '0',
        TOKENMETER_INSERT_MAX_RETRIES: String(RETRIES),
        TOKENMETER_READY_MAX_FAILING_MS: '300',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
      }),
    );
    try {
      const quarantinedCount = async () =>
        (await running.metrics.spoolQuarantined.get()).values.reduce((n, v) => n + v.value, 0);
      const readiness: { status: number; reason?: string; quarantined: number }[] = [];
      let alphaStoredBeforeQuarantine: boolean | undefined;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const res = await fetch(`${running.url}/readyz`);
        const body = (await res.json()) as { reason?: string };
        const q = await quarantinedCount();
        readiness.push({ status: res.status, reason: body.reason, quarantined: q });
        if (alphaStoredBeforeQuarantine === undefined) {
          const [a] = await querySql<{ n: string }>(
            running.url,
            ADMIN,
            `SELECT count() AS n FROM ai_calls WHERE tenant = 'alpha'`,
          );
          if (Number(a!.n) === 40) alphaStoredBeforeQuarantine = q === 0;
        }
        if (q === 2 && (await running.metrics.spoolRecords.get()).values[0]?.value === 0 && res.status === 200) break;
        await sleep(50);
      }
      // Tenant alpha's rows were in before beta's poison was even isolated.
      expect(alphaStoredBeforeQuarantine).toBe(true);
      await expectStoredOnce(running.url);
      expectQuarantine(spoolDir);
      const byReason = (await running.metrics.spoolQuarantined.get()).values;
      expect(byReason).toEqual([{ labels: { reason: 'parse' }, value: 2 }]);
      // The pipeline-health dashboard reads the same count from ingest_stats.
      const stats = new StatsFlusher({ ...running, intervalMs: 0, instance: 'poison-0' });
      await stats.flush();
      const flushed = await querySql<{ reason: string; value: number }>(
        running.url,
        ADMIN,
        "SELECT reason, value FROM ingest_stats WHERE instance = 'poison-0' AND metric = 'spool_quarantined'",
      );
      expect(flushed).toEqual([{ reason: 'parse', value: 2 }]);

      // Not ready while writes kept failing past the 300 ms bound, with the reason; ready after.
      const notReady = readiness.filter((r) => r.status === 503);
      expect(notReady.length).toBeGreaterThan(0);
      expect(notReady[0]!.reason).toMatch(/ClickHouse writes failing for \d+ s \(bound 300 ms\): CANNOT_PARSE/);
      expect(notReady[0]!.reason).not.toMatch(/user|chat-api/);
      expect(readiness.at(-1)!.status).toBe(200);

      // Bounded: the group, one failing part per level of halving for each bad span, then
      // each bad span's tries; and no retry at all once they are quarantined.
      const failures = (await running.metrics.batchFailures.get()).values[0]!.value;
      expect(failures).toBeGreaterThanOrEqual(2 * (RETRIES + 1));
      expect(failures).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(B_SPANS)) + 2 * (RETRIES + 1));
      await sleep(1500);
      expect((await running.metrics.batchFailures.get()).values[0]!.value).toBe(failures);
      expect(existsSync(join(spoolDir, 'split.json'))).toBe(false);
      console.log(JSON.stringify({ poison: { batchFailures: failures, readyzNotReadySamples: notReady.length } }));
    } finally {
      await running.close();
    }
  }, 120_000);

  it('resumes the split after a kill -9: nothing lost, nothing doubled, no span quarantined twice', async () => {
    const dataDir = join(dir, 'kill9');
    const spoolDir = join(dataDir, 'spool');
    await plantSpool(spoolDir);
    const env = {
      TOKENMETER_DATA_DIR: dataDir,
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_STATS_INTERVAL_MS: '0',
      TOKENMETER_INSERT_MAX_RETRIES: String(RETRIES),
      LOG_LEVEL: 'info',
    };
    let service = await spawnService(env);
    try {
      await service.ready();
      // Killed mid-split: alpha's part is in, beta's bad spans are still being retried.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [a] = await querySql<{ n: string }>(
          service.url,
          ADMIN,
          `SELECT count() AS n FROM ai_calls WHERE tenant = 'alpha'`,
        );
        if (Number(a!.n) === 40 && existsSync(join(spoolDir, 'split.json'))) break;
        if (Date.now() > deadline) throw new Error(`never mid-split:\n${service.output()}`);
        await sleep(50);
      }
      await service.kill9();
      service = await spawnService(env, service.port);
      await service.ready();
      const until = Date.now() + 60_000;
      while ((await metricValue(service.url, ADMIN, 'tokenmeter_spool_records')) !== 0) {
        if (Date.now() > until) throw new Error(`the split never finished:\n${service.output()}`);
        await sleep(100);
      }
      expect(service.output()).toMatch(/resuming the split of a batch/);
      await expectStoredOnce(service.url);
      expectQuarantine(spoolDir);
    } finally {
      await service.stop();
    }
  }, 180_000);
});
