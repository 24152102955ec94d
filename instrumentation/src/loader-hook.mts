/**
 * The ESM loader hook `register` installs (`module.register`): import-in-the-middle's hook,
 * told to wrap a module when the package it resolves to is one we instrument, by the `name` in
 * that package's own package.json. The specifier alone misses Turbopack's hashed externals
 * (`import("openai-f0ed28f090f94724")`), npm aliases (`ai-v5`) and the like.
 * Runs in the loader thread: no OTel, no app state, only file reads (cached per directory).
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isPackageEntry, packageOfFile } from './instrumentations/packages.js';

interface HookData {
  /** Package names (from package.json) to wrap. */
  packages: string[];
}

type Hook = {
  initialize(data: unknown): Promise<void>;
  resolve(...args: unknown[]): unknown;
  load(...args: unknown[]): unknown;
};

// The copy of import-in-the-middle that @opentelemetry/instrumentation uses: its main-thread
// hooks and this loader must share one registry.
const fromOtel = createRequire(createRequire(import.meta.url).resolve('@opentelemetry/instrumentation'));
const iitmHookUrl = pathToFileURL(fromOtel.resolve('import-in-the-middle/hook.mjs')).href;
const { createHook } = (await import(new URL('create-hook.mjs', iitmHookUrl).href)) as {
  createHook(meta: { url: string }): Hook;
};
const hook = createHook({ url: iitmHookUrl });

export async function initialize(data: HookData | undefined): Promise<void> {
  const packages = new Set(data?.packages ?? []);
  const shouldInclude = (url: string, specifier: string): boolean => {
    if (packages.has(specifier)) return true;
    if (!url.startsWith('file:') || !isPackageEntry(specifier)) return false;
    try {
      const pkg = packageOfFile(fileURLToPath(url));
      return pkg !== undefined && packages.has(pkg.name);
    } catch {
      return false;
    }
  };
  await hook.initialize({ shouldInclude });
}

export const resolve = hook.resolve;
export const load = hook.load;
