import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openStore, type Store } from '../../ingest/src/store/client.ts';
import { MIGRATIONS_DIR, migrate } from '../../ingest/src/store/migrate.ts';
import { toCallRow } from '../../ingest/src/pipeline/rows.ts';
import { normalizeSpan } from '../../instrumentation/src/normalize/normalize.ts';
import { rows } from '../support/store.ts';

/**
 * A call is `ok` or `error`: a span without a status (OpenTelemetry's `unset`, what a
 * success usually carries) is stored `ok`, and migration 045 turns the `unset` rows of an
 * older store into `ok` without touching errors or the rollups.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'tm-status-'));
const before = mkdtempSync(join(tmpdir(), 'tm-status-migrations-'));
let store: Store | undefined;
const UNPRICED = { source: '' as const, usd: null, priceId: '', priceVersion: '', cacheSavingsUsd: '0' };

afterAll(async () => {
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(before, { recursive: true, force: true });
});

function span(status: number, spanId: string) {
  return {
    traceId: 'ab'.repeat(16),
    spanId,
    parentSpanId: '',
    name: 'chat gpt-4o-mini',
    kind: 3,
    startTimeUnixNano: BigInt(Date.now() - 60_000) * 1_000_000n,
    endTimeUnixNano: BigInt(Date.now() - 59_000) * 1_000_000n,
    attributes: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    },
    resource: { 'service.name': 'status-test' },
    scope: { name: 'test', version: '' },
    status: { code: status, message: '' },
  };
}

it('normalises unset and ok to ok, error to error', () => {
  expect(normalizeSpan(span(0, '01'.repeat(8)) as never)?.status).toBe('ok');
  expect(normalizeSpan(span(1, '02'.repeat(8)) as never)?.status).toBe('ok');
  expect(normalizeSpan(span(2, '03'.repeat(8)) as never)?.status).toBe('error');
});

it("migration 045 turns stored 'unset' into 'ok' and leaves errors and rollups alone", async () => {
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => f < '045'))
    cpSync(join(MIGRATIONS_DIR, f), join(before, f));
  store = await openStore({
    url: undefined,
    user: 'default',
    password: '',
    database: 't_status',
    cluster: undefined,
    dataDir,
  });
  await migrate(store, { ttlDays: 90, dir: before });
  const call = (status: number, id: string, stored: string) => ({
    ...toCallRow(normalizeSpan(span(status, id) as never)!, 'acme', UNPRICED, {}),
    status: stored,
  });
  await store.writer.insert({
    table: 'ai_calls',
    format: 'JSONEachRow',
    values: [call(0, '0a'.repeat(8), 'unset'), call(0, '0b'.repeat(8), 'unset'), call(2, '0c'.repeat(8), 'error')],
  });
  const errorsBefore = await rows(store, 'SELECT sum(errors) AS e, sum(requests) AS r FROM ai_rollup_hourly');
  const result = await migrate(store, { ttlDays: 90 });
  expect(result.applied).toContain('045_call_status_ok');
  expect(await rows(store, 'SELECT status, count() AS n FROM ai_calls GROUP BY status ORDER BY status')).toEqual([
    { status: 'error', n: 1 },
    { status: 'ok', n: 2 },
  ]);
  expect(await rows(store, 'SELECT sum(errors) AS e, sum(requests) AS r FROM ai_rollup_hourly')).toEqual(errorsBefore);
});
