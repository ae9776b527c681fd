import { describe, expect, it } from 'vitest';
import {
  HEALTHZ_BODY_LIMIT,
  HealthzParseError,
  isGoZeroTime,
  lastUpdatedAgeSeconds,
  parseGoTime,
  parseHealthz,
} from '../../src/kubeproxy/healthz.ts';

const JAN_2_2024_150405 = Date.UTC(2024, 0, 2, 15, 4, 5) / 1000;

describe('parseGoTime', () => {
  it('parses time.Time.String() with nanoseconds, zone name and monotonic reading', () => {
    expect(parseGoTime('2024-01-02 15:04:05.123456789 +0000 UTC m=+123.450000001')).toBeCloseTo(
      JAN_2_2024_150405 + 0.123456789,
      6,
    );
    expect(parseGoTime('2024-01-02 15:04:05.5 +0000 UTC m=-0.25')).toBe(JAN_2_2024_150405 + 0.5);
  });

  it('applies numeric offsets and ignores the zone abbreviation', () => {
    expect(parseGoTime('2024-01-02 16:04:05 +0100 CET')).toBe(JAN_2_2024_150405);
    expect(parseGoTime('2024-01-02 09:34:05 -0530 -0530')).toBe(JAN_2_2024_150405);
    expect(parseGoTime('2024-01-02 18:04:05 +0300 +03')).toBe(JAN_2_2024_150405);
  });

  it('parses RFC 3339 with and without fractions, Z or offsets', () => {
    expect(parseGoTime('2024-01-02T15:04:05Z')).toBe(JAN_2_2024_150405);
    expect(parseGoTime('2024-01-02T15:04:05.123456789Z')).toBeCloseTo(
      JAN_2_2024_150405 + 0.123456789,
      6,
    );
    expect(parseGoTime('2024-01-02T17:04:05.25+02:00')).toBe(JAN_2_2024_150405 + 0.25);
    expect(parseGoTime('2024-01-02t15:04:05z')).toBe(JAN_2_2024_150405);
    expect(parseGoTime(' 2024-01-02 15:04:05 ')).toBe(JAN_2_2024_150405); // no zone: UTC
  });

  it("recognises Go's zero time, year 1", () => {
    const zero = parseGoTime('0001-01-01 00:00:00 +0000 UTC');
    expect(zero).toBe(-62135596800);
    expect(isGoZeroTime(zero as number)).toBe(true);
    expect(isGoZeroTime(JAN_2_2024_150405)).toBe(false);
  });

  it('rejects what is not a time', () => {
    for (const text of [
      '',
      'yesterday',
      '2024-13-01 00:00:00',
      '2024-02-30T00:00:00Z',
      '2024-01-02 25:00:00',
      '2024-01-02T15:04:05+2500',
      '1704207845',
      '2024-01-02 15:04:05 +0000 UTC m=abc',
    ]) {
      expect(parseGoTime(text), text).toBeUndefined();
    }
  });
});

describe('parseHealthz', () => {
  it('parses a healthy kube-proxy body (lastUpdated = currentTime)', () => {
    const body =
      '{"lastUpdated": "2024-01-02 15:04:05.123456789 +0000 UTC m=+123.45","currentTime": "2024-01-02 15:04:05.123456789 +0000 UTC m=+123.45", "nodeEligible": true}';
    const health = parseHealthz(body);
    expect(health.nodeEligible).toBe(true);
    expect(lastUpdatedAgeSeconds(health)).toBe(0);
  });

  it('gives the age of the last sync from an unhealthy (503) body', () => {
    const body = Buffer.from(
      '{"lastUpdated": "2024-01-02 15:02:35 +0000 UTC m=+33.1","currentTime": "2024-01-02 15:04:05.5 +0000 UTC m=+123.6", "nodeEligible": false}',
    );
    const health = parseHealthz(body);
    expect(health.nodeEligible).toBe(false);
    expect(lastUpdatedAgeSeconds(health)).toBe(90.5);
  });

  it('accepts the /livez and pre-1.28 body without nodeEligible', () => {
    const health = parseHealthz(
      '{"lastUpdated": "2024-01-02T15:04:00Z","currentTime": "2024-01-02T15:04:05Z"}',
    );
    expect(health.nodeEligible).toBeUndefined();
    expect(lastUpdatedAgeSeconds(health)).toBe(5);
  });

  it('reports no age when kube-proxy never synced (zero lastUpdated)', () => {
    const health = parseHealthz(
      '{"lastUpdated": "0001-01-01 00:00:00 +0000 UTC","currentTime": "2024-01-02 15:04:05 +0000 UTC m=+1.0", "nodeEligible": true}',
    );
    expect(health.lastUpdated).toBeUndefined();
    expect(lastUpdatedAgeSeconds(health)).toBeUndefined();
  });

  const bad: [string, string, RegExp][] = [
    ['HTML', '<html>nope</html>', /not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['no currentTime', '{"lastUpdated": "2024-01-02T15:04:05Z"}', /currentTime is missing/],
    [
      'a numeric lastUpdated',
      '{"lastUpdated": 17, "currentTime": "2024-01-02T15:04:05Z"}',
      /lastUpdated is missing or not a string/,
    ],
    [
      'an unparsable time',
      '{"lastUpdated": "soon", "currentTime": "2024-01-02T15:04:05Z"}',
      /lastUpdated is not a time: "soon"/,
    ],
    [
      'a string nodeEligible',
      '{"lastUpdated": "2024-01-02T15:04:05Z", "currentTime": "2024-01-02T15:04:05Z", "nodeEligible": "yes"}',
      /nodeEligible is not a boolean/,
    ],
    [
      'a zero currentTime',
      '{"lastUpdated": "2024-01-02T15:04:05Z", "currentTime": "0001-01-01 00:00:00 +0000 UTC"}',
      /currentTime is the zero time/,
    ],
  ];
  for (const [what, body, message] of bad) {
    it(`rejects ${what} with a clear error`, () => {
      expect(() => parseHealthz(body)).toThrow(HealthzParseError);
      expect(() => parseHealthz(body)).toThrow(message);
    });
  }

  it('rejects a body over the limit without parsing it', () => {
    const body = Buffer.alloc(HEALTHZ_BODY_LIMIT + 1, ' ');
    expect(() => parseHealthz(body)).toThrow(
      `healthz body of ${HEALTHZ_BODY_LIMIT + 1} bytes is larger than ${HEALTHZ_BODY_LIMIT}`,
    );
  });
});
