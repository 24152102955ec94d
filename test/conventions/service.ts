import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../ingest/src/config.ts';
import { startServer } from '../../ingest/src/server.ts';

export const ADMIN_KEY = 'test-admin-key-conventions-0123456789';

/** A real `tokenmeter serve` in this process: ephemeral port, embedded ClickHouse in a temp dir. */
export async function startService(name: string): Promise<{ url: string; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), `tm-${name}-`));
  const running = await startServer(
    readConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      TOKENMETER_DATA_DIR: dataDir,
      CLICKHOUSE_DATABASE: name,
      TOKENMETER_ADMIN_KEY: ADMIN_KEY,
      TOKENMETER_BATCH_MAX_DELAY_MS: '20',
      LOG_LEVEL: 'warn',
    }),
  );
  return {
    url: running.url,
    async close() {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Read-only SQL through the service's own query endpoint (what `tokenmeter query` does). */
export async function query<T = Record<string, unknown>>(svc: { url: string }, sql: string): Promise<T[]> {
  const res = await fetch(`${svc.url}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  const body = (await res.json()) as { data?: T[]; error?: string };
  if (!res.ok) throw new Error(`query failed ${res.status}: ${body.error}`);
  return body.data ?? [];
}

/**
 * A pass-through in front of the service that notes the Content-Type each app's exporter sent,
 * so the test can show which real exporter (protobuf or JSON) carried each peer's spans.
 * An app posts to `<url>/<app>/v1/traces`; the proxy forwards `/v1/traces` unchanged.
 */
export async function startOtlpRecorder(target: string): Promise<{
  url: string;
  contentTypes: Map<string, Set<string>>;
  close(): Promise<void>;
}> {
  const contentTypes = new Map<string, Set<string>>();
  const server = http.createServer((req, res) => {
    const m = /^\/([^/]+)(\/.*)$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, app, path] = m as unknown as [string, string, string];
    const types = contentTypes.get(app) ?? new Set<string>();
    types.add(String(req.headers['content-type'] ?? ''));
    contentTypes.set(app, types);
    const upstream = http.request(`${target}${path}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    contentTypes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
