import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../src/duration.ts';

describe('parseGoDuration', () => {
  it.each([
    ['5s', 5000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2h45m', 9_900_000],
    ['100us', 0.1],
    ['100µs', 0.1],
    ['1000000ns', 1],
    ['.5s', 500],
    ['0', 0],
    ['-1s', -1000],
    ['+2s', 2000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '5', 's', '5 s', '5sec', '1d', 'abc', '5s5', '--5s', '1..5s'])(
    'rejects %j',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined();
    },
  );
});
