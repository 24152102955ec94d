import type { Call } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { type ChunkReader, type Dropped, endWhenDropped, observeStream } from '../core/stream.js';

/**
 * The `openai` and `@anthropic-ai/sdk` packages share one generated core (Stainless):
 * methods return an `APIPromise` whose parsing is lazy, and streams are `Stream` objects
 * built on an `iterator` function. We hook those in place, so the app gets the very same
 * object back: `withResponse()`, `asResponse()`, `_thenUnwrap`, `tee()`, `controller` all work.
 */
interface ApiPromiseLike {
  responsePromise: Promise<unknown>;
  parseResponse: (client: unknown, props: unknown) => unknown;
  parsedPromise?: unknown;
  asResponse: () => Promise<Response>;
}

export interface ResultReader {
  /** Read a parsed, non-stream response body into the call. */
  read(data: any, call: Call): void;
  /** Read one stream event; false hides it from the app. */
  chunk: ChunkReader<any>;
  /** A binary answer the app took raw (`asResponse()`): what the call is known by without its body (speech). */
  raw?(response: Response, call: Call): void;
}

export function isApiPromise(p: unknown): p is ApiPromiseLike {
  const x = p as ApiPromiseLike | null;
  return !!x && typeof x.parseResponse === 'function' && x.responsePromise instanceof Promise;
}

export function observeApiPromise<T>(promise: T, call: Call, reader: ResultReader): T {
  if (!isApiPromise(promise)) {
    // An SDK shape we do not know: end on settle, without touching what the app gets.
    Promise.resolve(promise as unknown).then(
      (data) => {
        reader.read(data, call);
        call.end();
      },
      (err) => call.end(err),
    );
    return promise;
  }
  const p = promise as ApiPromiseLike;
  // Failed after the SDK's own retries, or its parsing failed: the span ends with the error the
  // app will see (one handler for both: end is idempotent).
  const fail = (err: unknown) => {
    call.end(err);
    throw err;
  };
  p.responsePromise = p.responsePromise.then(undefined, fail);
  const parse = p.parseResponse;
  const observed = function (this: unknown, client: unknown, props: unknown) {
    return Promise.resolve(parse.call(this, client, props)).then((data) => observeData(data, call, reader), fail);
  } as ObservedParse;
  // What a bare asResponse() needs, kept on the parse function (cheaper than a WeakMap entry).
  observed[OBSERVED] = { call, reader };
  p.parseResponse = observed;
  // asResponse() is hooked once on the SDK's APIPromise class, not per call: an own property
  // on every instance would change its shape and slow the SDK's own calls on it.
  hookAsResponse(Object.getPrototypeOf(p));
  return promise;
}

const OBSERVED = Symbol('tokenmeter.observed');
type ObservedParse = ((client: unknown, props: unknown) => unknown) & {
  [OBSERVED]?: { call: Call; reader: ResultReader };
};
const hooked = new WeakSet<object>();
/** The class hooked last: every call of an app with one SDK skips the WeakSet lookup. */
let lastHooked: object | undefined;

function hookAsResponse(proto: { asResponse?: () => Promise<Response> } | null): void {
  if (proto === lastHooked || !proto || typeof proto.asResponse !== 'function') return;
  lastHooked = proto;
  if (hooked.has(proto)) return;
  hooked.add(proto);
  const asResponse = proto.asResponse;
  proto.asResponse = function (this: ApiPromiseLike) {
    const tracked = (this.parseResponse as ObservedParse)[OBSERVED];
    // withResponse() parses too; only a bare asResponse() leaves the body to the app.
    if (!tracked || this.parsedPromise !== undefined) return asResponse.call(this);
    return asResponse.call(this).then((response: Response) => {
      readRawResponse(response, tracked.call, tracked.reader);
      return response;
    });
  };
}

function observeData(data: unknown, call: Call, reader: ResultReader): unknown {
  try {
    const stream = data as {
      iterator?: () => AsyncIterator<unknown>;
      controller?: AbortController;
    } | null;
    if (
      stream &&
      typeof stream.iterator === 'function' &&
      typeof (stream as any)[Symbol.asyncIterator] === 'function'
    ) {
      const iterator = stream.iterator;
      const controller = stream.controller;
      // Never iterated: the span still ends, when the app lets go of the stream. The first
      // iterator takes this registration over (a `tee()` makes a second one, which registers itself).
      let dropped: Dropped | undefined = endWhenDropped(stream, call);
      stream.iterator = function (this: unknown) {
        const held = dropped;
        dropped = undefined;
        return observeStream(
          iterator.call(this),
          call,
          reader.chunk,
          () => controller?.signal.aborted === true,
          held && { held, owner: stream },
        );
      };
      return data;
    }
    reader.read(data, call);
  } catch (err) {
    recordFault('stainless.read', err);
  }
  call.end();
  return data;
}

/** The app took the raw Response: read usage from a clone of a JSON body; a stream ends unread. */
function readRawResponse(response: Response, call: Call, reader: ResultReader): void {
  try {
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('json')) {
      reader.raw?.(response, call);
      call.end();
      return;
    }
    response
      .clone()
      .json()
      .then(
        (data) => {
          reader.read(data, call);
          call.end();
        },
        () => call.end(),
      );
  } catch (err) {
    recordFault('stainless.raw', err);
    call.end();
  }
}
