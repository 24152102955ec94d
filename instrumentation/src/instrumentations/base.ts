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
        if (!target || typeof target[p.method] !== 'function' || isWrapped(target[p.method])) continue;
        this._wrap(target, p.method, p.wrap as any);
      } catch (err) {
        recordFault(`patch ${this.target().module}.${p.method}`, err);
      }
    }
  }

  remove(exports: any): void {
    for (const p of this.patches()) {
      try {
        const target = p.target(exports) as Record<string, any> | undefined;
        if (target && isWrapped(target[p.method])) this._unwrap(target, p.method);
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
