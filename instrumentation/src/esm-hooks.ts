import type * as nodeModule from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Next = (...args: any[]) => any;
interface SyncHook {
  applyOptions(options: { shouldInclude: (url: string, specifier: string) => boolean }): void;
  resolveSync(specifier: string, context: ResolveContext, next: Next): { url: string };
  loadSync(url: string, context: unknown, next: Next): unknown;
}
interface ResolveContext {
  conditions?: string[];
}

/**
 * Hook ESM loads of the packages we instrument. Where Node runs loader hooks in the app's own
 * thread (`module.registerHooks`, from Node 22.22.3 / 24.11.1 with the fix import-in-the-middle
 * needs), they are used: no loader thread to start (a second V8 isolate, ~40 ms of CPU and
 * ~12 MiB on Node 20, measured). Elsewhere `module.register` with loader-hook.mts. Both kinds
 * mix with other tools' `module.register` hooks (tsx and the like); a loader thread someone
 * else starts runs a `-r` preload too, which register.ts recognises.
 * Returns 'sync', 'thread' or 'none'.
 */
export function registerEsmHooks(packages: string[], parentFile: string): string {
  const m = require('node:module') as {
    registerHooks?: (hooks: { resolve: Next; load: Next }) => { deregister(): void };
    register?: typeof nodeModule.register;
  };
  if (typeof m.registerHooks === 'function' && syncHooksWork()) {
    registerSync(m.registerHooks, esmInclude().esmIncludes(new Set(packages)), parentFile);
    return 'sync';
  }
  if (!m.register) return 'none';
  m.register('./loader-hook.mjs', pathToFileURL(parentFile), { data: { packages } });
  return 'thread';
}

/** Only where Node has in-thread hooks: a loader thread (Node 20) has its own copy (loader-hook.mts). */
const esmInclude = () =>
  require('./instrumentations/esm-include.js') as typeof import('./instrumentations/esm-include.js');

function syncHooksWork(): boolean {
  // import-in-the-middle's own version check (an import-free module).
  const url = esmInclude().iitmHookUrl(pathToFileURL(__filename).href);
  const check = require(fileURLToPath(new URL('supports-sync-hooks.mjs', url))) as { supportsSyncHooks(): boolean };
  return check.supportsSyncHooks();
}

function registerSync(
  registerHooks: (hooks: { resolve: Next; load: Next }) => { deregister(): void },
  shouldInclude: (url: string, specifier: string) => boolean,
  parentFile: string,
): { deregister(): void } {
  let hook: SyncHook | undefined;
  const { iitmHookUrl, warnEsmFallback, withoutIitm } = esmInclude();
  const iitm = (): SyncHook => {
    if (!hook) {
      const url = iitmHookUrl(pathToFileURL(parentFile).href);
      const { createHook } = require(fileURLToPath(new URL('create-hook.mjs', url))) as {
        createHook(meta: { url: string }): SyncHook;
      };
      const created = createHook({ url });
      created.applyOptions({ shouldInclude });
      hook = created;
    }
    return hook;
  };
  // import-in-the-middle's errors never reach the app's import: the plain resolution or load is
  // tried instead; if it fails too, its error is the app's own and goes to the app unchanged.
  return registerHooks({
    resolve(specifier: string, context: ResolveContext, next: Next) {
      try {
        if (hook) return hook.resolveSync(specifier, context, next);
        const result = next(specifier, context) as { url: string };
        // require() is CommonJS's (package-hooks.ts); import-in-the-middle wraps ESM loads only.
        if (context.conditions?.includes('require') || !shouldInclude(result.url, specifier)) return result;
        return iitm().resolveSync(specifier, context, next);
      } catch (err) {
        const plain = next(specifier, context);
        warnEsmFallback('resolve', specifier, err);
        return plain;
      }
    },
    load(url: string, context: unknown, next: Next) {
      if (!hook) return next(url, context);
      try {
        return hook.loadSync(url, context, next);
      } catch (err) {
        const plain = next(withoutIitm(url), context);
        warnEsmFallback('load', withoutIitm(url), err);
        return plain;
      }
    },
  });
}
