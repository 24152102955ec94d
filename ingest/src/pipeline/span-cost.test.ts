import { describe, expect, it } from 'vitest';
import { claimExcerpt, exceedsCap, judgeSpanCost } from './span-cost.js';

const bounds = { factor: 10, maxCallUsd: '1000' };

describe('judgeSpanCost: a span cost is believed only when it is a plausible decimal', () => {
  it.each([
    // claim, catalogue price (null: unpriced), refusal
    ['0.0075', '0.0075', undefined],
    ['0.075', '0.0075', undefined], // × 10: the edge of the range
    ['0.075001', '0.0075', undefined], // within the micro-dollar slack
    ['0.075002', '0.0075', 'outside_range'],
    ['0.00075', '0.0075', undefined], // ÷ 10
    ['0.0007', '0.0075', 'outside_range'],
    ['0', '0.0075', 'outside_range'],
    ['0', '0', undefined],
    ['0.0000001', '0', undefined], // a rounding on a free call
    ['99000000000000000000000000', '0.0075', 'above_cap'],
    ['100000000000000000000', '0.0075', 'above_cap'], // 1e20 on a 1,000-token call
    ['1000', null, undefined], // unpriced model: only the cap
    ['1000.000000000001', null, 'above_cap'],
    ['-1', '0.0075', 'not_a_decimal'],
    ['1e5', '0.0075', 'not_a_decimal'],
    ['NaN', '0.0075', 'not_a_decimal'],
    ['0x10', '0.0075', 'not_a_decimal'],
    ['true', null, 'not_a_decimal'],
    ['0.0000000000001', '0', 'not_a_decimal'], // 13 decimals: not a Decimal(38, 12)
    ['999999999999999999999999999', null, 'not_a_decimal'], // 27 digits
    ['', null, 'not_a_decimal'],
  ] as const)('%s against %s → %s', (claim, catalogue, refusal) => {
    expect(judgeSpanCost(claim, catalogue, bounds)).toBe(refusal);
  });

  it('exceedsCap compares exactly', () => {
    expect(exceedsCap('1000', bounds)).toBe(false);
    expect(exceedsCap('1000.000000000001', bounds)).toBe(true);
  });
});

describe('exceedsCap without parsing an amount of fewer whole digits', () => {
  it('agrees with the exact comparison on both sides of several caps', () => {
    const amounts = ['0', '999', '999.999999999999', '0999.5', '1000', '1000.000000000001', '99.1', '5.', '.5'];
    amounts.push('-5', ' 5', '1e2', '12.1234567890123', '00000000001000.1', '0.000000000001', '1001', '123456');
    for (const maxCallUsd of ['1000', '0.5', '1', '10.25', '1000000000']) {
      const b = { factor: 10, maxCallUsd };
      const cap = Number(maxCallUsd);
      for (const usd of amounts) {
        const valid = /^-?\d+(\.\d{1,12})?$/.test(usd.trim());
        if (!valid) {
          expect(() => exceedsCap(usd, b), `${usd} / ${maxCallUsd}`).toThrow();
          continue;
        }
        expect(exceedsCap(usd, b), `${usd} / ${maxCallUsd}`).toBe(Number(usd) > cap);
      }
    }
  });
});

describe('claimExcerpt: the kept part of a refused claim', () => {
  it('cuts between code points, never inside a surrogate pair', () => {
    const claim = `${'9'.repeat(63)}😀😀`; // the 64th character is an emoji: units 63 and 64
    const kept = claimExcerpt(claim);
    expect(kept).toBe(`${'9'.repeat(63)}😀`);
    expect(kept.isWellFormed()).toBe(true);
    expect(claim.slice(0, 64).isWellFormed()).toBe(false); // what a plain slice would have stored
  });

  it('keeps a short claim as it is', () => {
    expect(claimExcerpt('0.5')).toBe('0.5');
  });
});
