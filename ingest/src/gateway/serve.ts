import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { estimateTokens } from '@tokenmeter/instrumentation/providers';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { KeyResolver } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { IngestPricer } from '../pipeline/pricing.js';
import type { BatchWriter } from '../pipeline/writer.js';
import type { Store } from '../store/client.js';
import { GatewayBudgets } from './budget.js';
import { Gateway } from './proxy.js';
import { gatewayTracer } from './record.js';

export interface GatewayService {
  /** http://host:port of its own port, when it has one. */
  url: string | undefined;
  port: number | undefined;
  budgets: GatewayBudgets;
  /** Serve a request whose path (after the prefix) is `path`. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void;
  close(): Promise<void>;
}

/** The gateway, if configured: on its own port, and/or under a path of the service's port (server.ts). */
export async function startGateway(deps: {
  config: Config;
  store: Store;
  writer: BatchWriter;
  pricer: IngestPricer;
  keys: KeyResolver;
  metrics: Metrics;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}): Promise<GatewayService | undefined> {
  const { config, log } = deps;
  const gc = config.gateway;
  if (gc.port === undefined && gc.path === undefined) return undefined;
  // The token estimator (for streams cut short) loads its ranks synchronously on first use, ~0.5 s:
  // at start, not in the middle of traffic.
  estimateTokens('warm up');
  const budgets = new GatewayBudgets({
    store: deps.store,
    cacheMs: config.budgets.enforcementCacheMs,
    log,
    defaultUserBudget: config.budgets.defaultUserBudget,
  });
  const recorder = gatewayTracer({
    writer: deps.writer,
    pricer: deps.pricer,
    metrics: deps.metrics,
    log,
    limits: config.limits,
    retentionDays: config.ttlDays,
    listener: budgets,
    env: deps.env ?? process.env,
  });
  const gateway = new Gateway({
    config: gc,
    keys: deps.keys,
    tracer: recorder.tracer,
    budgets,
    metrics: deps.metrics,
    log,
  });
  let server: Server | undefined;
  let port: number | undefined;
  if (gc.port !== undefined) {
    server = createServer(
      { headersTimeout: config.http.headersTimeoutMs, requestTimeout: config.http.requestTimeoutMs },
      (req, res) => gateway.handle(req, res, req.url ?? '/'),
    );
    server.keepAliveTimeout = 65_000;
    server.listen(gc.port, config.host);
    await new Promise<void>((resolve, reject) => {
      server!.once('listening', resolve);
      server!.once('error', reject);
    });
    port = (server.address() as AddressInfo).port;
  }
  const url = port === undefined ? undefined : `http://127.0.0.1:${port}`;
  log.info({ url, path: gc.path, routes: gc.routes.map((r) => r.name) }, 'tokenmeter gateway listening');
  return {
    url,
    port,
    budgets,
    handle: (req, res, path) => gateway.handle(req, res, path),
    async close() {
      if (server) {
        const s = server;
        const closed = new Promise<void>((r) => s.close(() => r()));
        s.closeIdleConnections();
        // Streams in flight get the service's shutdown grace, then their connections are closed.
        const grace = setTimeout(() => s.closeAllConnections(), config.http.shutdownGraceMs);
        await closed;
        clearTimeout(grace);
      }
      gateway.close();
      // Every call has ended by now: their rows are in the writer's queue, which closes next.
      await recorder.shutdown();
    },
  };
}
