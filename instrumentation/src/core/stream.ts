import type { Call } from './call.js';
import { recordFault } from './faults.js';

/**
 * A stream the app drops (never iterated, or left mid-way without break/return) still ends its
 * span: when the stream object is garbage collected, with what was seen (estimated, marked
 * `tokenmeter.stream.dropped`). A stream read to its end, closed or aborted has ended its span
 * already (`end` is idempotent). The registry holds the call, never the stream.
 */
export interface Dropped {
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
 * ends, so that the registry holds a call only while its stream is live
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

/**
 * Reads one chunk into the call. Returns true to pass it on, false to hide it from the app (the
 * injected usage chunk), or the chunk to pass on instead (the same chunk without what tokenmeter
 * added: a copy costs less than `delete`, which leaves the app a slow dictionary-mode object).
 */
export type ChunkReader<T> = (chunk: T, call: Call) => boolean | T;

/**
 * A registration made for the object a stream's iterator comes from (the SDK's stream), handed
 * to `observeStream` so that the iterator takes it over instead of registering itself: the
 * iterator keeps `owner` alive, so `owner` is collected only once the iterator is too. One
 * registration per stream instead of two (each costs about as much as a promise hop).
 */
export interface Adopted {
  held: Dropped;
  owner: object;
}

/**
 * Stream accounting shared by every provider: pass each chunk through, read it into the call,
 * and end the span however the stream ends (done, error, early break, abort) with what was seen.
 *
 * A hand-written iterator rather than an async generator: one promise hop per chunk instead of
 * several, since this runs for every chunk of every stream; and one object per stream (a class,
 * two bound callbacks) rather than a closure per method.
 */
export function observeStream<T>(
  source: AsyncIterator<T>,
  call: Call,
  read: ChunkReader<T>,
  isAborted?: () => boolean,
  adopted?: Adopted,
): AsyncIterableIterator<T> {
  return new ObservedStream(source, call, read, isAborted, adopted);
}

class ObservedStream<T> implements AsyncIterableIterator<T> {
  private finished = false;
  private readonly dropped: Dropped;
  /** Held only so that an adopted registration's target outlives this iterator. */
  readonly owner: object | undefined;

  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly call: Call,
    private readonly read: ChunkReader<T>,
    private readonly isAborted: (() => boolean) | undefined,
    adopted: Adopted | undefined,
  ) {
    this.owner = adopted?.owner;
    // Left mid-way without break/return: the span still ends, when the app lets go of the iterator.
    this.dropped = adopted ? adopted.held : endWhenDropped(this, call);
  }

  private finish(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    release(this.dropped);
    if (this.isAborted?.()) this.call.partial = true;
    this.call.end(error);
  }

  private readonly fail = (error: unknown): never => {
    this.call.partial = true;
    this.finish(error);
    throw error;
  };

  private readonly step = (r: IteratorResult<T>): IteratorResult<T> | Promise<IteratorResult<T>> => {
    if (r.done) {
      this.finish();
      return r;
    }
    const call = this.call;
    call.chunk();
    let keep: boolean | T = true;
    try {
      keep = this.read(r.value, call);
    } catch (err) {
      recordFault('stream.read', err);
    }
    if (keep === true) return r;
    // A hidden chunk: pull the next one, so the app sees exactly the stream it would have seen.
    if (keep === false) return this.source.next().then(this.step, this.fail);
    return { done: false, value: keep };
  };

  next(): Promise<IteratorResult<T>> {
    return this.source.next().then(this.step, this.fail);
  }

  /** The app stopped early (break/return): close the SDK's iterator as a bare loop would. */
  return(value?: unknown): Promise<IteratorResult<T>> {
    if (!this.finished) this.call.partial = true;
    const source = this.source;
    const closed = source.return ? source.return(value) : Promise.resolve({ done: true, value } as IteratorResult<T>);
    return Promise.resolve(closed).then(
      (r) => {
        this.finish();
        return r;
      },
      (err) => this.fail(err),
    );
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    if (!this.source.throw) return this.fail(err);
    return this.source.throw(err).then(this.step, this.fail);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
