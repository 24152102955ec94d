import type { Call } from './call.js';
import { recordFault } from './faults.js';

/**
 * A stream the app drops (never iterated, or left mid-way without break/return) still ends its
 * span: when the stream object is garbage collected, with what was seen (estimated, marked
 * `tokenmeter.stream.dropped`). A stream read to its end, closed or aborted has ended its span
 * already (`end` is idempotent). The registry holds the call, never the stream.
 */
interface Dropped {
  call: Call;
  since: number;
}
const unread = new FinalizationRegistry<Dropped>((held) => {
  try {
    const call = held.call;
    if (call.isEnded()) return;
    call.partial = true;
    call.droppedSince = held.since;
    call.end();
  } catch (err) {
    recordFault('stream.unread', err);
  }
});

/**
 * End `call` when `stream` is collected, unless `release`d first. Released as soon as the stream
 * ends or iteration takes over, so that the registry holds a call only while its stream is live
 * (a registration that outlives its call costs every garbage collection).
 */
export function endWhenDropped(stream: object, call: Call): Dropped {
  const held: Dropped = { call, since: Date.now() };
  unread.register(stream, held, held);
  return held;
}

export function release(held: Dropped): void {
  unread.unregister(held);
}

/** Reads one chunk into the call; returns false to hide the chunk from the app (injected usage). */
export type ChunkReader<T> = (chunk: T, call: Call) => boolean;

/**
 * Stream accounting shared by every provider: pass each chunk through, read it into the call,
 * and end the span however the stream ends (done, error, early break, abort) with what was seen.
 *
 * A hand-written iterator rather than an async generator: one promise hop per chunk instead of
 * several, since this runs for every chunk of every stream.
 */
export function observeStream<T>(
  source: AsyncIterator<T>,
  call: Call,
  read: ChunkReader<T>,
  isAborted?: () => boolean,
): AsyncIterableIterator<T> {
  let finished = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    release(dropped);
    if (isAborted?.()) call.partial = true;
    call.end(error);
  };
  const fail = (error: unknown): never => {
    call.partial = true;
    finish(error);
    throw error;
  };
  const step = (r: IteratorResult<T>): IteratorResult<T> | Promise<IteratorResult<T>> => {
    if (r.done) {
      finish();
      return r;
    }
    call.chunk();
    let keep = true;
    try {
      keep = read(r.value, call);
    } catch (err) {
      recordFault('stream.read', err);
    }
    // A hidden chunk: pull the next one, so the app sees exactly the stream it would have seen.
    return keep ? r : source.next().then(step, fail);
  };
  const iterator: AsyncIterableIterator<T> = {
    next: () => source.next().then(step, fail),
    // The app stopped early (break/return): close the SDK's iterator as a bare loop would.
    return: (value?: unknown) => {
      if (!finished) call.partial = true;
      const closed = source.return ? source.return(value) : Promise.resolve({ done: true, value } as IteratorResult<T>);
      return Promise.resolve(closed).then(
        (r) => {
          finish();
          return r;
        },
        (err) => fail(err),
      );
    },
    throw: (err?: unknown) => {
      if (!source.throw) return fail(err);
      return source.throw(err).then(step, fail);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  // Left mid-way without break/return: the span still ends, when the app lets go of the iterator.
  const dropped = endWhenDropped(iterator, call);
  return iterator;
}
