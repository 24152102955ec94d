/**
 * The ESM loader hook `register` installs with `module.register` where Node has no in-thread
 * hooks (Node 20; see esm-hooks.ts for Node 22+): import-in-the-middle's hook, told to wrap a
 * module when the package it resolves to is one we instrument (esm-include.ts).
 * Runs in the loader thread: no OTel, no app state, only file reads (cached per directory).
 * import-in-the-middle's loader itself is imported only when such a package is first resolved:
 * until then each resolution costs the default one plus a package.json look-up for bare names.
 */
import { esmIncludes, iitmHookUrl, warnEsmFallback, withoutIitm } from './instrumentations/esm-include.js';

interface HookData {
  /** Package names (from package.json) to wrap. */
  packages: string[];
}

type Next = (...args: any[]) => any;
interface Hook {
  initialize(data: unknown): Promise<void>;
  resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }>;
  load(url: string, context: unknown, next: Next): Promise<unknown>;
}

let shouldInclude: (url: string, specifier: string) => boolean = () => false;
let loading: Promise<Hook> | undefined;
/** Set once loaded: until then (its own files load through these hooks too) loads go the default way. */
let hook: Hook | undefined;

export async function initialize(data: HookData | undefined): Promise<void> {
  shouldInclude = esmIncludes(new Set(data?.packages ?? []));
}

function iitm(): Promise<Hook> {
  loading ??= (async () => {
    const url = iitmHookUrl(import.meta.url);
    const { createHook } = (await import(new URL('create-hook.mjs', url).href)) as {
      createHook(meta: { url: string }): Hook;
    };
    const created = createHook({ url });
    await created.initialize({ shouldInclude });
    hook = created;
    return created;
  })();
  return loading;
}

/**
 * import-in-the-middle's errors never reach the app's import: the plain resolution and load are
 * tried instead. If the plain one fails too, its error is the app's own (a missing module, a
 * syntax error) and goes to the app unchanged, with no warning.
 */
export async function resolve(specifier: string, context: unknown, next: Next): Promise<unknown> {
  try {
    if (hook) return await hook.resolve(specifier, context, next);
    const result = (await next(specifier, context)) as { url: string };
    if (!shouldInclude(result.url, specifier)) return result;
    return await (await iitm()).resolve(specifier, context, next);
  } catch (err) {
    const plain: unknown = await next(specifier, context);
    warnEsmFallback('resolve', specifier, err);
    return plain;
  }
}

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  if (!hook) return next(url, context);
  try {
    return await hook.load(url, context, next);
  } catch (err) {
    const plain: unknown = await next(withoutIitm(url), context);
    warnEsmFallback('load', withoutIitm(url), err);
    return plain;
  }
}
