import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { inVersionRange, packageOfFile } from './packages.js';

describe('inVersionRange', () => {
  test.each([
    ['6.49.0', ['>=4.0.0 <8'], true],
    ['8.0.0', ['>=4.0.0 <8'], false],
    ['3.9.9', ['>=4.0.0 <8'], false],
    ['5.0.97', ['>=5.0.0 <8'], true],
    ['4.3.19', ['>=5.0.0 <8'], false],
    ['0.137.0', ['>=0.20.0 <3'], true],
    ['0.19.1', ['>=0.20.0 <3'], false],
    ['6.0.0-beta.1', ['>=5.0.0 <8'], true],
    [undefined, ['>=5.0.0 <8'], false],
    [undefined, ['*'], true],
    ['not-a-version', ['>=1.0.0'], false],
  ] as const)('%s in %j: %s', (version, ranges, expected) => {
    expect(inVersionRange(version, [...ranges])).toBe(expected);
  });
});

describe('packageOfFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-packages-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the nearest package.json with a name, past nested {"type"} files, under any folder name', () => {
    const pkg = join(dir, 'node_modules/openai-f0ed28f090f94724');
    mkdirSync(join(pkg, 'dist/esm'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'openai', version: '6.1.0' }));
    writeFileSync(join(pkg, 'dist/esm/package.json'), JSON.stringify({ type: 'module' }));
    expect(packageOfFile(join(pkg, 'dist/esm/index.mjs'))).toEqual({ name: 'openai', version: '6.1.0', dir: pkg });
  });

  test('no package above a node_modules folder is taken for a loose file in it', () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'the-app' }));
    expect(packageOfFile(join(dir, 'node_modules/loose.js'))).toBeUndefined();
    expect(packageOfFile(join(dir, 'src/app.js'))?.name).toBe('the-app');
  });
});
