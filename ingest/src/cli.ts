#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Command, CommanderError } from 'commander';
import { CliError } from './cli/errors.js';
import { buildProgram, commandPath } from './cli/program.js';
import { ConfigError } from './config.js';

/**
 * `tokenmeter …`: run one command line; resolves to the exit code. A user error is one line
 * on stderr and exit 2, a failure one line and exit 1; a stack only with TOKENMETER_DEBUG=1.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const program = buildProgram(env);
  let active: Command = program;
  program.hook('preAction', (_root, command) => {
    active = command;
  });
  // Commander's own errors (unknown flag, missing value, bad choice): one line, naming the command.
  const oneLine = (cmd: Command) => (message: string, write: (s: string) => void) => {
    const path = commandPath(cmd);
    const text = message
      .trim()
      .replace(/^error: /, '')
      .replace(/\s*\n\(Did you mean (.+)\?\)$/, ' (did you mean $1?)')
      .replace(/\s*\n\s*/g, ' ');
    write(`tokenmeter${path ? ` ${path}` : ''}: ${text}; see 'tokenmeter${path ? ` ${path}` : ''} --help'\n`);
  };
  const walk = (cmd: Command) => {
    cmd.configureOutput({ outputError: oneLine(cmd) });
    for (const sub of cmd.commands) walk(sub);
  };
  walk(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // A command with subcommands but none given: its help went to stderr.
      return 2;
    }
    const prefix = `tokenmeter${commandPath(active) ? ` ${commandPath(active)}` : ''}`;
    // By name: the store module (store/client.ts) is not loaded by the commands that only talk HTTP.
    const dataDirInUse = (err as Error | undefined)?.name === 'DataDirInUseError';
    if (err instanceof CliError || err instanceof ConfigError || dataDirInUse) {
      process.stderr.write(`${prefix}: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
      return err instanceof ConfigError ? 2 : err instanceof CliError ? err.exitCode : 1;
    }
    // Our bug, not the user's: still one line unless asked for the stack.
    const detail = env.TOKENMETER_DEBUG ? ((err as Error).stack ?? String(err)) : (err as Error).message;
    process.stderr.write(
      `${prefix}: internal error: ${detail}${env.TOKENMETER_DEBUG ? '' : ' (TOKENMETER_DEBUG=1 shows where)'}\n`,
    );
    return 1;
  }
}

/** The process entry: `node ingest/dist/cli.js …` and the `tokenmeter` bin (ingest/bin/tokenmeter.js). */
export async function run(argv = process.argv.slice(2)): Promise<void> {
  process.exitCode = await main(argv, process.env);
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntry) void run();
