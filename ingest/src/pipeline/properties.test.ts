import { describe, expect, it } from 'vitest';
import { boundProperties } from './properties.js';

const limits = { maxProperties: 2, maxPropertyNameLength: 8, maxPropertyValueLength: 5 };

describe('boundProperties', () => {
  it.each([
    ['all within', { a: '1', b: '2' }, { a: '1', b: '2' }, []],
    ['excess: the first names in sorted order stay', { c: '3', a: '1', b: '2' }, { a: '1', b: '2' }, ['c:too_many']],
    ['value too long is dropped whole, never cut', { a: '123456', b: '2' }, { b: '2' }, ['a:value_too_long']],
    ['name too long', { abcdefghi: '1', b: '2' }, { b: '2' }, ['abcdefghi:name_too_long']],
    [
      'name with a space or braces',
      { 'a b': '1', '{x}': '2', 'ok.x-y_z': '3' },
      { 'ok.x-y_z': '3' },
      ['a b:invalid_name', '{x}:invalid_name'],
    ],
    [
      'a dropped one does not use up the count',
      { a: '123456', b: '2', c: '3' },
      { b: '2', c: '3' },
      ['a:value_too_long'],
    ],
    ['none', {}, {}, []],
  ])('%s', (_name, input, kept, dropped) => {
    const r = boundProperties(input, limits);
    expect(r.kept).toEqual(kept);
    expect(r.dropped.map((d) => `${d.name}:${d.reason}`).sort()).toEqual([...dropped].sort());
  });
});
