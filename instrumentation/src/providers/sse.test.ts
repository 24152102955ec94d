import { describe, expect, it } from 'vitest';
import { eventData, SseEvents } from './sse.js';

const parts = (s: string, cuts: number[]) => {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, s.length]) {
    out.push(Buffer.from(s.slice(at, c)));
    at = c;
  }
  return out;
};

describe('SseEvents', () => {
  const stream = 'data: {"a":1}\n\nevent: x\ndata: {"b":2}\r\n\r\ndata: [DONE]\r\rdata: 3\n\n';
  const events = ['data: {"a":1}\n\n', 'event: x\ndata: {"b":2}\r\n\r\n', 'data: [DONE]\r\r', 'data: 3\n\n'];

  it.each([[[]], [[1]], [[14]], [[15]], [[38, 39]], [[40]], [[5, 20, 41, 52]]])(
    'cuts at %j: the same events, bytes as received',
    (cuts) => {
      const sse = new SseEvents();
      const got = parts(stream, cuts).flatMap((p) => sse.push(p).map((e) => e.toString()));
      expect(got).toEqual(events);
      expect(sse.rest()).toBeUndefined();
    },
  );

  it('a CR at the end of a chunk waits for the next one (it may be CR LF)', () => {
    const sse = new SseEvents();
    expect(sse.push(Buffer.from('data: 1\r\n\r')).map(String)).toEqual([]);
    expect(sse.push(Buffer.from('\n')).map(String)).toEqual(['data: 1\r\n\r\n']);
  });

  it('an incomplete last event is kept as rest', () => {
    const sse = new SseEvents();
    sse.push(Buffer.from('data: 1\n\ndata: 2'));
    expect(sse.rest()?.toString()).toBe('data: 2');
  });

  it('eventData joins data lines and strips one space', () => {
    expect(eventData(Buffer.from('event: x\ndata: a\ndata:b\n\n'))).toBe('a\nb');
    expect(eventData(Buffer.from(': comment\n\n'))).toBeUndefined();
  });
});
