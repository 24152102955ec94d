import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import type { Running } from '../server.js';
import { backfillDemo } from './backfill.js';

/**
 * The first minute: on an empty store, tenant `demo` gets a past and a present. The past:
 * 30 days of history sent through the real ingest path (OTLP protobuf, demo/backfill.ts),
 * the anomaly alerts it would have raised, and budgets. The present: live traffic from the
 * real instrumentation and SDKs against the local replay server (scripts/demo-traffic.ts).
 * The replay server is test code, so the live part needs a repo checkout (`npm start`) and
 * is skipped, with a log line, anywhere else.
 *
 * TOKENMETER_DEMO=false: never. =true: whenever the store is empty. Unset: only under
 * `npm start` (the README's first command), so services started by tests stay quiet.
 */
export const DEMO_SCRIPT = fileURLToPath(new URL('../../../scripts/demo-traffic.ts', import.meta.url));

export interface Demo {
  /** Settles once the history is in and the live traffic started (or was skipped). */
  ready: Promise<void>;
  stop(): void;
}

export async function startDemo(
  config: Config,
  running: Pick<Running, 'url' | 'store' | 'log' | 'evaluator' | 'stats'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Demo | undefined> {
  const log = running.log;
  const wanted = config.demo === 'on' || (config.demo === 'auto' && env.npm_lifecycle_event === 'start');
  if (!wanted) return undefined;
  const adminKey = config.adminKey;
  if (!adminKey) {
    log.info('demo traffic skipped: set TOKENMETER_ADMIN_KEY (the demo sends its spans with it)');
    return undefined;
  }
  const rs = await running.store.reader.query({ query: 'SELECT count() AS n FROM ai_calls', format: 'JSONEachRow' });
  const [{ n } = { n: '0' }] = await rs.json<{ n: string }>();
  if (Number(n) > 0) {
    log.info({ calls: Number(n) }, 'demo skipped: the store already has calls');
    return undefined;
  }
  let stopped = false;
  let child: ChildProcess | undefined;
  const ready = (async () => {
    if (env.TOKENMETER_DEMO_HISTORY !== 'false') {
      const started = Date.now();
      const past = await backfillDemo(running, adminKey, {
        now: Date.now(),
        spikeMinHourlyUsd: config.budgets.spikeMinHourlyUsd,
        isStopped: () => stopped,
      });
      log.info(
        { tenant: 'demo', ...past, ms: Date.now() - started },
        'demo history: 30 days sent through the ingest path',
      );
      // Alerts and pipeline counters now, not at the next interval: every page has something.
      await running.evaluator.evaluateOnce();
      await running.stats.flushNow();
    }
    if (!stopped) child = startLiveTraffic(running, adminKey, env);
  })().catch((err: unknown) => {
    log.warn({ err: (err as Error).message }, 'demo stopped');
  });
  return {
    ready,
    stop() {
      stopped = true;
      if (child && child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

function startLiveTraffic(
  running: Pick<Running, 'url' | 'log'>,
  adminKey: string,
  env: NodeJS.ProcessEnv,
): ChildProcess | undefined {
  const log = running.log;
  let tsx: string;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx');
  } catch {
    tsx = '';
  }
  if (!existsSync(DEMO_SCRIPT) || !tsx) {
    log.info('demo live traffic skipped: it needs a repo checkout (scripts/ and the replay server in test/, with tsx)');
    return undefined;
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', DEMO_SCRIPT], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    env: {
      ...env,
      TOKENMETER_URL: running.url,
      TOKENMETER_KEY: adminKey,
      OTEL_SDK_DISABLED: 'false',
    },
    // The IPC channel closes when this process dies, however it dies: the demo then stops too.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') log.warn({ code, signal }, 'demo traffic stopped');
  });
  log.info({ tenant: 'demo', pid: child.pid }, 'demo live traffic started (TOKENMETER_DEMO=false turns it off)');
  return child;
}
