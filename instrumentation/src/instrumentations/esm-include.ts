import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isPackageEntry, packageOfFile } from './packages.js';

/**
 * Which ESM loads import-in-the-middle wraps: a package we instrument, by the `name` in that
 * package's own package.json. The specifier alone misses Turbopack's hashed externals
 * (`import("openai-f0ed28f090f94724")`), npm aliases (`ai-v5`) and the like.
 */
export function esmIncludes(packages: ReadonlySet<string>): (url: string, specifier: string) => boolean {
  return (url, specifier) => {
    if (packages.has(specifier)) return true;
    if (!url.startsWith('file:') || !isPackageEntry(specifier)) return false;
    try {
      const pkg = packageOfFile(fileURLToPath(url));
      return pkg !== undefined && packages.has(pkg.name);
    } catch {
      return false;
    }
  };
}

/**
 * The hook.mjs of the copy of import-in-the-middle that @opentelemetry/instrumentation uses:
 * its main-thread `Hook` (package-hooks.ts) and the loader must share one registry.
 * Resolved, not loaded: its loader (acorn-free, but lexers and all) is loaded only when a
 * package we instrument is first imported.
 */
export function iitmHookUrl(from: string): string {
  const fromOtel = createRequire(createRequire(from).resolve('@opentelemetry/instrumentation'));
  return pathToFileURL(fromOtel.resolve('import-in-the-middle/hook.mjs')).href;
}
