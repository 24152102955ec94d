import type { TracerProvider } from '@opentelemetry/api';
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { configure } from '../core/config.js';
import { recordFault } from '../core/faults.js';
import { SCOPE_NAME, SCOPE_VERSION, setExplicitTracerProvider } from '../core/tracer.js';
import type { InstrumentationOptions } from '../types.js';
import { unwatchPackages, watchPackages } from './package-hooks.js';
import { inVersionRange, type PackageInfo } from './packages.js';

export type TokenmeterInstrumentationConfig = InstrumentationConfig & InstrumentationOptions;

/** A method to wrap on a prototype reached from the module's exports. */
export interface MethodPatch {
  /** Finds the prototype (or object) in the module's exports; undefined when absent in this version. */
  target: (exports: any) => object | undefined;
  method: string;
  wrap: (original: (...args: any[]) => any) => (...args: any[]) => any;
}

/**
 * One class per SDK, for `new NodeSDK({ instrumentations: [...] })`; `register` uses the same.
 * What differs between SDKs is the list of patches (data); hooking ESM and CommonJS loads,
 * wrapping once and unwrapping are done here once.
 */
export abstract class TokenmeterInstrumentation extends InstrumentationBase<TokenmeterInstrumentationConfig> {
  constructor(name: string, config: TokenmeterInstrumentationConfig = {}) {
    super(`${SCOPE_NAME}/${name}`, SCOPE_VERSION, config);
    // `enabled` is OTel's switch, not one of our options: alone, it leaves the settings as they are.
    if (Object.keys(config).some((k) => k !== 'enabled')) configure(config);
  }

  /** The package and its supported versions. (A method: the base constructor calls init() before fields exist.) */
  protected abstract target(): { module: string; versions: string[] };
  protected abstract patches(): MethodPatch[];

  protected init() {
    const { module, versions } = this.target();
    return new InstrumentationNodeModuleDefinition(
      module,
      versions,
      (exports: any) => this.patchModule(exports),
      (exports: any) => {
        if (exports) this.remove(exports);
      },
    );
  }

  /** The module's exports with our wrappers on (in place here; some SDKs need a copy). */
  patchModule(exports: any): any {
    this.apply(exports);
    return exports;
  }

  /** This SDK, found by the name in its own package.json (an alias, a hashed or pnpm path): see package-hooks.ts. */
  handles(pkg: PackageInfo): boolean {
    const { module, versions } = this.target();
    return pkg.name === module && inVersionRange(pkg.version, versions);
  }

  override enable(): void {
    super.enable();
    watchPackages(this);
  }

  override disable(): void {
    unwatchPackages(this);
    super.disable();
  }

  /** Patch a module object you loaded yourself (bundled apps, tests). */
  apply(exports: any): void {
    for (const p of this.patches()) {
      try {
        const target = p.target(exports) as Record<string, any> | undefined;
        const current = target?.[p.method];
        // Another instrumentation's wrapper (OTel's shimmer marks it) records this method already.
        if (!target || typeof current !== 'function' || isOurs(current) || isWrapped(current)) continue;
        replaceMethod(target, p.method, markOurs(p.wrap(current), current));
      } catch (err) {
        recordFault(`patch ${this.target().module}.${p.method}`, err);
      }
    }
  }

  remove(exports: any): void {
    for (const p of this.patches()) {
      try {
        const target = p.target(exports) as Record<string, any> | undefined;
        const current = target?.[p.method];
        // Ours on top only: beneath another instrumentation's wrapper it stays (that one holds it).
        if (target && typeof current === 'function' && Object.hasOwn(current, ORIGINAL)) {
          replaceMethod(target, p.method, current[ORIGINAL]);
        }
      } catch (err) {
        recordFault(`unpatch ${this.target().module}.${p.method}`, err);
      }
    }
  }

  override setTracerProvider(provider: TracerProvider): void {
    super.setTracerProvider(provider);
    setExplicitTracerProvider(provider);
  }
}

/** The module's main class, whether loaded through require (exports) or import (namespace). */
export function mainExport(exports: any, name: string): any {
  return exports?.[name] ?? exports?.default?.[name] ?? exports?.default;
}

/**
 * Our wrappers carry this mark (its value: the method wrapped), not shimmer's `__wrapped`:
 * OpenTelemetry's `InstrumentationBase._wrap` first unwraps any method shimmer marks as wrapped,
 * so an instrumentation of the same SDK enabled after ours (`@opentelemetry/instrumentation-openai`
 * beside `register`) would silently remove our wrapper. Unmarked, it wraps around ours instead:
 * its span encloses ours and is marked delegated (core/call.ts), so the call counts once, ours.
 * `Symbol.for`: a bundled second copy of this package sees the mark too.
 */
const ORIGINAL = Symbol.for('@tokenmeter/instrumentation.original');

function markOurs(wrapper: (...args: any[]) => any, original: (...args: any[]) => any) {
  Object.defineProperty(wrapper, ORIGINAL, { value: original, configurable: true });
  return wrapper;
}

/** Ours anywhere in a chain of wrappers (ours or shimmer's), so that a method is never wrapped twice. */
function isOurs(fn: any): boolean {
  for (let depth = 0; typeof fn === 'function' && depth < 16; depth++) {
    if (Object.hasOwn(fn, ORIGINAL)) return true;
    fn = fn.__original;
  }
  return false;
}

/** As shimmer defines a wrapped method: configurable, writable, enumerable only if it was. */
function replaceMethod(target: Record<string, any>, name: string, fn: unknown): void {
  const enumerable = Object.prototype.propertyIsEnumerable.call(target, name);
  Object.defineProperty(target, name, { configurable: true, enumerable, writable: true, value: fn });
}
