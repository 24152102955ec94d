import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { Call } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { runCall } from '../core/run.js';
import * as ai from '../providers/vercel-ai.js';
import { type MethodPatch, TokenmeterInstrumentation, type TokenmeterInstrumentationConfig } from './base.js';

/**
 * Vercel `ai` v5+: generateText, streamText, generateObject, streamObject, embed, embedMany.
 * Each gets its `model` wrapped so that every provider request (doGenerate, doStream, doEmbed,
 * one per step of a tool loop) is one span. When the provider goes through an SDK we also
 * instrument, that inner span is the call and this one is marked delegated (never counted).
 */
const ENTRY_POINTS = ['generateText', 'streamText', 'generateObject', 'streamObject', 'embed', 'embedMany'];

export class VercelAIInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('vercel-ai', config);
  }

  protected target() {
    return { module: 'ai', versions: ['>=5.0.0 <8'] };
  }

  protected patches(): MethodPatch[] {
    return [];
  }

  // The package's exports are getters (CommonJS) or a namespace (ESM): replaced, not wrapped in place.
  protected override init() {
    return new InstrumentationNodeModuleDefinition('ai', this.target().versions, (exports: any) =>
      instrumentAiModule(exports),
    );
  }
}

/** Exports with the entry points wrapped: in place where the module object allows it, else a copy. */
export function instrumentAiModule<T extends Record<string, any>>(exports: T): T {
  try {
    let target: Record<string, any> = exports;
    for (const name of ENTRY_POINTS) {
      const original = exports[name];
      if (typeof original !== 'function' || original.__tokenmeter) continue;
      const wrapped = wrapEntryPoint(original);
      try {
        target[name] = wrapped;
      } catch {}
      if (target[name] !== wrapped) {
        if (target === exports) target = { ...exports };
        target[name] = wrapped;
      }
    }
    return target as T;
  } catch (err) {
    recordFault('vercel-ai.patch', err);
    return exports;
  }
}

function wrapEntryPoint(original: (...args: any[]) => any) {
  const wrapped = function (this: unknown, options: any, ...rest: any[]) {
    if (options && typeof options === 'object' && options.model && typeof options.model === 'object') {
      options = { ...options, model: instrumentModel(options.model) };
    }
    return original.call(this, options, ...rest);
  };
  Object.defineProperty(wrapped, '__tokenmeter', { value: true });
  Object.defineProperty(wrapped, 'name', { value: original.name });
  return wrapped;
}

const WRAPPED = Symbol.for('tokenmeter.model');

/**
 * A model whose provider calls are recorded. Use it directly when your `ai` import is bundled:
 * `generateText({ model: instrumentModel(openai('gpt-4o')), … })`.
 */
export function instrumentModel<M extends object>(model: M): M {
  const m = model as any;
  if (
    !m ||
    m[WRAPPED] ||
    (typeof m.doGenerate !== 'function' && typeof m.doStream !== 'function' && typeof m.doEmbed !== 'function')
  ) {
    return model;
  }
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(m, {
    get(target, prop) {
      if (prop === WRAPPED) return true;
      if (prop === 'doGenerate') return (opts: any) => doGenerate(target, opts);
      if (prop === 'doStream') return (opts: any) => doStream(target, opts);
      if (prop === 'doEmbed') return (opts: any) => doEmbed(target, opts);
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      // Methods run against the real model (it may use private fields).
      let b = bound.get(prop);
      if (!b) {
        b = value.bind(target);
        bound.set(prop, b);
      }
      return b;
    },
  }) as M;
}

function settle<T>(p: Promise<T>, call: Call, read: (r: T, call: Call) => void): Promise<T> {
  return p.then(
    (r) => {
      try {
        read(r, call);
      } catch (err) {
        recordFault('vercel-ai.read', err);
      }
      call.end();
      return r;
    },
    (err) => {
      call.end(err);
      throw err;
    },
  );
}

function doGenerate(model: any, opts: any) {
  return runCall(
    () => ai.describe(model, opts, 'chat', false),
    () => model.doGenerate(opts),
    (p: Promise<any>, call) => settle(p, call, ai.readGenerate),
  );
}

function doEmbed(model: any, opts: any) {
  return runCall(
    () => ai.describe(model, opts, 'embeddings', false),
    () => model.doEmbed(opts),
    (p: Promise<any>, call) => settle(p, call, ai.readEmbed),
  );
}

function doStream(model: any, opts: any) {
  return runCall(
    () => ai.describe(model, opts, 'chat', true),
    () => model.doStream(opts),
    (p: Promise<any>, call) =>
      p.then(
        (result) => {
          const stream = result?.stream as ReadableStream | undefined;
          if (!stream || typeof stream.pipeThrough !== 'function') {
            call.end();
            return result;
          }
          const observed = stream.pipeThrough(
            new TransformStream({
              transform(part, controller) {
                call.chunk();
                try {
                  ai.readStreamPart(part, call);
                } catch (err) {
                  recordFault('vercel-ai.stream', err);
                }
                controller.enqueue(part);
              },
              flush() {
                call.end();
              },
            }),
          );
          return { ...result, stream: observed };
        },
        (err) => {
          call.end(err);
          throw err;
        },
      ),
  );
}
