import { describe, expect, it } from 'vitest';
import { LineSplitter, ListDecoder, StreamLimitError } from '../../src/neighbours/stream.ts';

function decode(
  text: string,
  chunkSize: number,
  limits = { maxItemBytes: 1 << 20, maxItems: 1000 },
) {
  const items: unknown[] = [];
  const decoder = new ListDecoder(limits, (item) => items.push(item));
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) decoder.push(bytes.subarray(i, i + chunkSize));
  return { items, metadata: decoder.finish() };
}

describe('ListDecoder', () => {
  const list = {
    kind: 'NodeList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '42', continue: 'abc"}]', remainingItemCount: 3 },
    items: [
      { metadata: { name: 'a', annotations: { x: '}]{["\\"' } }, spec: { taints: [{ key: 'k' }] } },
      { metadata: { name: 'ü-ñ', labels: {} }, status: { images: [[], {}, 'é'] } },
      {},
    ],
  };
  const text = JSON.stringify(list, null, 1);

  it.each([1, 2, 3, 7, 64, 100_000])(
    'gives every item and the metadata, in chunks of %i bytes',
    (size) => {
      const { items, metadata } = decode(text, size);
      expect(items).toEqual(list.items);
      expect(metadata).toEqual({ resourceVersion: '42', continue: 'abc"}]' });
    },
  );

  it('accepts items before metadata and an empty list', () => {
    expect(decode('{"items":[],"metadata":{"resourceVersion":"7"}}', 3)).toEqual({
      items: [],
      metadata: { resourceVersion: '7' },
    });
    expect(decode('{"metadata":null,"items":[]}', 5).metadata).toEqual({});
  });

  it('refuses an item larger than the limit, and more items than allowed', () => {
    const big = JSON.stringify({ items: [{ metadata: { name: 'x'.repeat(5000) } }] });
    expect(() => decode(big, 100, { maxItemBytes: 1000, maxItems: 10 })).toThrow(StreamLimitError);
    const many = JSON.stringify({ items: Array.from({ length: 11 }, () => ({})) });
    expect(() => decode(many, 100, { maxItemBytes: 1000, maxItems: 10 })).toThrow(
      /more than 10 items/,
    );
  });

  it('refuses malformed and truncated responses', () => {
    expect(() => decode('[1,2]', 10)).toThrow(SyntaxError);
    expect(() => decode('{"items":{}}', 10)).toThrow(SyntaxError);
    expect(() => decode('{"items":[1]}', 10)).toThrow(SyntaxError);
    expect(() => decode('{"items":[{"a":1}', 10)).toThrow(/truncated/);
    expect(() => decode('{"kind":"Status"}', 10)).toThrow(/no items/);
  });
});

describe('LineSplitter', () => {
  it('splits across chunks and skips blank lines', () => {
    const splitter = new LineSplitter(100);
    const lines = [
      ...splitter.push(Buffer.from('{"a":1}\n{"b"')),
      ...splitter.push(Buffer.from(':2}\n\n{"c":')),
      ...splitter.push(Buffer.from('3}\n')),
    ];
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('throws as soon as a line passes the limit, before its end', () => {
    const splitter = new LineSplitter(10);
    expect([...splitter.push(Buffer.from('12345'))]).toEqual([]);
    expect(() => [...splitter.push(Buffer.from('678901'))]).toThrow(StreamLimitError);
  });
});
