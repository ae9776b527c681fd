// kube-proxy's /healthz (and /livez) JSON body:
//   {"lastUpdated": "<time>","currentTime": "<time>", "nodeEligible": true}
// The times are Go time.Time values printed with %q, i.e. time.Time.String():
//   "2024-01-02 15:04:05.123456789 +0000 UTC m=+123.450000001"
// A healthy kube-proxy reports lastUpdated = currentTime; an unhealthy one (503) reports the
// time of its last successful sync, or Go's zero time if it never synced. /livez has no
// nodeEligible. Other producers may write RFC 3339, so times are parsed leniently.

/** The body is a few hundred bytes; anything near this is not kube-proxy. */
export const HEALTHZ_BODY_LIMIT = 64 * 1024;

export interface KubeProxyHealth {
  /** Seconds since the epoch; undefined when kube-proxy reports Go's zero time (never synced). */
  readonly lastUpdated: number | undefined;
  readonly currentTime: number;
  /** Absent in /livez and in kube-proxy releases before 1.28. */
  readonly nodeEligible: boolean | undefined;
}

export class HealthzParseError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'HealthzParseError';
  }
}

// A time in any of the spellings Go's time.Time.String() or RFC 3339 produce, part by part.
const DATE = /(\d{4,6})-(\d{2})-(\d{2})/;
const CLOCK_WITH_FRACTION = /[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?/;
/** Z, or a numeric offset (+hh:mm, +hhmm, +hh:mm:ss), or none. */
const OFFSET = / ?(?:([Zz])|([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?)?/;
/** Go appends the zone's abbreviation ("UTC", "CET") or, when it has none, the offset again. */
const ZONE_NAME = /(?: +(?:[A-Za-z][A-Za-z0-9_/+-]*|[+-]\d{2,6}))?/;
/** Go's monotonic clock reading, "m=+123.45". */
const MONOTONIC = /(?: +m=[+-]\d+(?:\.\d+)?)?/;
const TIME = new RegExp(
  `^${[DATE, CLOCK_WITH_FRACTION, OFFSET, ZONE_NAME, MONOTONIC].map((part) => part.source).join('')}$`,
);

/** Go's zero time.Time, 0001-01-01T00:00:00Z, in seconds since the epoch. */
const GO_ZERO_TIME = -62135596800;

/** Seconds since the epoch (with the fraction kept to the microsecond or so), or undefined. */
export function parseGoTime(text: string): number | undefined {
  const match = TIME.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, offH, offM, offS] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const date = new Date(0);
  // setUTCFullYear, because Date.UTC maps years 0–99 to 1900–1999 and Go's zero time is year 1.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined; // 2024-02-31
  date.setUTCHours(hour, minute, second, 0);
  let seconds = date.getTime() / 1000;
  if (fraction !== undefined) seconds += Number(`0.${fraction}`);
  if (zulu === undefined && sign !== undefined) {
    const offset = Number(offH) * 3600 + Number(offM) * 60 + Number(offS ?? 0);
    if (Number(offH) > 23 || Number(offM) > 59) return undefined;
    seconds -= sign === '-' ? -offset : offset;
  }
  return seconds;
}

export function isGoZeroTime(seconds: number): boolean {
  // A zero time printed in another zone is still the zero time; a day either side covers it.
  return Math.abs(seconds - GO_ZERO_TIME) <= 86_400;
}

export function parseHealthz(body: string | Uint8Array): KubeProxyHealth {
  if (body.length > HEALTHZ_BODY_LIMIT)
    throw new HealthzParseError(
      `healthz body of ${body.length} bytes is larger than ${HEALTHZ_BODY_LIMIT}`,
    );
  const text =
    typeof body === 'string'
      ? body
      : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HealthzParseError(`healthz body is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new HealthzParseError('healthz body is not a JSON object');
  const fields = json as Record<string, unknown>;
  const currentTime = timeField(fields, 'currentTime');
  const lastUpdated = timeField(fields, 'lastUpdated');
  const eligible = fields.nodeEligible;
  if (eligible !== undefined && typeof eligible !== 'boolean')
    throw new HealthzParseError('healthz field nodeEligible is not a boolean');
  if (isGoZeroTime(currentTime))
    throw new HealthzParseError('healthz currentTime is the zero time');
  return {
    currentTime,
    lastUpdated: isGoZeroTime(lastUpdated) ? undefined : lastUpdated,
    nodeEligible: eligible,
  };
}

/** currentTime − lastUpdated, both from kube-proxy's own clock; undefined if it never synced. */
export function lastUpdatedAgeSeconds(health: KubeProxyHealth): number | undefined {
  return health.lastUpdated === undefined ? undefined : health.currentTime - health.lastUpdated;
}

function timeField(fields: Record<string, unknown>, name: string): number {
  const value = fields[name];
  if (typeof value !== 'string')
    throw new HealthzParseError(`healthz field ${name} is missing or not a string`);
  const seconds = parseGoTime(value);
  if (seconds === undefined)
    throw new HealthzParseError(
      `healthz field ${name} is not a time: ${JSON.stringify(value.slice(0, 60))}`,
    );
  return seconds;
}
