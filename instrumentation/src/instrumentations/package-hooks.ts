import { createRequire, isBuiltin } from 'node:module';
import { isAbsolute } from 'node:path';
import { recordFault } from '../core/faults.js';
import { isPackageEntry, type PackageInfo, packageOf, packageOfFile } from './packages.js';

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
 * `import`: import-in-the-middle's hook (the copy @opentelemetry/instrumentation uses, so that it
 * talks to the loader hook register installs). `require`: a wrapper of `Module.prototype.require`
 * that looks only at package entries (`require('openai-f0ed…')`, `require('ai-v5')`), once per
 * module object. (require-in-the-middle over every module resolved each file twice more: ~12 % more
 * start-up CPU in an app loading five SDKs, measured; this costs one resolution per package.)
 */
function installHooks(): void {
  hookRequire();
  try {
    const load = createRequire(require.resolve('@opentelemetry/instrumentation'));
    const { Hook } = load('import-in-the-middle') as typeof import('import-in-the-middle');
    // Called for every module the ESM loader hook wrapped (ours wraps only instrumented packages).
    new Hook((namespace, name, baseDir) => {
      if (patchers.size === 0) return;
      const pkg = baseDir ? packageOf(baseDir) : isAbsolute(name) ? packageOfFile(name) : undefined;
      // The namespace is patched in place; returning a value would replace its `default`.
      patch(namespace, pkg);
    });
  } catch (err) {
    // Bundled: no module loads to see (the explicit wrappers are the way there).
    recordFault('package-hooks.import', err);
  }
}

function hookRequire(): void {
  try {
    const Module = require('node:module') as {
      prototype: { require: (id: string) => unknown };
      _resolveFilename?: (id: string, parent: unknown) => string;
    };
    const original = Module.prototype.require;
    const resolve = Module._resolveFilename;
    if (typeof original !== 'function' || typeof resolve !== 'function') return;
    // exports → what the app gets (the same object, or a patched copy): each module is looked at once.
    const handedOut = new WeakMap<object, unknown>();
    Module.prototype.require = function require(this: unknown, id: string) {
      // eslint-disable-next-line prefer-rest-params
      const exports = original.apply(this, arguments as unknown as [string]);
      if (patchers.size === 0 || typeof id !== 'string' || exports === null) return exports;
      if (typeof exports !== 'object' && typeof exports !== 'function') return exports;
      const known = handedOut.get(exports as object);
      if (known !== undefined) return known;
      if (!isPackageEntry(id) || isBuiltin(id)) return exports;
      let result: unknown = exports;
      try {
        result = patch(exports, packageOfFile(resolve(id, this)));
      } catch (err) {
        recordFault('package-hooks.require', err);
      }
      handedOut.set(exports as object, result);
      if (result !== exports && result && typeof result === 'object') handedOut.set(result, result);
      return result;
    };
  } catch (err) {
    recordFault('package-hooks.require', err);
  }
}
