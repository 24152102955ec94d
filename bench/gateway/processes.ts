/**
 * The processes of bench/gateway (run.ts, ab.ts): free ports, the forked upstream/proxy/ClickHouse,
 * `tokenmeter serve` as the gateway, and their CPU and peak RSS from /proc.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ADMIN = 'bench-gateway-admin-key-0123456789';
export const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A script of this folder in a child process, once it has sent its first message (ready, or its port). */
export function forked(
  file: string,
  args: string[],
  execArgv: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; message: unknown }> {
  const child = fork(here(file), args, { stdio: 'inherit', execArgv, env });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, message }));
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
}

/** `tokenmeter serve` (`cli`) with the gateway on a port of its own, its one route the upstream; once ready. */
export async function startGateway(opts: {
  cli: string;
  upstreamPort: number;
  dir: string;
  clickhouseUrl: string | undefined;
  nodeArgs?: string[];
  env?: Record<string, string>;
}): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const gwPort = await freePort();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      TOKENMETER_GATEWAY_PORT: String(gwPort),
      TOKENMETER_GATEWAY_ROUTES: `openai=http://127.0.0.1:${opts.upstreamPort}`,
      TOKENMETER_ADMIN_KEY: ADMIN,
      TOKENMETER_DATA_DIR: opts.dir,
      ...(opts.clickhouseUrl ? { CLICKHOUSE_URL: opts.clickhouseUrl } : {}),
      TOKENMETER_DEMO: 'false',
      TOKENMETER_RATE_LIMIT_RPS: '0',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return { child, port: gwPort };
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${opts.cli} did not start`);
}

/** utime + stime of a process, in µs. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** Peak RSS (VmHWM) of a process, in bytes. */
export function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}
