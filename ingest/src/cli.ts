#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, readConfig } from './config.js';
import { keysCommand, KEYS_USAGE } from './keys/cli.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';
import { readLocalAdminKey, readOrCreateLocalAdminKey } from './local-admin-key.js';
import { startDemo } from './web/demo.js';
import { openStore } from './store/client.js';
import { migrate } from './store/migrate.js';

const HELP = `tokenmeter — what your AI calls cost, who caused it, and paging before it gets out of hand

Usage:
  tokenmeter serve                 run the service (OTLP/HTTP ingest, APIs) on PORT (default 4318);
                                   applies migrations first
  tokenmeter migrate               apply pending schema migrations and exit
  tokenmeter query "SQL"           run read-only SQL through the running service (operator key)
      --format table|json          output format (default table)
  ${KEYS_USAGE}
  tokenmeter reconcile --date YYYY-MM-DD [--provider openai|anthropic]
                                   compare a day's provider bill with tracked cost (progress bar)
  tokenmeter prices list|set …     price overrides (custom models, negotiated prices), in force without a restart
  tokenmeter reprice --from ISO --to ISO [--model M]
                                   re-price stored calls and rebuild their rollups (progress bar)
  tokenmeter forget-user <id> [--hashed [--salt S]]
                                   remove a user's rows from every table (admin); --hashed when apps hash user ids
  tokenmeter advice [--days 30] [--tenant T]
                                   savings advice from the tenant's own usage
  tokenmeter budgets list|set|rm …  budgets (soft or hard, per scope and period) with this period's spend
  tokenmeter report [--days 14]    spend today and month to date by model, user and feature, with sparklines
  tokenmeter export [--format csv|ndjson|json] [--from ISO] [--to ISO] [--out FILE]
                                   every call, streamed, with a progress bar

Environment: see README.md (CLICKHOUSE_URL, TOKENMETER_DATA_DIR, TOKENMETER_ADMIN_KEY, PORT, …).
Commands that talk to a running service use TOKENMETER_URL (default http://127.0.0.1:4318)
and TOKENMETER_KEY (default TOKENMETER_ADMIN_KEY).`;

/** A command's failure: printed as one line, exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type Command = (args: string[], env: NodeJS.ProcessEnv) => Promise<void>;

/** Budgets, report and export (ingest/src/usage/cli.ts), loaded when one of them runs. */
function usageCommand(name: string): Command {
  return async (args, env) => {
    const { USAGE_COMMANDS } = await import('./usage/cli.js');
    await USAGE_COMMANDS[name]!(args, env);
  };
}

function costCommand(name: string): Command {
  return async (args, env) => {
    const { COST_COMMANDS } = await import('./reconcile/cli.js');
    await COST_COMMANDS[name]!(args, env);
  };
}

/** Subcommands, by name. Other modules add theirs here (keys, budgets, report, …). */
export const COMMANDS: Record<string, Command> = {
  async serve(_args, env) {
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
  },
  async migrate(_args, env) {
    const config = readConfig(env);
    const log = createLogger(config.logLevel);
    const store = await openStore(config.clickhouse);
    try {
      const result = await migrate(store, { ttlDays: config.ttlDays, log: (m) => log.info(m) });
      process.stdout.write(`applied ${result.applied.length} migration(s), ${result.skipped.length} already applied\n`);
    } finally {
      await store.close();
    }
  },
  keys(args, env) {
    return keysCommand(args, env, { api, fail: (m, code) => new CliError(m, code), table: formatTable });
  },
  async query(args, env) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { format: { type: 'string', default: 'table' } },
    });
    const sql = positionals.join(' ').trim();
    if (!sql) throw new CliError('usage: tokenmeter query "SELECT …" [--format table|json]', 2);
    const body = (await api(env, 'POST', '/api/v1/query', { sql })) as {
      meta: { name: string }[];
      data: Record<string, unknown>[];
    };
    if (values.format === 'json') process.stdout.write(`${JSON.stringify(body.data, null, 2)}\n`);
    else
      process.stdout.write(
        formatTable(
          body.meta.map((m) => m.name),
          body.data,
        ),
      );
  },
  // Cost truth over time (ingest/src/reconcile/cli.ts), loaded when one of them runs.
  reconcile: costCommand('reconcile'),
  prices: costCommand('prices'),
  reprice: costCommand('reprice'),
  'forget-user': costCommand('forget-user'),
  advice: costCommand('advice'),
  budgets: usageCommand('budgets'),
  report: usageCommand('report'),
  export: usageCommand('export'),
};

/** Call the running service's API with TOKENMETER_URL / TOKENMETER_KEY. */
export async function api(env: NodeJS.ProcessEnv, method: string, path: string, body?: unknown): Promise<unknown> {
  const base = (env.TOKENMETER_URL || `http://127.0.0.1:${env.PORT || 4318}`).replace(/\/$/, '');
  const key =
    env.TOKENMETER_KEY || env.TOKENMETER_ADMIN_KEY || readLocalAdminKey(env.TOKENMETER_DATA_DIR || './.tokenmeter');
  if (!key) throw new CliError('set TOKENMETER_KEY (or TOKENMETER_ADMIN_KEY) to an API key of the running service');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new CliError(
      `cannot reach tokenmeter at ${base}: ${(err as Error).message} (is 'tokenmeter serve' running? set TOKENMETER_URL)`,
    );
  }
  const text = await res.text();
  const parsed = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const reason = (parsed as { error?: string } | undefined)?.error ?? text;
    throw new CliError(`${method} ${path} failed with ${res.status}: ${reason}`);
  }
  return parsed;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return (
    [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') +
    `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tokenmeter: unknown command '${name}'\n\n${HELP}\n`);
    return 2;
  }
  try {
    await command(args, env);
    return 0;
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) {
      process.stderr.write(`tokenmeter ${name}: ${err.message}\n`);
      return err instanceof CliError ? err.exitCode : 2;
    }
    throw err;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntry) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`tokenmeter: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
