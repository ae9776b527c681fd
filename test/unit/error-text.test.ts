import { describe, expect, it } from 'vitest';
import { describeError, errorMessage } from '../../src/error-text.ts';

function errno(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeError', () => {
  it('joins message and cause on one line, without repeating the code', () => {
    const error = Object.assign(new Error('fetch\nfailed'), {
      cause: errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
    });
    expect(describeError(error)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('prefixes the code when the message does not name it', () => {
    expect(
      describeError(
        Object.assign(new Error('self-signed certificate'), {
          code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
        }),
      ),
    ).toBe('DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate');
  });

  it('does not repeat a cause that the message already quotes', () => {
    const cause = new SyntaxError('more than 10 objects');
    const error = new Error('watch pods: more than 10 objects; re-listing', { cause });
    expect(describeError(error)).toBe('watch pods: more than 10 objects; re-listing');
  });

  it('names an error without a message by its name', () => {
    const error = new Error('');
    error.name = 'AbortError';
    expect(describeError(error)).toBe('AbortError');
  });

  it('bounds and folds anything thrown that is not an Error', () => {
    expect(describeError('a\n\tb')).toBe('a b');
    expect(describeError('x'.repeat(1000))).toHaveLength(300);
  });
});

describe('errorMessage', () => {
  it('is the message of an Error and the string form of anything else', () => {
    expect(errorMessage(new RangeError('out of range'))).toBe('out of range');
    expect(errorMessage(42)).toBe('42');
  });
});
