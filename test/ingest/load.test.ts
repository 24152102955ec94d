import { describe, expect, it } from 'vitest';
import { runLoad } from '../../bench/load/run.ts';

/**
 * Acceptance (suite size): 1,000 concurrent clients against `tokenmeter serve` for
 * TM_LOAD_SECONDS (default 10 s). No crash, bounded memory, only 200 or backpressure
 * answers (429/503), and every acknowledged span stored once. bench/load runs it longer
 * and reports spans/s, p99 latency and peak RSS. Needs `npm run build`.
 */
const SECONDS = Number(process.env.TM_LOAD_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.TM_LOAD_CONNECTIONS ?? 1000);

describe('load', () => {
  it(`takes ${CONNECTIONS} concurrent clients without a crash, with bounded memory and backpressure answers`, async () => {
    const report = await runLoad({
      connections: CONNECTIONS,
      seconds: SECONDS,
      spansPerRequest: 20,
      rateLimit: 0,
      // A small queue and spool, so this short run also meets backpressure.
      env: { TOKENMETER_SPOOL_MAX_BYTES: String(32 * 1024 * 1024) },
    });
    console.log(JSON.stringify({ load: report }));
    expect(report.alive).toBe(true);
    expect(report.requests).toBeGreaterThan(0);
    // Spans were taken (answered 200 within the run, or stored from requests answered just after it).
    expect(report.stored).toBeGreaterThan(0);
    for (const status of Object.keys(report.statuses)) expect(['200', '429', '503']).toContain(status);
    expect(report.peakRssMB).toBeLessThan(1536);
    expect(report.storedOnce).toBe(true);
  }, 300_000);
});
