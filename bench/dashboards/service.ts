/** The service the dashboard benches time: on a kept store, no demo data, no limits, quiet logs. */
import { readConfig } from '../../ingest/src/config.ts';
import { startServer } from '../../ingest/src/server.ts';

export const KEY = 'bench-dashboards-admin-key';

export function startBenchService(dataDir: string) {
  return startServer(
    readConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TOKENMETER_DATA_DIR: dataDir,
      CLICKHOUSE_DATABASE: 'bench_dash',
      TOKENMETER_ADMIN_KEY: KEY,
      TOKENMETER_DEMO: 'false',
      // Raw calls kept 10 years: a kept store's oldest day would otherwise expire a day after it was
      // generated, and the 90-day cells would read fewer raw calls from then on.
      TOKENMETER_TTL_DAYS: '3650',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      TOKENMETER_RATE_LIMIT_RPS: '0',
      LOG_LEVEL: 'warn',
    }),
  );
}
