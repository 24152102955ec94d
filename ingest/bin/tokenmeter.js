#!/usr/bin/env node
// The `tokenmeter` command. This file is committed, not built: npm links a bin only if its
// file exists at install time, so a bin pointing into dist/ would be missing after `npm ci`
// on a fresh clone. It runs the built CLI; in a repo checkout not built yet, it builds first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const checkout = existsSync(new URL('../src/cli.ts', import.meta.url)) && existsSync(`${root}/tsconfig.json`);
  if (!checkout) {
    process.stderr.write(
      `tokenmeter: ${fileURLToPath(cli)} is missing: this package was published without its build\n`,
    );
    process.exit(1);
  }
  process.stderr.write('tokenmeter: not built yet in this checkout: running `npm run build` once (about a minute)…\n');
  const npm = process.env.npm_execpath;
  const built = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 2, 2] })
    : spawnSync('npm', ['run', 'build', '--silent'], {
        cwd: root,
        stdio: ['ignore', 2, 2],
        shell: process.platform === 'win32',
      });
  if (built.status !== 0 || !existsSync(cli)) {
    process.stderr.write(
      'tokenmeter: the build failed: run `npm run build` at the repository root and fix what it reports\n',
    );
    process.exit(1);
  }
}
const { run } = await import(cli.href);
await run();
