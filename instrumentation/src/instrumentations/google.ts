import { type Context, context } from '@opentelemetry/api';
import type { Call } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { runCall } from '../core/run.js';
import { observeStream } from '../core/stream.js';
import * as google from '../providers/google.js';
import { type MethodPatch, TokenmeterInstrumentation, type TokenmeterInstrumentationConfig } from './base.js';
import { TARGETS } from './targets.js';

/**
 * `@google/genai`: the public `models.*` methods are per-instance arrow functions, so the
 * prototype methods they call for each model request are wrapped instead (this also gives one
 * span per model request when automatic function calling loops). A stream whose later model
 * requests start while the app reads it (automatic function calling, continuation hops) reads
 * in the caller's context, so those requests carry the caller's usage context too.
 */
export class GoogleGenAIInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('google-genai', config);
  }

  protected target() {
    return TARGETS.google;
  }

  protected patches(): MethodPatch[] {
    const models = (m: any) => (m?.Models ?? m?.default?.Models)?.prototype;
    return [
      { target: models, method: 'generateContentInternal', wrap: wrapGenerate },
      {
        target: models,
        method: 'generateContentStreamInternal',
        wrap: wrapGenerateStream,
      },
      { target: models, method: 'embedContentInternal', wrap: wrapEmbed },
      { target: models, method: 'processAfcStream', wrap: inCallersContext },
      { target: models, method: 'generateContentStreamWithContinuation', wrap: inCallersContext },
    ];
  }
}

function settle<T>(promise: Promise<T>, call: Call, read: (r: T, call: Call) => void): Promise<T> {
  return promise.then(
    (r) => {
      try {
        read(r, call);
      } catch (err) {
        recordFault('google.read', err);
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

export function wrapGenerate(original: (...args: any[]) => any) {
  return function generateContentInternal(this: any, params: any, ...rest: any[]) {
    return runCall(
      () => google.describe(this, params, 'generate_content', false),
      () => original.call(this, params, ...rest),
      (result: Promise<unknown>, call) => settle(result, call, google.readResponse),
    );
  };
}

export function wrapGenerateStream(original: (...args: any[]) => any) {
  return function generateContentStreamInternal(this: any, params: any, ...rest: any[]) {
    return runCall(
      () => google.describe(this, params, 'generate_content', true),
      () => original.call(this, params, ...rest),
      (result: Promise<AsyncGenerator<unknown>>, call) =>
        result.then(
          (generator) =>
            observeStream(generator, call, google.generateReader.chunk) as unknown as AsyncGenerator<unknown>,
          (err) => {
            call.end(err);
            throw err;
          },
        ),
    );
  };
}

export function wrapEmbed(original: (...args: any[]) => any) {
  return function embedContentInternal(this: any, params: any, ...rest: any[]) {
    return runCall(
      () => google.describe(this, params, 'embeddings', false),
      () => original.call(this, params, ...rest),
      (result: Promise<unknown>, call) => settle(result, call, google.readEmbedding),
    );
  };
}

/** A method returning a promise of an async generator: the generator runs in the caller's context. */
export function inCallersContext(original: (...args: any[]) => any) {
  return function (this: any, ...args: any[]) {
    const ctx = context.active();
    const result = original.apply(this, args);
    if (!result || typeof result.then !== 'function') return result;
    return result.then((generator: AsyncGenerator<unknown>) => boundGenerator(generator, ctx));
  };
}

function boundGenerator<T>(generator: AsyncGenerator<T>, ctx: Context): AsyncGenerator<T> {
  if (!generator || typeof generator.next !== 'function') return generator;
  const bound: AsyncGenerator<T> = {
    next: (...a: [] | [unknown]) => context.with(ctx, () => generator.next(...a)),
    return: (value: any) => context.with(ctx, () => generator.return(value)),
    throw: (err: unknown) => context.with(ctx, () => generator.throw(err)),
    [Symbol.asyncIterator]() {
      return bound;
    },
  } as AsyncGenerator<T>;
  return bound;
}
