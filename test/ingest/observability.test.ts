import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../ingest/src/cli.ts';
import { readConfig } from '../../ingest/src/config.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { StatsFlusher } from '../../ingest/src/pipeline/stats.ts';
import { type Running, startServer } from '../../ingest/src/server.ts';
import { makeCallSpans, querySql } from '../support/spans.ts';

/** /metrics names what the issue asks, ingest_stats receives the same counters, `tokenmeter keys` works, logs hold no secret. */
const ADMIN = 'obs-bootstrap-key';
let dir: string;
let running: Running;
let logged = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-obs-'));
  const config = readConfig({
    TOKENMETER_DATA_DIR: dir,
    TOKENMETER_ADMIN_KEY: ADMIN,
    TOKENMETER_BATCH_MAX_DELAY_MS: '5',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
  });
  const log = createLogger('debug', {
    write(line: string) {
      logged += line;
    },
  });
  running = await startServer(config, { log });
});

afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('self-observability', () => {
  it('counts spans, rejections, batches, latency, spool, dedup and auth in /metrics and ingest_stats', async () => {
    const { key } = await running.keyStore.create({ tenant: 'obs', role: 'ingest', name: 'obs' }, 'test');
    const made = makeCallSpans({ run: 31, from: 0, count: 20, startMs: Date.now() });
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(made.spans)!);
    const post = (k: string) =>
      fetch(`${running.url}/v1/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k}`, 'content-type': 'application/x-protobuf' },
        body,
      });
    expect((await post(key)).status).toBe(200);
    expect((await post(key)).status).toBe(200); // the same spans again: dedup hits
    expect((await post('tm_wrong')).status).toBe(401);
    const bad = await fetch(`${running.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"resourceSpans": 5}',
    });
    expect(bad.status).toBe(400);

    const text = await (
      await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${line} `))
          ?.split(' ')[1],
      );
    expect(value('tokenmeter_spans_received_total')).toBe(40);
    expect(value('tokenmeter_spans_accepted_total')).toBe(20);
    expect(value('tokenmeter_dedup_hits_total{where="window"}')).toBe(20);
    expect(value('tokenmeter_requests_rejected_total{reason="invalid_json"}')).toBe(1);
    expect(value('tokenmeter_auth_failures_total{reason="wrong_key"}')).toBe(1);
    expect(value('tokenmeter_batches_written_total')).toBeGreaterThanOrEqual(1);
    expect(value('tokenmeter_insert_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('tokenmeter_spool_bytes')).toBe(0);
    expect(value('tokenmeter_spool_age_seconds')).toBe(0);
    expect(text).toContain('# TYPE tokenmeter_spans_rejected_total counter');

    const stats = new StatsFlusher({
      store: running.store,
      metrics: running.metrics,
      log: running.log,
      intervalMs: 0,
      instance: 'test-0',
    });
    await stats.flush(new Date('2026-11-23T10:00:00Z'));
    await post(key);
    await stats.flush(new Date('2026-11-23T10:01:00Z'));
    const rows = await querySql<{ ts: string; metric: string; reason: string; value: number }>(
      running.url,
      ADMIN,
      "SELECT toString(ts) AS ts, metric, reason, value FROM ingest_stats WHERE instance = 'test-0' ORDER BY ts, metric, reason",
    );
    const at = (ts: string, metric: string, reason = '') =>
      rows.find((r) => r.ts === ts && r.metric === metric && r.reason === reason)?.value;
    // Counters go in as the increase over the interval, gauges as their value.
    expect(at('2026-11-23 10:00:00', 'spans_received')).toBe(40);
    expect(at('2026-11-23 10:01:00', 'spans_received')).toBe(20);
    expect(at('2026-11-23 10:01:00', 'dedup_hits', 'window')).toBe(20);
    expect(at('2026-11-23 10:00:00', 'auth_failures', 'wrong_key')).toBe(1);
    expect(at('2026-11-23 10:00:00', 'spool_bytes')).toBe(0);
    expect(at('2026-11-23 10:00:00', 'insert_ms_p99')).toBeGreaterThan(0);
  });

  it('manages keys with `tokenmeter keys create|list|revoke`, and never logs a secret', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const env = { TOKENMETER_URL: running.url, TOKENMETER_KEY: ADMIN };
    try {
      expect(await main(['keys', 'create', '--tenant', 'acme', '--role', 'read', '--name', 'grafana'], env)).toBe(0);
      const created = out.join('');
      const id = /created (key_[0-9a-f]{16})/.exec(created)?.[1];
      const secret = /key: (tm_\S+)/.exec(created)?.[1];
      expect(id).toBeDefined();
      expect(secret).toBeDefined();
      out.length = 0;
      expect(await main(['keys', 'list', '--format', 'json'], env)).toBe(0);
      const listed = JSON.parse(out.join('')) as { id: string; tenant: string; role: string }[];
      expect(listed.find((k) => k.id === id)).toMatchObject({ tenant: 'acme', role: 'read' });
      expect(out.join('')).not.toContain(secret!);
      out.length = 0;
      expect(await main(['keys', 'revoke', id!], env)).toBe(0);
      const res = await fetch(`${running.url}/api/v1/budgets`, { headers: { authorization: `Bearer ${secret}` } });
      expect(res.status).toBe(401);
      expect(logged.length).toBeGreaterThan(0);
      expect(logged).not.toContain(secret!);
      expect(logged).not.toContain(ADMIN);
    } finally {
      spy.mockRestore();
    }
  });
});
