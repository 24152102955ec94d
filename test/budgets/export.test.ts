import express from 'express';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKeyResolver } from '../../ingest/src/http/auth.ts';
import { createMetrics } from '../../ingest/src/metrics.ts';
import { EXPORT_COLUMNS, exportRouter } from '../../ingest/src/usage/export.ts';
import { seedCalls, type SeedSummary } from '../support/seed.ts';
import { openTestStore, rows } from '../support/store.ts';
import { spend } from './spend.ts';

/**
 * GET /api/v1/export on seeded calls with small pages (1,000 rows), so that every page boundary
 * — including 2,500 calls sharing one timestamp — is crossed: each row exactly once, sums equal
 * to raw sums, in CSV, NDJSON and JSON. The 1M-row memory figure is bench/export.
 */
const KEY = 'export-admin-key';
let store: Awaited<ReturnType<typeof openTestStore>>;
let url: string;
let server: ReturnType<express.Express['listen']>;
let summary: SeedSummary;
const END = new Date('2026-11-20T00:00:00Z');
const SAME = new Date('2026-11-18T12:00:00.123Z');

beforeAll(async () => {
  store = await openTestStore('export');
  summary = await seedCalls(store, { days: 10, end: END, seed: 3, callsPerHour: 20 });
  await spend(
    store,
    Array.from({ length: 2500 }, (_, i) => ({ at: SAME, usd: i % 2 ? '0.001' : null, user: `u${i}` })),
  );
  const app = express();
  app.use(
    exportRouter({
      store,
      keys: adminKeyResolver(KEY),
      metrics: createMetrics(),
      log: pino({ level: 'error' }),
      pageRows: 1000,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.close();
});

const get = (q: string) =>
  fetch(`${url}/api/v1/export?tenant=acme&${q}`, { headers: { authorization: `Bearer ${KEY}` } });

async function rawTotals(from: string, to: string) {
  const [r] = await rows<{ n: string; cost: string; input: string }>(
    store,
    `SELECT count() AS n, toString(sum(ifNull(cost_usd, 0))) AS cost, sum(input_tokens) AS input FROM ai_calls
     WHERE tenant = 'acme' AND timestamp >= parseDateTime64BestEffort({f:String}, 9) AND timestamp < parseDateTime64BestEffort({t:String}, 9)`,
    { f: from, t: to },
  );
  return { n: Number(r!.n), cost: r!.cost, input: Number(r!.input) };
}

/** Exact decimal sum of USD strings. */
function sumUsd(values: string[]): string {
  let total = 0n;
  for (const v of values) {
    if (!v) continue;
    const [w, f = ''] = v.split('.');
    total += BigInt(w!) * 10n ** 12n + BigInt(f.padEnd(12, '0'));
  }
  const s = total.toString().padStart(13, '0');
  return `${s.slice(0, -12)}.${s.slice(-12)}`.replace(/\.?0+$/, '');
}

describe('GET /api/v1/export', () => {
  it('CSV: every call once across pages, sums equal to the raw sums', async () => {
    const res = await get('format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await res.text();
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
    const body = lines.slice(1).map((l) => l.split(','));
    const raw = await rawTotals('1970-01-01', '2100-01-01');
    expect(Number(res.headers.get('x-total-rows'))).toBe(raw.n);
    expect(body).toHaveLength(raw.n);
    expect(raw.n).toBe(summary.calls + 2500);
    const col = (name: string) => EXPORT_COLUMNS.indexOf(name as never);
    expect(new Set(body.map((r) => `${r[col('trace_id')]}/${r[col('span_id')]}`)).size).toBe(raw.n);
    expect(sumUsd(body.map((r) => r[col('cost_usd')]!))).toBe(raw.cost.replace(/\.?0+$/, ''));
    expect(body.reduce((a, r) => a + Number(r[col('input_tokens')]), 0)).toBe(raw.input);
    // Unpriced calls export an empty cost, never 0.
    expect(body.filter((r) => r[col('priced')] === 'false').every((r) => r[col('cost_usd')] === '')).toBe(true);
  });

  it('NDJSON and JSON, with from/to: the same rows as the raw range', async () => {
    const from = '2026-11-15T06:00:00Z';
    const to = '2026-11-19';
    const raw = await rawTotals(from, `${to}T00:00:00Z`);
    const nd = await (await get(`format=ndjson&from=${from}&to=${to}`)).text();
    const ndRows = nd
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ndRows).toHaveLength(raw.n);
    expect(sumUsd(ndRows.map((r) => r.cost_usd ?? ''))).toBe(raw.cost.replace(/\.?0+$/, ''));
    const json = (await (await get(`format=json&from=${from}&to=${to}`)).json()) as any[];
    expect(json).toEqual(ndRows);
    expect(ndRows.every((r, i) => i === 0 || r.timestamp >= ndRows[i - 1].timestamp)).toBe(true);
  });

  it('refuses a bad format or range with the field named', async () => {
    expect(((await (await get('format=xml')).json()) as any).error).toMatch(/format/);
    expect(((await (await get('from=yesterday')).json()) as any).error).toMatch(/from/);
    expect((await get('from=2026-11-10&to=2026-11-01')).status).toBe(400);
  });

  it('a client that stops reading holds the server, not its memory (backpressure)', async () => {
    const res = await get('format=ndjson');
    const reader = res.body!.getReader();
    await reader.read();
    const before = process.memoryUsage().rss;
    await new Promise((r) => setTimeout(r, 500));
    // The server waits on 'drain' instead of queueing the rest of the export in memory.
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 ** 2);
    await reader.cancel();
  });
});
