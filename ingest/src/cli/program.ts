import { readFileSync } from 'node:fs';
import { Argument, Command } from 'commander';
import { addAdviceCommand } from '../advice/cli.js';
import { addKeysCommands } from '../keys/cli.js';
import { addPricesCommands } from '../prices/cli.js';
import { addReconcileCommands } from '../reconcile/cli.js';
import { addForgetUserCommand } from '../retention/cli.js';
import { addUsageCommands } from '../usage/cli.js';
import { ApiClient } from './client.js';
import { completionCandidates, completionScript } from './completion.js';
import { type CliContext, formatOption, write } from './context.js';
import { formatTable } from './format.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const AFTER_HELP = `
Commands other than serve and migrate talk to the running service:
  TOKENMETER_URL   its address (default http://127.0.0.1:4318)
  TOKENMETER_KEY   an API key (default TOKENMETER_ADMIN_KEY, then the key npm start wrote
                   into TOKENMETER_DATA_DIR)
  TOKENMETER_TENANT  the tenant of tenant-scoped commands for an operator key (or --tenant)
The service's own settings (CLICKHOUSE_URL, TOKENMETER_DATA_DIR, PORT, …): see README.md.

Exit codes: 0 done; 1 could not be done (service unreachable or failing, a job failed);
2 wrong command line, or a request the service refused (4xx), or an ambiguous tenant.`;

/** The whole command tree. Built per run: actions close over this run's environment. */
export function buildProgram(env: NodeJS.ProcessEnv): Command {
  const ctx: CliContext = { env, client: new ApiClient(env) };
  const program = new Command('tokenmeter')
    .description('what your AI calls cost, who caused it, and paging before it gets out of hand')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText('after', AFTER_HELP);

  program
    .command('serve')
    .description('run the service (OTLP/HTTP ingest, APIs, web view) on PORT (default 4318); applies migrations first')
    .action(async () => {
      const { serve } = await import('./serve.js');
      await serve(env);
    });

  program
    .command('migrate')
    .description('apply pending schema migrations (the rollup backfill with a progress bar) and exit')
    .action(async () => {
      const { migrateOnce } = await import('./serve.js');
      await migrateOnce(env);
    });

  program
    .command('query')
    .description('run read-only SQL through the running service (operator key)')
    .argument('<sql...>', 'the query (quote it)')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (sql: string[], opts: { format: string }) => {
      const body = await ctx.client.json<{ meta: { name: string }[]; data: Record<string, unknown>[] }>(
        'POST',
        '/api/v1/query',
        { sql: sql.join(' ') },
      );
      if (opts.format === 'json') return write(`${JSON.stringify(body.data, null, 2)}\n`);
      write(
        formatTable(
          body.meta.map((m) => m.name),
          body.data,
        ),
      );
    });

  addKeysCommands(program, ctx);
  addUsageCommands(program, ctx);
  addReconcileCommands(program, ctx);
  addPricesCommands(program, ctx);
  addForgetUserCommand(program, ctx);
  addAdviceCommand(program, ctx);

  program
    .command('completion')
    .description('print a shell completion script; add `source <(tokenmeter completion bash)` to ~/.bashrc')
    .addArgument(new Argument('[shell]', 'bash or zsh').choices(['bash', 'zsh']).default('bash'))
    .action((shell: 'bash' | 'zsh') => write(completionScript(shell)));

  // What the completion scripts call: the candidates for the words typed so far (after --).
  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .action((words: string[]) => {
      const found = completionCandidates(program, words);
      if (found.length > 0) write(`${found.join('\n')}\n`);
    });

  return program;
}

/** `budgets set`, for messages: the command's path below the program. */
export function commandPath(cmd: Command | undefined): string {
  const names: string[] = [];
  for (let c = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
