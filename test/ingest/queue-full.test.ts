/**
 * Backpressure before the work: while rows waiting for a batch are at their bound, an OTLP
 * request is answered 503 queue_full with Retry-After before its body is read or decoded (the
 * writer would refuse it after the decode and build anyway); the request already waiting is
 * still answered and stored once.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readConfig } from '../../ingest/src/config.ts';
import { adminKeyResolver } from '../../ingest/src/http/auth.ts';
import { otlpRouter } from '../../ingest/src/http/otlp.ts';
import { createMetrics } from '../../ingest/src/metrics.ts';
import { IngestPricer } from '../../ingest/src/pipeline/pricing.ts';
import { Spool } from '../../ingest/src/pipeline/spool.ts';
import { BatchWriter } from '../../ingest/src/pipeline/writer.ts';
import { rows, openTestStore } from '../support/store.ts';
import { otlpRequest, str, svcAttr } from '../support/otlp.ts';
import type { Store } from '../../ingest/src/store/client.ts';

const KEY = 'queue-full-test-key';
let store: Store & { dataDir: string };
let writer: BatchWriter;
let server: ReturnType<ReturnType<typeof express>['listen']>;
let url: string;
const metrics = createMetrics();

beforeAll(async () => {
  store = await openTestStore('queue_full');
  const log = pino({ level: 'silent' });
  const spool = await Spool.open({ dir: `${store.dataDir}/spool`, maxBytes: 1024 ** 3 });
  // A batch is cut only by its timer (a minute) or by close(): the queue holds what is written.
  writer = new BatchWriter({ store, spool, maxRows: 1_000_000, maxDelayMs: 60_000, maxQueuedRows: 3, log, metrics });
  await writer.start();
  const app = express();
  app.use(
    otlpRouter({
      keys: adminKeyResolver(KEY),
      writer,
      pricer: new IngestPricer(),
      metrics,
      log,
      maxBodyBytes: 1024 * 1024,
      retentionDays: 90,
      limits: readConfig({}).limits,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

let closed = false;
afterAll(async () => {
  await new Promise((r) => server.close(r));
  if (!closed) await writer.close(0);
  await store.close();
});

const now = BigInt(Date.now()) * 1_000_000n;
function body(n: number, first: number): string {
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: (first + i).toString(16).padStart(32, '0'),
    spanId: (first + i).toString(16).padStart(16, '0'),
    name: 'chat gpt-4o-mini',
    kind: 3,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 1_000_000n),
    attributes: [
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.provider.name', 'openai'),
      str('gen_ai.request.model', 'gpt-4o-mini'),
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 100 } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 10 } },
    ],
  }));
  return JSON.stringify(otlpRequest(spans, [svcAttr('queue-full')]));
}

const post = (b: string) =>
  fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: b,
  });

async function rejected(reason: string): Promise<number> {
  const m = (await metrics.requestsRejected.get()).values.find((v) => v.labels.reason === reason);
  return m?.value ?? 0;
}

test('a full queue answers 503 queue_full before the decode; once drained, the request is stored once', async () => {
  // Three spans wait for the batch timer: the queue is at its bound.
  const waiting = post(body(3, 1));
  await expect.poll(() => writer.isQueueFull).toBe(true);
  const received = (await metrics.spansReceived.get()).values[0]?.value ?? 0;

  const refused = await post(body(2, 100));
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(((await refused.json()) as { message: string }).message).toBe('queue full, retry later');
  expect(await rejected('queue_full')).toBe(1);
  // Refused before the decode: its spans were never counted as received.
  expect((await metrics.spansReceived.get()).values[0]?.value ?? 0).toBe(received);

  // close() cuts the waiting batch; the first request is answered, then the queue is empty.
  await writer.close(10_000);
  closed = true;
  expect((await waiting).status).toBe(200);
  expect(writer.isQueueFull).toBe(false);
  const [stored] = await rows<{ calls: string; spans: string }>(
    store,
    'SELECT (SELECT count() FROM ai_calls) AS calls, (SELECT count() FROM otel_traces) AS spans',
  );
  expect({ calls: Number(stored!.calls), spans: Number(stored!.spans) }).toEqual({ calls: 3, spans: 3 });
});
