/**
 * Server-sent events, cut out of a byte stream as they complete (the HTML standard's event
 * stream format: a line ends with LF, CR LF or CR; an empty line ends an event). Only the
 * framing is here: what an event means is the provider adapters' (instrumentation/src/providers).
 */
const LF = 10;
const CR = 13;

export class SseEvents {
  private pending: Buffer | undefined;

  /** The events that `chunk` completes, each with its closing empty line (bytes as received). */
  push(chunk: Buffer): Buffer[] {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const events: Buffer[] = [];
    const n = buf.length;
    let eventStart = 0;
    let lineStart = 0;
    let i = 0;
    while (i < n) {
      const b = buf[i]!;
      if (b !== LF && b !== CR) {
        i++;
        continue;
      }
      let next = i + 1;
      if (b === CR) {
        // A CR at the end may be the first half of CR LF: wait for the next chunk.
        if (next >= n) break;
        if (buf[next] === LF) next++;
      }
      if (i === lineStart) {
        events.push(buf.subarray(eventStart, next));
        eventStart = next;
      }
      lineStart = next;
      i = next;
    }
    this.pending = eventStart < n ? Buffer.from(buf.subarray(eventStart)) : undefined;
    return events;
  }

  /** Bytes of an event not yet complete (the stream ended or was cut mid-event). */
  rest(): Buffer | undefined {
    return this.pending;
  }
}

/** The data of an event (its `data:` lines joined by LF), or undefined when it has none. */
export function eventData(event: Buffer): string | undefined {
  const text = event.toString('utf8');
  let data: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}
