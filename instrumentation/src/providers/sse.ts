/**
 * Server-sent events as bytes, for a stream read on its way to the app without being parsed for
 * it: the SDKs' raw `asResponse()` (stainless.ts) and tokenmeter's gateway (ingest/src/gateway).
 * Events are cut out of the byte stream as they complete (the HTML standard's event stream format:
 * a line ends with LF, CR LF or CR; an empty line ends an event); each event's JSON goes to the
 * provider's chunk reader, which says what the app would have seen (see `keepEvent`).
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

/** What `eventValue` gives for an event without JSON data (none, `[DONE]`, or not JSON). */
export const NOT_JSON = Symbol('not json');

/** An event's data as JSON, or NOT_JSON. */
export function eventValue(event: Buffer): unknown {
  const data = eventData(event);
  if (data === undefined || data === '[DONE]') return NOT_JSON;
  try {
    return JSON.parse(data);
  } catch {
    return NOT_JSON;
  }
}

const USAGE_NULL = /,\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,?/g;

/**
 * One event of a stream read on the way: `read` (the provider's chunk reader) says whether the app
 * would have seen it (false: an injected usage chunk, dropped), or gives the value as the app would
 * have had it (a copy without the `usage: null` that asking for usage adds). The bytes are changed
 * only then; every other event goes on as received.
 */
export function keepEvent(event: Buffer, read: (value: unknown) => unknown): Buffer | undefined {
  const value = eventValue(event);
  if (value === NOT_JSON) return event;
  const hadUsage = value !== null && typeof value === 'object' && 'usage' in value;
  const kept = read(value);
  if (kept === false) return undefined;
  // The reader's answer: the event's value as the caller would have had it (itself, or a copy).
  const shown = kept === true ? value : kept;
  if (!hadUsage || (shown !== null && typeof shown === 'object' && 'usage' in shown)) return event;
  const text = event.toString('utf8');
  const matches = text.match(USAGE_NULL);
  if (matches?.length === 1) return Buffer.from(text.replace(USAGE_NULL, ''), 'utf8');
  const end = /(\r\n|\r|\n)*$/.exec(text)?.[0] ?? '\n\n';
  return Buffer.from(`data: ${JSON.stringify(shown)}${end}`, 'utf8');
}
