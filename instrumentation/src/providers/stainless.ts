import type { Call } from '../core/call.js';
import { recordFault } from '../core/faults.js';
import { type ChunkReader, type Dropped, endWhenDropped, observeStream } from '../core/stream.js';
import { keepEvent, SseEvents } from './sse.js';

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
    return asResponse.call(this).then((response: Response) => readRawResponse(response, tracked.call, tracked.reader));
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

/**
 * The app took the raw Response: usage is read from a clone of a JSON body, and from an event
 * stream on its way to the app (streamThrough). What the app gets back is that Response itself,
 * or, for a stream, one with the same status, headers and bytes.
 */
function readRawResponse(response: Response, call: Call, reader: ResultReader): Response {
  try {
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('text/event-stream') && response.body) return streamThrough(response, call, reader);
    if (!type.includes('json')) {
      reader.raw?.(response, call);
      call.end();
      return response;
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
  return response;
}

/**
 * A stream the app reads raw (`asResponse()`, e.g. to hand the SSE on to a browser): its events
 * are read as they pass (sse.ts), and the app reads the bytes it would have read without
 * tokenmeter: the API's own, less what asking for usage added (the usage event, `usage: null`).
 * The span ends with the body: at its end with the exact usage; cancelled by the app or failed
 * part-way, partial (estimated), the failure going to the app unchanged.
 */
function streamThrough(response: Response, call: Call, reader: ResultReader): Response {
  const source = response.body!.getReader();
  const events = new SseEvents();
  const read = (value: unknown): unknown => {
    call.chunk();
    try {
      return reader.chunk(value, call);
    } catch (err) {
      recordFault('stainless.raw-stream', err);
      return true;
    }
  };
  let ended = false;
  /** The span ends once: partial when the body failed or the app cancelled it. */
  const end = (error?: unknown, partial = error !== undefined) => {
    if (ended) return;
    ended = true;
    if (partial) call.partial = true;
    call.end(error);
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: { done: boolean; value?: Uint8Array };
      // Until an event is complete (or the body ends): a pull that gives nothing is not called again.
      for (;;) {
        try {
          chunk = await source.read();
        } catch (err) {
          end(err);
          controller.error(err);
          return;
        }
        if (chunk.done) {
          const rest = events.rest();
          if (rest) controller.enqueue(rest);
          controller.close();
          end();
          return;
        }
        let given = false;
        const bytes = chunk.value!;
        for (const event of events.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
          const kept = keepEvent(event, read);
          if (kept) {
            controller.enqueue(kept);
            given = true;
          }
        }
        if (given) return;
      }
    },
    cancel(reason) {
      end(undefined, true);
      return source.cancel(reason);
    },
  });
  const out = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // What a constructed Response cannot be given: where it came from.
  for (const key of ['url', 'redirected', 'type'] as const) {
    if (out[key] !== response[key]) Object.defineProperty(out, key, { value: response[key] });
  }
  return out;
}
