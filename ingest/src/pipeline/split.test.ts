import { describe, expect, it } from 'vitest';
import { classifyInsertError } from './insert-errors.js';
import { type GroupSpan, type SplitPart, spansIn, splitPart, wholeGroup } from './split.js';

const spans = (tenants: string): GroupSpan[] => [...tenants].map((t, i) => ({ key: `k${i}`, tenant: t }));

describe('splitPart', () => {
  it('splits a group by tenant first, in order of first appearance, keeping what is done', () => {
    const s = spans('bbabab');
    const parts = splitPart(s, { ...wholeGroup(), tracesDone: true })!;
    expect(parts).toEqual([
      { tenant: 'b', from: 0, to: 4, tracesDone: true, failures: 0 },
      { tenant: 'a', from: 0, to: 2, tracesDone: true, failures: 0 },
    ]);
    expect(spansIn(s, parts[1]!).map((x) => x.key)).toEqual(['k2', 'k4']);
  });

  it('halves a one-tenant part down to single spans, covering every span once', () => {
    const s = spans('aaaaa');
    const seen: string[] = [];
    const queue: SplitPart[] = [wholeGroup()];
    let steps = 0;
    while (queue.length > 0) {
      const p = queue.shift()!;
      const next = splitPart(s, p);
      if (next) {
        steps++;
        queue.push(...next);
      } else seen.push(...spansIn(s, p).map((x) => x.key));
    }
    expect(seen.sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(steps).toBe(4);
  });
});

describe('classifyInsertError', () => {
  it.each([
    [{ type: 'CANNOT_PARSE_ESCAPE_SEQUENCE', code: '25' }, false, 'parse'],
    [{ code: '25' }, false, 'parse'],
    [{ type: 'TYPE_MISMATCH', code: '53' }, false, 'type'],
    [{ type: 'DECIMAL_OVERFLOW', code: '407' }, false, 'range'],
    [{ type: 'TOO_LARGE_STRING_SIZE', code: '131' }, false, 'too_large'],
    [{ type: 'MEMORY_LIMIT_EXCEEDED', code: '241' }, true, 'transient'],
    [{ type: 'TIMEOUT_EXCEEDED', code: '159' }, true, 'transient'],
    [{ type: 'UNKNOWN_TABLE', code: '60' }, true, 'transient'],
    [{ code: 'ECONNREFUSED' }, true, 'transient'],
    [new Error('socket hang up'), true, 'transient'],
  ])('%o → retryable %s (%s)', (err, retryable, reason) => {
    expect(classifyInsertError(Object.assign(new Error('x'), err))).toMatchObject({ retryable, reason });
  });
});
