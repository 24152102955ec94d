import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildProgram, commandPath } from '../../ingest/src/cli/program.ts';

/**
 * What a new user does: clone, `npm ci`, `npx tokenmeter …` — no build step in between
 * (the bin is a committed file, so npm links it; it builds on first use). The clone is of
 * this repository's HEAD: uncommitted changes are not in it. `npm ci` needs the registry
 * (or npm's cache): about a minute, once for the file.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
let clone: string;

function npx(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('npx', ['--no-install', 'tokenmeter', ...args], {
    cwd: clone,
    encoding: 'utf8',
    // Not this repository's service, key or data: only the clone's defaults.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: process.env.npm_config_cache },
    timeout: 240_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function everyCommand(cmd: Command): string[] {
  return cmd.commands.flatMap((c) => [commandPath(c), ...everyCommand(c)]);
}

beforeAll(() => {
  clone = mkdtempSync(join(tmpdir(), 'tm-fresh-clone-'));
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone]);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: clone,
    stdio: 'ignore',
    timeout: 300_000,
  });
}, 360_000);

// A clone with its node_modules is over a gigabyte: removing it takes a while on a busy disk.
afterAll(async () => {
  if (clone) await rm(clone, { recursive: true, force: true });
}, 600_000);

it('npx tokenmeter --help works after npm ci alone (first use builds)', () => {
  const r = npx(['--help']);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain('Usage: tokenmeter [options] [command]');
  expect(r.err).not.toMatch(/\n\s+at /);
}, 300_000);

it('every command and subcommand has --help: exit 0, no stack trace', () => {
  const commands = everyCommand(buildProgram({})).filter((c) => c !== 'help' && !c.endsWith(' help'));
  expect(commands).toEqual(expect.arrayContaining(['serve', 'budgets set', 'prices set', 'keys revoke', 'advice']));
  for (const path of commands) {
    const r = npx([...path.split(' '), '--help']);
    expect(r.code, `${path}: ${r.err}`).toBe(0);
    expect(r.out).toContain(`Usage: tokenmeter ${path}`);
    expect(r.err, path).toBe('');
  }
}, 240_000);

it('a bad flag exits 2 with one line on stderr', () => {
  for (const argv of [
    ['report', '--bogus'],
    ['reprice', '--from'],
    ['budgets', 'set', '--mode', 'firm'],
  ]) {
    const r = npx(argv);
    expect(r.code, argv.join(' ')).toBe(2);
    expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^tokenmeter ${argv[0]}`));
    expect(r.out).toBe('');
  }
}, 60_000);
