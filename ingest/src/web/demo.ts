import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { Running } from '../server.js';

/**
 * The first minute: on an empty store, demo traffic under tenant `demo` — the real
 * instrumentation and SDKs against the local replay server (scripts/demo-traffic.ts) —
 * so the web view has something to show. The replay server is test code, so this works
 * from a repo checkout (`npm start`) and is skipped, with a log line, anywhere else.
 *
 * TOKENMETER_DEMO=false: never. =true: whenever the store is empty. Unset: only under
 * `npm start` (the README's first command), so services started by tests stay quiet.
 */
export const DEMO_SCRIPT = fileURLToPath(new URL('../../../scripts/demo-traffic.ts', import.meta.url));

export async function startDemo(
  config: Config,
  running: Pick<Running, 'url' | 'store' | 'log'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stop(): void } | undefined> {
  const log = running.log;
  const wanted = config.demo === 'on' || (config.demo === 'auto' && env.npm_lifecycle_event === 'start');
  if (!wanted) return undefined;
  if (!config.adminKey) {
    log.info('demo traffic skipped: set TOKENMETER_ADMIN_KEY (the demo sends its spans with it)');
    return undefined;
  }
  const rs = await running.store.reader.query({ query: 'SELECT count() AS n FROM ai_calls', format: 'JSONEachRow' });
  const [{ n } = { n: '0' }] = await rs.json<{ n: string }>();
  if (Number(n) > 0) {
    log.info({ calls: Number(n) }, 'demo traffic skipped: the store already has calls');
    return undefined;
  }
  let tsx: string;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx');
  } catch {
    tsx = '';
  }
  if (!existsSync(DEMO_SCRIPT) || !tsx) {
    log.info('demo traffic skipped: it needs a repo checkout (scripts/ and the replay server in test/, with tsx)');
    return undefined;
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', DEMO_SCRIPT], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    env: {
      ...env,
      TOKENMETER_URL: running.url,
      TOKENMETER_KEY: config.adminKey,
      OTEL_SDK_DISABLED: 'false',
    },
    // The IPC channel closes when this process dies, however it dies: the demo then stops too.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') log.warn({ code, signal }, 'demo traffic stopped');
  });
  log.info({ tenant: 'demo', pid: child.pid }, 'demo traffic started (TOKENMETER_DEMO=false turns it off)');
  return {
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
