/**
 * bench/export: GET /api/v1/export of 1M calls, streamed, and the service's peak RSS.
 *
 *   npx tsx bench/export/export.ts [--rows 1000000] [--formats csv,ndjson,json]
 *
 * The service (startServer, embedded ClickHouse) runs in this process; 1M rows are generated
 * inside ClickHouse (INSERT … SELECT FROM numbers()), spread over 30 days. The export is read by
 * curl in another process (so the reader's memory is not counted) while this process's RSS is
 * sampled every 50 ms. Baseline in the same run: RSS at rest before each export, and what
 * holding the same rows at once costs (one unpaged query read with the client's .json()).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../../ingest/src/config.ts';
import { startServer } from '../../ingest/src/server.ts';
import { insertSettings } from '../../ingest/src/store/client.ts';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, formats: { type: 'string', default: 'csv,ndjson,json' } },
});
const ROWS = Number(args.rows);
const KEY = 'bench-export-key';
const mb = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MB`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-export-'));
  const svc = await startServer(
    readConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TOKENMETER_DATA_DIR: dir,
      TOKENMETER_ADMIN_KEY: KEY,
      TOKENMETER_EVALUATE_INTERVAL_MS: '0',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      LOG_LEVEL: 'warn',
    }),
  );
  try {
    const t0 = Date.now();
    await svc.store.writer.command({
      query: `INSERT INTO ${svc.store.database}.ai_calls
        (timestamp, tenant, service, trace_id, span_id, provider, operation, request_model, response_model, model,
         user_id, team, feature, input_tokens, output_tokens, cache_read_tokens, priced, cost_usd, cost_source,
         duration_ms, status)
        SELECT toDateTime64('2026-10-01 00:00:00', 9, 'UTC') + toIntervalMillisecond(number * 2592),
          'acme', ['chat-api', 'batch-worker'][number % 2 + 1], lower(hex(sipHash128(number))), lower(hex(sipHash64(number))),
          'openai', 'chat', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini-2024-07-18',
          concat('user-', toString(number % 5000)), ['search', 'support', 'growth'][number % 3 + 1],
          ['chat', 'summarize', 'classify'][number % 3 + 1], 200 + number % 4000, 50 + number % 800, 0,
          number % 50 != 0, if(number % 50 != 0, toDecimal128((200 + number % 4000) * 0.00000015 + (50 + number % 800) * 0.0000006, 12), NULL),
          if(number % 50 != 0, 'span', ''), 300 + number % 5000, if(number % 40 = 0, 'error', 'ok')
        FROM numbers(${ROWS})`,
      clickhouse_settings: insertSettings(`bench-export-${ROWS}`),
    });
    console.log(`seeded ${ROWS.toLocaleString()} calls in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 500));

    const results: string[] = [];
    for (const format of (args.formats ?? 'csv').split(',')) {
      const atRest = process.memoryUsage().rss;
      let peak = atRest;
      const samples: number[] = [];
      const sampler = setInterval(() => {
        const rss = process.memoryUsage().rss;
        samples.push(rss);
        peak = Math.max(peak, rss);
      }, 50);
      const started = Date.now();
      const curl = spawn('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{size_download} %{http_code}',
        '-H',
        `authorization: Bearer ${KEY}`,
        `${svc.url}/api/v1/export?tenant=acme&format=${format}`,
      ]);
      let out = '';
      curl.stdout.on('data', (c) => {
        out += c;
      });
      await new Promise((r) => curl.once('exit', r));
      clearInterval(sampler);
      const seconds = (Date.now() - started) / 1000;
      const [bytes, status] = out.trim().split(' ');
      results.push(
        `${format.padEnd(6)} HTTP ${status}  ${mb(Number(bytes)).padStart(7)} in ${seconds.toFixed(1)} s ` +
          `(${Math.round(ROWS / seconds).toLocaleString()} rows/s)  RSS at rest ${mb(atRest)}, peak ${mb(peak)}, ` +
          `growth ${mb(peak - atRest)}; RSS at 25/50/75/100 % of the time: ` +
          [0.25, 0.5, 0.75, 1]
            .map((q) => mb(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0))
            .join(' / '),
      );
      console.log(results.at(-1));
    }

    // Baseline: the same rows held at once (what an unstreamed export would need).
    const atRest = process.memoryUsage().rss;
    let peak = atRest;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const rs = await svc.store.writer.query({
      query: `SELECT toString(timestamp) AS ts, service, trace_id, span_id, model, user_id, team, feature,
              input_tokens, output_tokens, toString(cost_usd) AS cost_usd, status
              FROM ${svc.store.database}.ai_calls ORDER BY timestamp`,
      format: 'JSONEachRow',
    });
    const all = await rs.json<unknown>();
    peak = Math.max(peak, process.memoryUsage().rss);
    clearInterval(sampler);
    console.log(
      `baseline: ${all.length.toLocaleString()} rows held in memory at once: RSS at rest ${mb(atRest)}, peak ${mb(peak)}, growth ${mb(peak - atRest)}`,
    );
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
