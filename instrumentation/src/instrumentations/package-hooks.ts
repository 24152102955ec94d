import { createRequire, isBuiltin } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
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
 * talks to the loader hook register installs), made when that copy is first needed (see
 * hookImports). `require`: a wrapper of `Module.prototype.require` that looks only at package
 * entries (`require('openai-f0ed…')`, `require('ai-v5')`), once per module object.
 * (require-in-the-middle over every module resolved each file twice more: ~12 % more start-up CPU
 * in an app loading five SDKs, measured; this costs one resolution per package.)
 */
function installHooks(): void {
  hookRequire();
  hookImports();
}

/** import-in-the-middle's entry, or the file every module its loader wraps imports first. */
const IITM_FILE = /[\\/]import-in-the-middle[\\/](index|lib[\\/]register)\.js$/;

/**
 * import-in-the-middle's main-thread `Hook` is made when that package is first loaded, not at
 * start: a process that never imports an SDK we instrument loads none of import-in-the-middle
 * (nor resolves @opentelemetry/instrumentation to find it). Either of its files loads first:
 * - `lib/register.js`, which a module its loader wrapped imports before it runs (Node loads that
 *   CommonJS file through `Module.prototype.load`): the `Hook` is made then, on that copy,
 *   before the wrapped module hands its exports to `register()`;
 * - `index.js`, which @opentelemetry/instrumentation (an app's own NodeSDK) requires: the `Hook`
 *   is made once it has loaded (it loads `lib/register.js` itself, mid-way).
 * Already loaded before start (a preload of the app's own): made now. Once made, `load` is given back.
 */
function hookImports(): void {
  try {
    const Module = require('node:module') as {
      prototype: { load?: (filename: string) => unknown };
      _cache?: Record<string, { loaded?: boolean } | undefined>;
    };
    const original = Module.prototype.load;
    if (typeof original !== 'function') return;
    const cache = Module._cache ?? {};
    // The copy's index.js, once fully loaded (a copy mid-load makes its Hook when it finishes).
    const ready = (file: string): string | undefined => {
      const index = join(dirname(file), /register\.js$/.test(file) ? '..' : '', 'index.js');
      return cache[index]?.loaded === false ? undefined : index;
    };
    const loaded = Object.keys(cache).find((f) => IITM_FILE.test(f));
    if (loaded) {
      const index = ready(loaded);
      if (index && makeImportHook(index)) return;
    }
    let made = false;
    const load = function load(this: unknown, filename: string) {
      // eslint-disable-next-line prefer-rest-params
      const result = original.apply(this, arguments as unknown as [string]);
      if (!made && typeof filename === 'string' && IITM_FILE.test(filename)) {
        const index = ready(filename);
        made = index !== undefined && makeImportHook(index);
        if (made && Module.prototype.load === load) Module.prototype.load = original;
      }
      return result;
    };
    Module.prototype.load = load;
  } catch (err) {
    recordFault('package-hooks.import', err);
  }
}

/** import-in-the-middle's `Hook` on the copy @opentelemetry/instrumentation uses, if `index` is that copy's entry. */
function makeImportHook(index: string): boolean {
  try {
    const load = createRequire(require.resolve('@opentelemetry/instrumentation'));
    // Another copy (some other tool's loader): not the one our loader hook uses; wait for ours.
    if (load.resolve('import-in-the-middle') !== index) return false;
    const { Hook } = load(index) as typeof import('import-in-the-middle');
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
  return true;
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
