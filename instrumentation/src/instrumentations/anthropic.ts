import { startCall } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { isInstrumentationEnabled, runCall } from '../core/run.js';
import * as anthropic from '../providers/anthropic.js';
import { observeApiPromise } from '../providers/stainless.js';
import {
  type MethodPatch,
  mainExport,
  TokenmeterInstrumentation,
  type TokenmeterInstrumentationConfig,
} from './base.js';
import { TARGETS } from './targets.js';

/**
 * `@anthropic-ai/sdk` 0.x and 1.x: `messages.create` and `messages.stream()` (also the beta
 * messages), and the results of Message Batches. The SDK's own span for a call we record is switched off for that call (its
 * `_tracer`, read synchronously when the call starts), so one call is one span.
 */
export class AnthropicInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('anthropic', config);
  }

  protected target() {
    return TARGETS.anthropic;
  }

  protected patches(): MethodPatch[] {
    const messages = (m: any) => mainExport(m, 'Anthropic')?.Messages?.prototype;
    const beta = (m: any) => mainExport(m, 'Anthropic')?.Beta?.Messages?.prototype;
    return [
      { target: messages, method: 'create', wrap: wrapMessagesCreate },
      { target: messages, method: 'stream', wrap: withoutSdkSpan },
      { target: beta, method: 'create', wrap: wrapMessagesCreate },
      { target: beta, method: 'stream', wrap: withoutSdkSpan },
      {
        target: (m: any) => mainExport(m, 'Anthropic')?.Messages?.Batches?.prototype,
        method: 'results',
        wrap: wrapBatchResults,
      },
    ];
  }
}

export function wrapMessagesCreate(original: (...args: any[]) => any) {
  const bare = withoutSdkSpan(original);
  return function create(this: any, params: any, ...rest: any[]) {
    return runCall(
      () => anthropic.describe(this, params),
      () => bare.call(this, params, ...rest),
      (result, call) => observeApiPromise(result, call, anthropic.messagesReader),
    );
  };
}

/**
 * `messages.batches.results(id)`: each succeeded request, as the app reads it, becomes one span
 * (`tokenmeter.request.batch`, priced at the model's batch price), with the message's exact usage. The
 * decoder the app gets is the SDK's own; only its iterator is observed, and the lines pass
 * through unchanged.
 */
export function wrapBatchResults(original: (...args: any[]) => any) {
  return function results(this: any, ...args: any[]) {
    if (!isInstrumentationEnabled()) return original.apply(this, args);
    const pending = original.apply(this, args);
    if (!pending || typeof pending.then !== 'function') return pending;
    return pending.then((decoder: any) => {
      try {
        observeBatchLines(this, decoder);
      } catch (err) {
        recordFault('anthropic.batch', err);
      }
      return decoder;
    });
  };
}

function observeBatchLines(self: unknown, decoder: any): void {
  const iterate = decoder?.[Symbol.asyncIterator];
  if (typeof iterate !== 'function') return;
  Object.defineProperty(decoder, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function () {
      const inner = iterate.call(decoder);
      return {
        async next(...a: unknown[]) {
          const step = await inner.next(...a);
          if (!step.done) recordBatchLine(self, step.value);
          return step;
        },
        return: (v?: unknown) => inner.return?.(v) ?? Promise.resolve({ done: true, value: v }),
        throw: (e?: unknown) => inner.throw?.(e) ?? Promise.reject(e),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  });
}

function recordBatchLine(self: unknown, line: any): void {
  try {
    const spec = anthropic.batchResultCall(self as { _client?: { baseURL?: string } }, line);
    if (!spec) return;
    const call = startCall(spec);
    const message = line.result.message;
    call.responseId = message.id;
    call.responseModel = message.model;
    if (message.stop_reason) call.finishReasons = [message.stop_reason];
    call.usage = anthropic.anthropicUsage(message.usage);
    call.end();
  } catch (err) {
    recordFault('anthropic.batch', err);
  }
}

/** Run an SDK method with the client's own tracer switched off for the synchronous start of the call. */
export function withoutSdkSpan(original: (...args: any[]) => any) {
  return function (this: any, ...args: any[]) {
    const client = this?._client;
    if (!client || client._tracer === undefined) return original.apply(this, args);
    const tracer = client._tracer;
    // A field the SDK may one day make read-only: if it cannot be switched off, the call goes on as it is.
    if (!Reflect.set(client, '_tracer', undefined)) return original.apply(this, args);
    try {
      return original.apply(this, args);
    } finally {
      Reflect.set(client, '_tracer', tracer);
    }
  };
}
