import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's prometheus-alertmanager (installed by .ci/run). */
export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/** A webhook receiver: what Alertmanager's routing delivers (the "pager"). */
export async function startWebhook(): Promise<{
  url: string;
  payloads: { alerts: WebhookAlert[] }[];
  close(): Promise<void>;
}> {
  const payloads: { alerts: WebhookAlert[] }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      payloads.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    payloads,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A real Alertmanager on loopback, every alert in its own group, tiny waits, routed to `webhookUrl`. */
export async function startAlertmanager(webhookUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  // Not skipped when missing: a pager test that silently does not run proves nothing.
  if (!existsSync(ALERTMANAGER_BIN)) {
    throw new Error(
      `${ALERTMANAGER_BIN} not found: install Debian's prometheus-alertmanager (.ci/run does), or set ALERTMANAGER_BIN`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'tm-am-'));
  const config = `
route:
  receiver: pager
  group_by: ['...']
  group_wait: 100ms
  group_interval: 300ms
  repeat_interval: 1h
receivers:
  - name: pager
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
`;
  writeFileSync(join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  const proc: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (c) => {
    stderr += c;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {}
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`alertmanager did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async close() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Alerts Alertmanager holds as active, via its v2 API. */
export async function activeAlerts(
  amUrl: string,
): Promise<{ labels: Record<string, string>; status: { state: string } }[]> {
  const res = await fetch(`${amUrl}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`);
  if (!res.ok) throw new Error(`alertmanager ${res.status}`);
  return (await res.json()) as { labels: Record<string, string>; status: { state: string } }[];
}

export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
