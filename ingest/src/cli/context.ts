import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ApiClient } from './client.js';

/** What a command's action gets: the environment it runs in and the one HTTP client. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  client: ApiClient;
}

/** Each command module adds its commands to the program with one of these. */
export type AddCommands = (program: Command, ctx: CliContext) => void;

/** --tenant, on every tenant-scoped command. */
export function tenantOption(): Option {
  return new Option(
    '--tenant <tenant>',
    'tenant to act on, for an operator key (default: TOKENMETER_TENANT, or the store’s only tenant)',
  );
}

/** --format with a fixed list of choices. */
export function formatOption(choices: string[], fallback: string): Option {
  return new Option('--format <format>', 'output format').choices(choices).default(fallback);
}

/** A commander argument parser for an integer within [min, max]. */
export function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A commander argument parser for a finite number (USD amounts). */
export function decimal(value: string): string {
  if (value.trim() === '' || !Number.isFinite(Number(value))) throw new InvalidArgumentError('must be a number');
  return value.trim();
}

export function write(text: string): void {
  process.stdout.write(text);
}
