import { describe, expect, it } from 'vitest';
import { fmt, gaps, maxInWindow, percentile, slope, summarize } from '../../bench/lib/stats.ts';

describe('bench percentile (nearest rank)', () => {
  it('returns observed values: p50 of 1..10 is 5, p99 is 10, p0 is the minimum', () => {
    const values = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 100)).toBe(10);
  });

  it('p99 of 200 samples is the 198th smallest', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    expect(percentile(values, 99)).toBe(198);
  });

  it('is NaN without samples and rejects percentiles outside [0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it("does not reorder the caller's array", () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('bench summarize / slope / fmt', () => {
  it('summarizes min, max, mean and percentiles', () => {
    const s = summarize([4, 1, 3, 2]);
    expect(s).toMatchObject({ n: 4, min: 1, max: 4, mean: 2.5, p50: 2, p99: 4 });
    expect(summarize([]).n).toBe(0);
  });

  it('fits the slope of a line and of a flat series', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2);
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0);
    expect(slope([1], [1])).toBeNaN();
  });

  it('formats NaN and undefined as a dash', () => {
    expect(fmt(1.23456, 2)).toBe('1.23');
    expect(fmt(Number.NaN)).toBe('–');
    expect(fmt(undefined)).toBe('–');
  });
});

describe('bench round windows', () => {
  it('counts the most events inside any window of the given length', () => {
    expect(maxInWindow([0, 3000, 6000, 9000], 3000)).toBe(1);
    expect(maxInWindow([0, 2999, 6000], 3000)).toBe(2);
    expect(maxInWindow([5, 1, 3, 2, 4], 10)).toBe(5);
    expect(maxInWindow([], 3000)).toBe(0);
  });

  it('lists gaps between consecutive events in time order', () => {
    expect(gaps([6000, 0, 3000])).toEqual([3000, 3000]);
    expect(gaps([1])).toEqual([]);
  });
});
