import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { recordFault } from '../core/faults.js';
import { type PackageInfo, packageOf, packageOfFile } from './packages.js';

/**
 * Finds an instrumented SDK however it is loaded. OTel's module hooks match a package by the
 * name it is imported under (`openai`, `ai`); this one matches the `name` in the package's own
 * package.json, so Turbopack's hashed externals (`import("openai-f0ed28f090f94724")` through
 * `.next/node_modules`), npm aliases (Mastra's `ai-v5`), pnpm and symlinked layouts are patched
 * too. Both hooks may see the same module: patching is idempotent (wrapped methods are skipped).
 */
export interface PackagePatcher {
  /** True for the package (by its package.json name) and version this patcher instruments. */
  handles(pkg: PackageInfo): boolean;
  /** Patch the module's exports; returns the exports to hand to the app (a copy for some). */
  patchModule(exports: any): any;
}

const patchers = new Set<PackagePatcher>();
let hooked = false;

export function watchPackages(p: PackagePatcher): void {
  patchers.add(p);
  if (!hooked) {
    hooked = true;
    installHooks();
  }
}

export function unwatchPackages(p: PackagePatcher): void {
  patchers.delete(p);
}

/** The exports as patched by every patcher that handles this package. */
function patch(exports: any, pkg: PackageInfo | undefined): any {
  if (!pkg || exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
  let result = exports;
  for (const p of patchers) {
    try {
      if (p.handles(pkg)) result = p.patchModule(result) ?? result;
    } catch (err) {
      recordFault(`package-hooks ${pkg.name}`, err);
    }
  }
  return result;
}

/**
 * The two module-loading hooks the OTel SDK uses (require-in-the-middle for `require`,
 * import-in-the-middle for `import`), taken from @opentelemetry/instrumentation's own
 * dependencies so that the ESM side talks to the same copy its loader hook does.
 */
function installHooks(): void {
  let load: NodeJS.Require;
  try {
    load = createRequire(require.resolve('@opentelemetry/instrumentation'));
  } catch (err) {
    // Bundled: no module loads to see (the explicit wrappers are the way there).
    recordFault('package-hooks.resolve', err);
    return;
  }
  try {
    const { Hook } = load('require-in-the-middle') as typeof import('require-in-the-middle');
    // Main files of packages only (internals: false): a package's own files are not its entry.
    new Hook(null, { internals: false }, (exports, _name, basedir) =>
      basedir && patchers.size > 0 ? patch(exports, packageOf(basedir)) : exports,
    );
  } catch (err) {
    recordFault('package-hooks.require', err);
  }
  try {
    const { Hook } = load('import-in-the-middle') as typeof import('import-in-the-middle');
    // Called for every module the ESM loader hook wrapped (ours wraps only instrumented packages).
    new Hook((namespace, name, baseDir) => {
      if (patchers.size === 0) return;
      const pkg = baseDir ? packageOf(baseDir) : isAbsolute(name) ? packageOfFile(name) : undefined;
      // The namespace is patched in place; returning a value would replace its `default`.
      patch(namespace, pkg);
    });
  } catch (err) {
    recordFault('package-hooks.import', err);
  }
}
