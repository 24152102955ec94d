import type { Call } from './call.js';
import { recordFault } from './faults.js';

/** Reads one chunk into the call; returns false to hide the chunk from the app (injected usage). */
export type ChunkReader<T> = (chunk: T, call: Call) => boolean;

/**
 * Stream accounting shared by every provider: pass each chunk through, read it into the call,
 * and end the span however the stream ends (done, error, early break, abort) with what was seen.
 */
export async function* observeStream<T>(
  source: AsyncIterator<T>,
  call: Call,
  read: ChunkReader<T>,
  isAborted?: () => boolean,
): AsyncGenerator<T, void, undefined> {
  let done = false;
  let failed = false;
  try {
    for (;;) {
      const r = await source.next();
      if (r.done) {
        done = true;
        return;
      }
      const chunk = r.value;
      call.chunk();
      let keep = true;
      try {
        keep = read(chunk, call);
      } catch (err) {
        recordFault('stream.read', err);
      }
      if (keep) yield chunk;
    }
  } catch (err) {
    failed = true;
    call.partial = true;
    call.end(err);
    throw err;
  } finally {
    try {
      if (!done && !failed) {
        // The app stopped early (break/return): close the SDK's iterator as a bare loop would.
        call.partial = true;
        await source.return?.();
      }
    } finally {
      if (isAborted?.()) call.partial = true;
      call.end();
    }
  }
}
