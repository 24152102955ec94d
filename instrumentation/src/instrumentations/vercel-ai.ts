import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { Call } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { warnOnce } from '../core/registry.js';
import { runCall } from '../core/run.js';
import * as ai from '../providers/vercel-ai.js';
import { type MethodPatch, TokenmeterInstrumentation, type TokenmeterInstrumentationConfig } from './base.js';
import { TARGETS } from './targets.js';
import { instrumentAgents } from './vercel-ai-agents.js';
import { continueCall, type ModelOperation, RetryHolds } from './vercel-ai-retries.js';

/**
 * Vercel `ai` v5+: generateText, streamText, generateObject, streamObject, embed, embedMany.
 * Each gets its `model` wrapped so that every provider request (doGenerate, doStream, doEmbed,
 * one per step of a tool loop) is one span; the ai SDK's own retries of a request continue
 * that span. A model given as a string id (`'openai/gpt-4o-mini'`) is resolved first, as `ai`
 * would resolve it: `globalThis.AI_SDK_DEFAULT_PROVIDER`, else the AI Gateway provider. When
 * the provider goes through an SDK we also instrument, that inner span is the call and this
 * one is marked delegated (never counted). Agents (`ToolLoopAgent`), which call ai's internal
 * generateText/streamText, get the same per call: vercel-ai-agents.ts.
 */
const ENTRY_POINTS: Readonly<Record<string, ModelKind>> = {
  generateText: 'language',
  streamText: 'language',
  generateObject: 'language',
  streamObject: 'language',
  embed: 'embedding',
  embedMany: 'embedding',
};
type ModelKind = 'language' | 'embedding';

export class VercelAIInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('vercel-ai', config);
  }

  protected target() {
    return TARGETS.vercelAi;
  }

  protected patches(): MethodPatch[] {
    return [];
  }

  // The package's exports are getters (CommonJS) or a namespace (ESM): replaced, not wrapped in place.
  protected override init() {
    return new InstrumentationNodeModuleDefinition('ai', this.target().versions, (exports: any) =>
      this.patchModule(exports),
    );
  }

  override patchModule(exports: any): any {
    return instrumentAiModule(exports);
  }
}

/** Exports with the entry points wrapped: in place where the module object allows it, else a copy. */
export function instrumentAiModule<T extends Record<string, any>>(exports: T): T {
  try {
    let target: Record<string, any> = exports;
    // ai's default provider when AI_SDK_DEFAULT_PROVIDER is unset: the gateway it exports (the same instance).
    const gateway = () => exports.gateway;
    for (const [name, kind] of Object.entries(ENTRY_POINTS)) {
      const original = exports[name];
      if (typeof original !== 'function' || original.__tokenmeter) continue;
      const wrapped = wrapEntryPoint(original, kind, gateway);
      try {
        target[name] = wrapped;
      } catch {}
      if (target[name] !== wrapped) {
        if (target === exports) target = { ...exports };
        target[name] = wrapped;
      }
    }
    instrumentAgents(exports, (options) => instrumentOptions(options, 'language', gateway));
    return target as T;
  } catch (err) {
    recordFault('vercel-ai.patch', err);
    return exports;
  }
}

function wrapEntryPoint(original: (...args: any[]) => any, kind: ModelKind, gateway: () => unknown) {
  const wrapped = function (this: unknown, options: any, ...rest: any[]) {
    if (options && typeof options === 'object' && options.model) {
      try {
        options = instrumentOptions(options, kind, gateway);
      } catch (err) {
        recordFault('vercel-ai.options', err);
      }
    }
    return original.call(this, options, ...rest);
  };
  Object.defineProperty(wrapped, '__tokenmeter', { value: true });
  Object.defineProperty(wrapped, 'name', { value: original.name });
  return wrapped;
}

function instrumentOptions(options: any, kind: ModelKind, gateway: () => unknown): any {
  // ai's own default and validation: an invalid value is left for ai to reject.
  const maxRetries = options.maxRetries ?? 2;
  const holds = new RetryHolds(Number.isInteger(maxRetries) ? maxRetries : 0);
  const instrument = (m: unknown) => {
    const model = resolveModel(m, kind, gateway);
    return model && typeof model === 'object' ? wrapModel(unwrapped(model), holds) : m;
  };
  const next = { ...options, model: instrument(options.model) };
  // A step may switch models (prepareStep → { model }): that one is a provider request of this call too.
  const prepareStep = options.prepareStep;
  if (typeof prepareStep === 'function') {
    next.prepareStep = async (...args: unknown[]) => {
      const step = await prepareStep(...args);
      return step && typeof step === 'object' && step.model ? { ...step, model: instrument(step.model) } : step;
    };
  }
  return next;
}

/**
 * A string model id as `ai` resolves it (resolveLanguageModel / resolveEmbeddingModel): the
 * global default provider, else the gateway. When that fails, the string goes on to `ai`, which
 * then reports the problem itself.
 */
function resolveModel(model: unknown, kind: ModelKind, gateway: () => unknown): unknown {
  if (typeof model !== 'string') return model;
  try {
    const provider = ((globalThis as any).AI_SDK_DEFAULT_PROVIDER ?? gateway()) as any;
    const make =
      kind === 'language' ? provider?.languageModel : (provider?.embeddingModel ?? provider?.textEmbeddingModel);
    return typeof make === 'function' ? (make.call(provider, model) ?? model) : model;
  } catch {
    return model;
  }
}

