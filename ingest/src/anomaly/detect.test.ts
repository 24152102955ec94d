import { describe, expect, it } from 'vitest';
import { costSpike, DEFAULT_ERROR_RULES, DEFAULT_SPIKE_RULES, errorSpike } from './detect.js';

const rules = { ...DEFAULT_SPIKE_RULES, minHourlyUsd: 1 };
const steady = [10, 11, 9, 10, 12, 8, 10, 11, 9, 10, 10, 12, 8, 10];

describe('costSpike: same-hour band, z-score, floor', () => {
  it.each([
    ['an ordinary hour', 12, steady, false],
    ['the edge of the usual range', 16, steady, false],
    ['a 10× hour', 100, steady, true],
    ['a 10× hour under the floor (cents)', 0.5, steady.map((x) => x / 100), false],
    ['a spike with too little history', 100, [10, 10, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], false],
    ['a first spend after a silent fortnight', 5, Array(14).fill(0), false],
  ])('%s', (_name, cost, baseline, expected) => {
    expect(costSpike(cost, baseline, rules).isSpike).toBe(expected);
  });
  it('reports its bound and z', () => {
    const v = costSpike(100, steady, rules);
    expect(v.mean).toBeCloseTo(10, 6);
    expect(v.bound).toBeGreaterThan(10);
    expect(v.z).toBeGreaterThan(4);
  });
});

describe('errorSpike: binomial z against the trailing share', () => {
  it.each([
    ['50 % of 80 calls, baseline 2 %', { errors: 40, requests: 80 }, true],
    ['3 % of 100 calls, baseline 2 %', { errors: 3, requests: 100 }, false],
    ['10 of 12 calls: too few to page', { errors: 10, requests: 12 }, false],
  ])('%s', (_name, current, expected) => {
    expect(errorSpike(current, { errors: 200, requests: 10_000 }, DEFAULT_ERROR_RULES).isSpike).toBe(expected);
  });
});
