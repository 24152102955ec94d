import type { Call } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { runCall } from '../core/run.js';
import { type Dropped, endWhenDropped, observeStream } from '../core/stream.js';
import * as bedrock from '../providers/bedrock.js';
import { type MethodPatch, TokenmeterInstrumentation, type TokenmeterInstrumentationConfig } from './base.js';
import { TARGETS } from './targets.js';

/**
 * `@aws-sdk/client-bedrock-runtime`: `client.send(command)` for the four model-calling commands;
 * every other command passes through untouched. The response's event stream is replaced by one
 * that reads as it goes and yields the same events.
 */
export class BedrockInstrumentation extends TokenmeterInstrumentation {
  constructor(config: TokenmeterInstrumentationConfig = {}) {
    super('bedrock-runtime', config);
  }

  protected target() {
    return TARGETS.bedrock;
  }

  protected patches(): MethodPatch[] {
    return [{ target: (m) => ownSendTarget(m), method: 'send', wrap: wrapSend }];
  }
}

/** `send` lives on smithy's Client; an own wrapper on BedrockRuntimeClient leaves other AWS clients alone. */
function ownSendTarget(m: any): object | undefined {
  const proto = (m?.BedrockRuntimeClient ?? m?.default?.BedrockRuntimeClient)?.prototype;
  if (!proto) return undefined;
  if (!Object.hasOwn(proto, 'send')) {
    const inherited = proto.send;
    Object.defineProperty(proto, 'send', {
      value: function send(this: unknown, ...args: unknown[]) {
        return inherited.apply(this, args);
      },
      writable: true,
      configurable: true,
    });
  }
  return proto;
}

/** Bedrock's token-count headers of each InvokeModel output, read by the client middleware below. */
const headersOf = new WeakMap<object, bedrock.TokenCountHeaders>();
const HAS_MIDDLEWARE = Symbol('tokenmeter.bedrockTokenHeaders');

/**
 * InvokeModel's output does not expose the response headers, where Bedrock puts the token counts
 * of every model family. A client middleware (outermost step, so it sees the raw response beside
 * the parsed output) notes them per output object; it changes nothing the app sees.
 */
function ensureHeaderMiddleware(client: any): void {
  if (!client || client[HAS_MIDDLEWARE] || typeof client.middlewareStack?.add !== 'function') return;
  client[HAS_MIDDLEWARE] = true;
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<any>) => async (args: unknown) => {
      const result = await next(args);
      try {
        const found = bedrock.tokenCountHeaders(result?.response?.headers);
        if (found && result.output && typeof result.output === 'object') headersOf.set(result.output, found);
      } catch (err) {
        recordFault('bedrock.headers', err);
      }
      return result;
    },
    { step: 'initialize', name: 'tokenmeterBedrockTokenHeaders', override: true },
  );
}

export function wrapSend(original: (...args: any[]) => any) {
  return function send(this: any, command: any, ...rest: any[]) {
    const kind = bedrock.kindOf(command);
    // Callback style and other commands: untouched.
    if (!kind || typeof rest[rest.length - 1] === 'function') return original.call(this, command, ...rest);
    if (kind === 'invoke') {
      try {
        ensureHeaderMiddleware(this);
      } catch (err) {
        recordFault('bedrock.headers', err);
      }
    }
    return runCall(
      () => bedrock.describe(command, kind),
      () => original.call(this, command, ...rest),
      (result: Promise<any>, call) =>
        result.then(
          (response) => observeResponse(response, kind, call),
          (err) => {
            call.end(err);
            throw err;
          },
        ),
    );
  };
}

function observeResponse(response: any, kind: bedrock.BedrockKind, call: Call): any {
  try {
    if (kind === 'converse') bedrock.readConverse(response, call);
    else if (kind === 'invoke') bedrock.readInvoke(response, call, headersOf.get(response));
    else {
      const field = kind === 'converse-stream' ? 'stream' : 'body';
      const source = response?.[field];
      if (response?.$metadata?.requestId) call.responseId = response.$metadata.requestId;
      if (source && typeof source[Symbol.asyncIterator] === 'function') {
        const read = kind === 'converse-stream' ? bedrock.readConverseEvent : bedrock.readInvokeEvent;
        let dropped: Dropped | undefined;
        const observed = {
          [Symbol.asyncIterator]: () => {
            // The first iterator takes the registration over (see core/stream.ts).
            const held = dropped;
            dropped = undefined;
            return observeStream(
              source[Symbol.asyncIterator](),
              call,
              read,
              undefined,
              held && { held, owner: observed },
            );
          },
        };
        response[field] = observed;
        // Never iterated: the span still ends, when the app lets go of the stream.
        dropped = endWhenDropped(observed, call);
        return response;
      }
    }
  } catch (err) {
    recordFault('bedrock.read', err);
  }
  call.end();
  return response;
}
