import { readConfig } from '../config.js';
import { readOrCreateLocalAdminKey } from '../local-admin-key.js';
import { createLogger } from '../log.js';
import { startServer } from '../server.js';
import { openStore } from '../store/client.js';
import { migrate } from '../store/migrate.js';
import { startDemo } from '../demo/start.js';
import { ProgressBar } from './progress.js';

/** `tokenmeter serve`: the service until SIGTERM/SIGINT, with the demo on an empty store under `npm start`. */
export async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  const config = readConfig(env);
  if (!config.adminKey && !config.clickhouse.url) {
    const local = readOrCreateLocalAdminKey(config.clickhouse.dataDir);
    config.adminKey = local.key;
    process.stderr.write(
      `tokenmeter: TOKENMETER_ADMIN_KEY is not set; ${local.created ? 'generated' : 'using'} a bootstrap admin key for this local store in ${local.path} (sign in with its contents)\n`,
    );
  }
  const running = await startServer(config);
  const demo = await startDemo(config, running, env);
  const stop = (signal: string) => {
    demo?.stop();
    running.log.info({ signal }, 'shutting down: finishing pending writes');
    running.close().then(
      () => process.exit(0),
      (err) => {
        running.log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** `tokenmeter migrate`: apply pending migrations (the rollup backfill with a progress bar) and exit. */
export async function migrateOnce(env: NodeJS.ProcessEnv): Promise<void> {
  const config = readConfig(env);
  const log = createLogger(config.logLevel);
  const store = await openStore(config.clickhouse);
  try {
    const bar = new ProgressBar('backfill');
    const result = await migrate(store, {
      ttlDays: config.ttlDays,
      log: (m) => log.info(m),
      onProgress: (done, total, step) => bar.update(done, total, step),
    });
    bar.finish();
    process.stdout.write(`applied ${result.applied.length} migration(s), ${result.skipped.length} already applied\n`);
  } finally {
    await store.close();
  }
}
