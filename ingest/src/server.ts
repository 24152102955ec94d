import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { adminKeyResolver, type KeyResolver, limitedResolver } from './http/auth.js';
import { RateLimiter } from './http/rate-limit.js';
import { KeyStore } from './keys/store.js';
import { createLogger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { IngestPricer } from './pipeline/pricing.js';
import { Spool } from './pipeline/spool.js';
import { StatsFlusher } from './pipeline/stats.js';
import { BatchWriter } from './pipeline/writer.js';
import { openStore, type Store } from './store/client.js';
import { migrate } from './store/migrate.js';
import { createAlertmanagerClient } from './alerts/alertmanager.js';
import { AlertEvaluator } from './alerts/evaluator.js';
import type { Clock } from './scheduler/clock.js';
import { type CostJobs, startCostJobs } from './scheduler/jobs.js';
import { type GatewayService, startGateway } from './gateway/serve.js';

export interface Running {
  url: string;
  port: number;
  server: Server;
  store: Store;
  writer: BatchWriter;
  pricer: IngestPricer;
  metrics: Metrics;
  keyStore: KeyStore;
  costJobs: CostJobs;
  /** Budget and anomaly alerts, each interval (or now: evaluateOnce). */
  evaluator: AlertEvaluator;
  /** The gateway, when configured (TOKENMETER_GATEWAY_PORT or _PATH). */
  gateway: GatewayService | undefined;
  /** The service's counters into ingest_stats, each interval (or now: flushNow). */
  stats: StatsFlusher;
  log: Logger;
  close(): Promise<void>;
}

/** `tokenmeter serve`: open the store, migrate, listen. */
export async function startServer(
  config: Config,
  opts: { log?: Logger; keys?: KeyResolver; clock?: Clock } = {},
): Promise<Running> {
  const log = opts.log ?? createLogger(config.logLevel);
  const store = await openStore(config.clickhouse);
  const migrated = await migrate(store, { ttlDays: config.ttlDays, log: (msg) => log.info(msg) });
  log.info({ applied: migrated.applied.length, embedded: store.embedded, database: store.database }, 'store ready');
  if (!config.adminKey && !opts.keys) {
    log.warn('TOKENMETER_ADMIN_KEY is not set: no key is accepted until one is configured');
  }
  const metrics = createMetrics();
  const pricer = new IngestPricer(config.spanCost);
  const spool = await Spool.open({ dir: config.spool.dir, maxBytes: config.spool.maxBytes });
  const writer = new BatchWriter({
    store,
    spool,
    maxRows: config.batch.maxRows,
    maxDelayMs: config.batch.maxDelayMs,
    log,
    metrics,
    insertMaxRetries: config.drain.insertMaxRetries,
  });
  await writer.start();
  const keyStore = new KeyStore(store, { cacheMs: config.keyCacheMs, log });
  await keyStore.refresh().catch(() => undefined);
  const keys = limitedResolver(
    opts.keys ?? adminKeyResolver(config.adminKey, keyStore),
    new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst),
  );
  const stats = new StatsFlusher({ store, metrics, log, intervalMs: config.statsIntervalMs });
  stats.start();
  const costJobs = await startCostJobs({ config, store, pricer, log, clock: opts.clock, metrics });
  const app = createApp({ config, store, writer, pricer, keys, keyStore, metrics, log, costJobs });
  const evaluator = new AlertEvaluator({
    store,
    log,
    sink: config.budgets.alertmanagerUrl
      ? createAlertmanagerClient({ url: config.budgets.alertmanagerUrl })
      : undefined,
    intervalMs: config.budgets.evaluateIntervalMs,
    defaultUserBudget: config.budgets.defaultUserBudget,
    anomalies: { spike: { minHourlyUsd: config.budgets.spikeMinHourlyUsd } },
    onError: (where) => metrics.evaluatorErrors.inc({ where }),
    onTransition: (alertname, state) => metrics.alertTransitions.inc({ alertname, state }),
  });
  evaluator.start();
  // A slow client cannot hold a connection: its headers, then its whole request (body
  // included), must arrive in time, or Node answers 408 and closes. The check runs every
  // second (Node's default, 30 s, would let a 10 s bound stretch to 40 s).
  const gateway = await startGateway({ config, store, writer, pricer, keys, metrics, log });
  const prefix = config.gateway.path;
  const server = createServer(
    {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs),
    },
    gateway && prefix
      ? (req, res) => {
          const url = req.url ?? '/';
          if (url.startsWith(prefix) && url.charCodeAt(prefix.length) === 47) {
            gateway.handle(req, res, url.slice(prefix.length));
          } else app(req, res);
        }
      : app,
  );
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  log.info({ url, port }, 'tokenmeter listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    store,
    writer,
    pricer,
    metrics,
    keyStore,
    costJobs,
    evaluator,
    gateway,
    stats,
    log,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        // Requests in flight get the grace to finish; past it, a client still sending its body or
        // not reading its answer loses its connection (an unanswered OTLP export is retried by its
        // exporter, nothing acknowledged is lost) instead of holding the shutdown for minutes.
        const grace = setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs);
        await closed;
        clearTimeout(grace);
        await gateway?.close();
        await evaluator.stop();
        await costJobs.close();
        await writer.close();
        await stats.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
