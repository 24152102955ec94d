import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import { startServer } from '../../ingest/src/server.ts';
import { makeCallSpans, storedCalls } from '../support/spans.ts';

/**
 * Counted once across a restart: spans re-sent to a new process (a collector replaying its
 * queue) count once — those that started before the restart, and those dated ahead of the
 * clock, which the new process cannot tell apart by start time alone (horizon.json).
 */
const ADMIN = 'restart-bootstrap-key';
const dir = mkdtempSync(join(tmpdir(), 'tm-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = () =>
  readConfig({
    TOKENMETER_DATA_DIR: dir,
    TOKENMETER_ADMIN_KEY: ADMIN,
    TOKENMETER_BATCH_MAX_DELAY_MS: '5',
    TOKENMETER_STATS_INTERVAL_MS: '0',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
  });

describe('counted once across a restart', () => {
  it('drops re-sent spans, past-dated and dated ahead of the clock, after the service restarts', async () => {
    const past = makeCallSpans({ run: 41, from: 0, count: 30, startMs: Date.now() - 600_000 });
    // Start times below the millisecond (OTLP carries nanoseconds): the watermark must keep them.
    const ahead = makeCallSpans({ run: 41, from: 30, count: 20, startMs: Date.now() + 30 * 60_000 + 0.5 });
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest([...past.spans, ...ahead.spans])!);
    const send = async (url: string, key: string) =>
      (
        await fetch(`${url}/v1/traces`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' },
          body,
        })
      ).status;

    const first = await startServer(config());
    const { key } = await first.keyStore.create({ tenant: 'acme', role: 'ingest', name: 'r' }, 'test');
    expect(await send(first.url, key)).toBe(200);
    await first.close();

    const second = await startServer(config());
    try {
      expect(await send(second.url, key)).toBe(200);
      expect(await send(second.url, key)).toBe(200);
      const stored = await storedCalls(second.url, ADMIN, 'acme');
      expect(stored.count).toBe(50);
      expect(stored.unique).toBe(50);
      expect(Number(stored.hourly.n)).toBe(50);
      expect(Number(stored.daily.n)).toBe(50);
      expect(Number(stored.hourly.input)).toBe(past.inputTokens + ahead.inputTokens);
    } finally {
      await second.close();
    }
  });
});
