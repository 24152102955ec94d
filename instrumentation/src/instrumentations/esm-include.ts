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

/**
 * import-in-the-middle threw on a module we instrument (its own resolve or load, or loading it
 * at all): the loader hooks fall back to the plain resolution or load, so the app's import
 * succeeds as it would without us. The module is then not patched, so this is said once (#19:
 * never silently blind). Written from the loader thread on Node 20: a process warning, no OTel.
 */
let fallbackWarned = false;
export function warnEsmFallback(what: string, target: string, err: unknown): void {
  if (fallbackWarned) return;
  fallbackWarned = true;
  try {
    const reason = err instanceof Error ? err.message : String(err);
    process.emitWarning(
      `@tokenmeter/instrumentation: import-in-the-middle failed to ${what} ${target} (${reason}); ` +
        'loaded without its hook instead, so AI calls through this ESM import are not recorded ' +
        '(this warning is given once per process).',
      'TokenmeterWarning',
    );
  } catch {
    // Never throw into the app's import.
  }
}

/** A module URL without import-in-the-middle's `iitm` query (what the plain load reads). */
export function withoutIitm(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 || url.indexOf('iitm', q) === -1) return url;
  try {
    const parsed = new URL(url);
    parsed.searchParams.delete('iitm');
    return parsed.href;
  } catch {
    return url;
  }
}
