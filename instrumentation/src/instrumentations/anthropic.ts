import { runCall } from '../core/run.js';
import * as anthropic from '../providers/anthropic.js';
import { observeApiPromise } from '../providers/stainless.js';
import {
  type MethodPatch,
  mainExport,
  TokenmeterInstrumentation,
  type TokenmeterInstrumentationConfig,
} from './base.js';

/**
 * `@anthropic-ai/sdk` 0.x and 1.x: `messages.create` and `messages.stream()` (also the beta
 * messages). The SDK's own span for a call we record is switched off for that call (its
 * `_tracer`, read synchronously when the call starts), so one call is one span.
 */
export class AnthropicInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('anthropic', config);
  }

  protected target() {
    return { module: '@anthropic-ai/sdk', versions: ['>=0.20.0 <3'] };
  }

  protected patches(): MethodPatch[] {
    const messages = (m: any) => mainExport(m, 'Anthropic')?.Messages?.prototype;
    const beta = (m: any) => mainExport(m, 'Anthropic')?.Beta?.Messages?.prototype;
    return [
      { target: messages, method: 'create', wrap: wrapMessagesCreate },
      { target: messages, method: 'stream', wrap: withoutSdkSpan },
      { target: beta, method: 'create', wrap: wrapMessagesCreate },
      { target: beta, method: 'stream', wrap: withoutSdkSpan },
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