const WRAPPED = Symbol.for('tokenmeter.model');
const TARGET = Symbol.for('tokenmeter.model.target');

/** The model under our proxy (an app may pass an instrumentModel() model to an instrumented `ai`). */
function unwrapped(model: object): object {
  return ((model as any)[TARGET] as object | undefined) ?? model;
}

/**
 * A model whose provider calls are recorded. Use it directly when your `ai` import is bundled:
 * `generateText({ model: instrumentModel(openai('gpt-4o')), … })`. (Through the instrumented
 * entry points, the ai SDK's retries of a request also continue its span.)
 */
export function instrumentModel<M>(model: M): M {
  const m = model as any;
  if (!m || typeof m !== 'object' || !isModel(m)) {
    // A model id or a framework's model config (Mastra's 'openai/gpt-4o-mini'): nothing to wrap.
    warnOnce(
      'instrument-model-config',
      `instrumentModel() was given ${typeof m === 'string' ? `the model id '${m}'` : 'something that is not an ai model object'}: ` +
        'its calls are not recorded. Give it the model object (openai("gpt-4o-mini")); model ids given to ai or Mastra ' +
        'are recorded by the hooks under register.',
    );
    return model;
  }
  return wrapModel(m, undefined) as M;
}

function isModel(m: any): boolean {
  return typeof m.doGenerate === 'function' || typeof m.doStream === 'function' || typeof m.doEmbed === 'function';
}

function wrapModel<M extends object>(model: M, holds: RetryHolds | undefined): M {
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
      if (prop === TARGET) return target;
      if (prop === 'doGenerate') return (opts: any) => doGenerate(target, opts, holds);
      if (prop === 'doStream') return (opts: any) => doStream(target, opts, holds);
      if (prop === 'doEmbed') return (opts: any) => doEmbed(target, opts, holds);
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

/**
 * One provider request: a new span, or, when the ai SDK is retrying a failed attempt of this
 * call, the held span of that attempt. A failure ai will retry leaves the span open for it.
 */
function modelCall<T>(
  operation: ModelOperation,
  opts: any,
  holds: RetryHolds | undefined,
  describe: () => ReturnType<typeof ai.describe>,
  invoke: () => Promise<T>,
  read: (r: T, call: Call) => T | Promise<T>,
): Promise<T> {
  const fail = (call: Call, err: unknown) => {
    if (!holds?.hold(call, operation, err, opts?.abortSignal)) call.end(err);
  };
  const observe = (p: Promise<T>, call: Call) =>
    p.then(
      (r) => read(r, call),
      (err) => {
        fail(call, err);
        throw err;
      },
    );
  const held = holds?.take(operation);
  if (!held) return runCall(describe, invoke, observe);
  let result: Promise<T>;
  try {
    result = continueCall(held, invoke);
  } catch (err) {
    fail(held, err);
    throw err;
  }
  return observe(result, held);
}

function settled<T>(read: (r: T, call: Call) => void) {
  return (r: T, call: Call): T => {
    try {
      read(r, call);
    } catch (err) {
      recordFault('vercel-ai.read', err);
    }
    call.end();
    return r;
  };
}

function doGenerate(model: any, opts: any, holds: RetryHolds | undefined) {
  return modelCall(
    'generate',
    opts,
    holds,
    () => ai.describe(model, opts, 'chat', false),
    () => model.doGenerate(opts),
    settled(ai.readGenerate),
  );
}

function doEmbed(model: any, opts: any, holds: RetryHolds | undefined) {
  return modelCall(
    'embed',
    opts,
    holds,
    () => ai.describe(model, opts, 'embeddings', false),
    () => model.doEmbed(opts),
    settled(ai.readEmbed),
  );
}

function doStream(model: any, opts: any, holds: RetryHolds | undefined) {
  return modelCall(
    'stream',
    opts,
    holds,
    () => ai.describe(model, opts, 'chat', true),
    () => model.doStream(opts),
    (result: any, call) => {
      const stream = result?.stream as ReadableStream | undefined;
      if (!stream || typeof stream.getReader !== 'function') {
        call.end();
        return result;
      }
      return { ...result, stream: observePartStream(stream, call) };
    },
  );
}

/**
 * The model's stream of parts, read as it passes. The span ends however the stream ends: its
 * finish (exact usage), an error or an abort of the request (what was seen, estimated when no
 * usage came), or the reader cancelling it.
 */
function observePartStream(stream: ReadableStream, call: Call): ReadableStream {
  const reader = stream.getReader();
  return new ReadableStream({
    async pull(controller) {
      let next: { done?: boolean; value?: unknown };
      try {
        next = await reader.read();
      } catch (err) {
        call.partial = true;
        call.end(err);
        controller.error(err);
        return;
      }
      if (next.done) {
        call.end();
        controller.close();
        return;
      }
      call.chunk();
      try {
        ai.readStreamPart(next.value, call);
      } catch (err) {
        recordFault('vercel-ai.stream', err);
      }
      controller.enqueue(next.value);
    },
    cancel(reason) {
      call.partial = true;
      call.end();
      return reader.cancel(reason);
    },
  });
}
