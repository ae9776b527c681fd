// Reading a plain kubenurse's /alive as it streams (issue #14 item 1): only last_check_result
// without its neighbour list is kept, whatever the size of the rest, and whatever the chunking.
import { describe, expect, it } from 'vitest';
import { AliveFormatError, AliveReader, KeptTooLargeError } from '../../src/status/alive-stream.ts';
import { parseAliveDocument } from '../../src/status/parse.ts';

/** kubenurse 1.15's /alive: indented with one space, the neighbourhood inside last_check_result. */
function aliveText(neighbours: number, checks: Record<string, string>): string {
  const neighbourhood = Array.from({ length: neighbours }, (_, i) => ({
    PodName: `kubenurse-${i}`,
    PodIP: `10.1.${i >> 8}.${i & 255}`,
    HostIP: `10.0.${i >> 8}.${i & 255}`,
    NodeName: `ip-10-0-${i >> 8}-${i & 255}.eu-west-1.compute.internal`,
    NodeHash: 1234567890123456,
  }));
  return JSON.stringify(
    {
      hostname: 'kubenurse-abc',
      headers: { Accept: ['*/*'], 'X-Odd': ['{"last_check_result": 1}', '\\"]}'] },
      user_agent: 'curl/8',
      request_uri: '/alive',
      remote_addr: '10.0.0.9:4242',
      last_check_result: { ...checks, neighbourhood_state: 'ok', neighbourhood },
    },
    null,
    1,
  );
}

function read(text: string, chunkSize: number, keptBytes = 256 * 1024): Record<string, unknown> {
  const reader = new AliveReader(keptBytes);
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += chunkSize)
    reader.push(bytes.subarray(at, at + chunkSize));
  return reader.end();
}

const CHECKS = {
  api_server_direct: 'ok',
  me_ingress: 'skipped',
  'path_node-a': 'Get "http://10.0.0.2:8080/alwayshappy": dial tcp: i/o timeout',
  'path_node-b': 'quote " backslash \\ brace } bracket ] unicode é ☃ 😀 \u0001',
};

describe('AliveReader', () => {
  it('keeps the check results and drops the neighbour list, whatever the chunking', () => {
    const text = aliveText(50, CHECKS);
    const expected = JSON.parse(text) as { last_check_result: Record<string, unknown> };
    delete expected.last_check_result.neighbourhood;
    for (const chunkSize of [1, 2, 3, 7, 64, 65_536])
      expect(read(text, chunkSize), `chunks of ${chunkSize}`).toEqual({
        last_check_result: expected.last_check_result,
      });
  });

  it('reads a 20,000-pod neighbourhood (~4 MB) keeping only a few hundred bytes', () => {
    const text = aliveText(20_000, CHECKS);
    expect(Buffer.byteLength(text)).toBeGreaterThan(3_500_000);
    // 1 KiB is enough to keep: the neighbour list never is.
    const doc = read(text, 16_384, 1024);
    const peer = parseAliveDocument(doc);
    expect([...peer.checks.keys()].sort()).toEqual(Object.keys(CHECKS).sort());
    expect(peer.checks.get('path_node-a')?.message).toContain('i/o timeout');
  });

  it('refuses check results past its bound', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) many[`path_node-${i}`] = 'ok';
    expect(() => read(aliveText(0, many), 4096, 8 * 1024)).toThrow(KeptTooLargeError);
  });

  it('gives no check when there is no last_check_result', () => {
    expect(parseAliveDocument(read('{"hostname":"x","headers":{"a":["{"]}}', 5)).checks.size).toBe(
      0,
    );
  });

  it('refuses what is not a JSON object, ends early, or goes on after the end', () => {
    for (const text of [
      '[1,2]',
      '"text"',
      '{"last_check_result": "ok"}',
      '{"last_check_result": {"a": "ok"',
      '{"hostname": "x}',
      '{"a": 1} {"b": 2}',
      '{"last_check_result": {"a": nope}}',
      '',
    ])
      expect(() => read(text, 3), text).toThrow(AliveFormatError);
  });
});
