// kubenurse's /alive document, made from our typed values at the HTTP edge. Field names, nesting
// and encoding follow kubenurse 1.15 (internal/kubenurse/handler.go, internal/servicecheck):
// everything about the checks and the neighbourhood lives in last_check_result.
import { resultMap, type RoundResult } from './checks/round.ts';
import { dictionary } from './dictionary.ts';
import type { KubeProxyAlive } from './kubeproxy/collector.ts';
import {
  hasNeighbourList,
  neighbourhoodStateText,
  type Neighbour,
  type NeighbourhoodView,
} from './state.ts';

/** kubenurse's servicecheck.Neighbour as Go's encoding/json writes it. */
export interface AliveNeighbour {
  readonly PodName: string;
  readonly PodIP: string;
  readonly HostIP: string;
  readonly NodeName: string;
  /** A uint64: written as an exact JSON number by stringifyAlive. */
  readonly NodeHash: bigint;
}

export interface AliveRequest {
  /** Node's rawHeaders: name, value, name, value, … */
  readonly rawHeaders: readonly string[];
  readonly requestUri: string;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

export function aliveNeighbour(neighbour: Neighbour): AliveNeighbour {
  return {
    PodName: neighbour.podName,
    PodIP: neighbour.podIp,
    HostIP: neighbour.hostIp,
    NodeName: neighbour.nodeName,
    NodeHash: neighbour.nodeHash,
  };
}

/**
 * last_check_result: every check type → "ok" | "skipped" | error text, plus neighbourhood_state
 * and, while discovery has a list, neighbourhood (all eligible neighbours, not only the checked).
 */
function lastCheckResult(
  result: RoundResult,
  neighbourhood: NeighbourhoodView,
): Record<string, string | AliveNeighbour[]> {
  const entries: [string, string | AliveNeighbour[]][] = Object.entries(resultMap(result));
  entries.push(['neighbourhood_state', neighbourhoodStateText(neighbourhood.state)]);
  if (hasNeighbourList(neighbourhood.state))
    entries.push(['neighbourhood', neighbourhood.neighbours.map(aliveNeighbour)]);
  return sortedRecord(entries);
}

/** Go's encoding/json writes map keys sorted; a prototype-less object keeps that order. */
function sortedRecord<T>(entries: [string, T][]): Record<string, T> {
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out = dictionary<T>();
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/** Go's textproto.CanonicalMIMEHeaderKey for the names a valid HTTP/1 request can carry. */
function canonicalHeaderName(name: string): string {
  // Go leaves names with bytes outside token characters unchanged.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name;
  return name
    .toLowerCase()
    .replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Go's http.Header of a server request: canonical names → values; Host is not in it (it is Request.Host). */
function goHeaders(rawHeaders: readonly string[]): Record<string, string[]> {
  const byName = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(rawHeaders[i] as string);
    if (name === 'Host') continue;
    const values = byName.get(name);
    if (values) values.push(rawHeaders[i + 1] as string);
    else byName.set(name, [rawHeaders[i + 1] as string]);
  }
  return sortedRecord([...byName]);
}

/**
 * Go's Request.RemoteAddr: "ip:port", IPv6 in brackets. Go's dual-stack listener reports IPv4
 * clients as plain IPv4; Node's reports them IPv4-mapped (::ffff:a.b.c.d).
 */
function goRemoteAddr(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const host = mapped ? (mapped[1] as string) : address;
  // Go's net.JoinHostPort brackets any host with a colon (an IPv6 address with a zone too),
  // which is not quite urlHost()'s isIP() test.
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? ''}`;
}

export interface AliveDocument {
  readonly hostname: string;
  readonly headers: Record<string, string[]>;
  readonly user_agent: string;
  readonly request_uri: string;
  readonly remote_addr: string;
  readonly last_check_result: Record<string, string | AliveNeighbour[]>;
  /** Ours, not kubenurse's: additive, after kubenurse's keys. */
  readonly kube_proxy?: KubeProxyAlive;
  /** Ours, only with node paths or all IP families on (docs/layers.md). */
  readonly neighbour_verdicts?: Record<string, { layer: string; detail: string }>;
}

/** The round's layer verdicts per neighbour node, as /alive shows them. */
export function aliveVerdicts(
  result: RoundResult,
): Record<string, { layer: string; detail: string }> | undefined {
  if (!result.verdicts) return undefined;
  return sortedRecord(
    [...result.verdicts].map(([node, { layer, detail }]) => [node, { layer, detail }]),
  );
}

export function aliveDocument(input: {
  readonly hostname: string;
  readonly request: AliveRequest;
  readonly result: RoundResult;
  readonly neighbourhood: NeighbourhoodView;
  readonly kubeProxy: KubeProxyAlive | undefined;
}): AliveDocument {
  const { request } = input;
  const headers = goHeaders(request.rawHeaders);
  const verdicts = aliveVerdicts(input.result);
  return {
    hostname: input.hostname,
    headers,
    // Go's Request.UserAgent(): the first User-Agent value.
    user_agent: headers['User-Agent']?.[0] ?? '',
    request_uri: request.requestUri,
    remote_addr: goRemoteAddr(request.remoteAddress, request.remotePort),
    last_check_result: lastCheckResult(input.result, input.neighbourhood),
    ...(input.kubeProxy === undefined ? {} : { kube_proxy: input.kubeProxy }),
    ...(verdicts === undefined ? {} : { neighbour_verdicts: verdicts }),
  };
}

// JSON.rawJSON (Node 21+) writes a number's digits verbatim; TypeScript's lib does not know it yet.
const rawJson = (text: string): unknown =>
  (JSON as unknown as { rawJSON(this: void, text: string): unknown }).rawJSON(text);

/** Go's json.Encoder escapes these by default (SetEscapeHTML(true)); kubenurse does not turn it off. */
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * kubenurse's encoding: one-space indent, a trailing newline, HTML characters escaped as Go
 * does, and NodeHash (a uint64) as an exact JSON number, not a rounded double.
 */
export function stringifyAlive(body: unknown): string {
  const text = JSON.stringify(
    body,
    (_key, value: unknown) => (typeof value === 'bigint' ? rawJson(value.toString()) : value),
    1,
  );
  // These characters can only occur inside JSON strings, so replacing them everywhere is exact.
  return `${text.replace(/[<>&\u2028\u2029]/g, (char) => GO_ESCAPES[char] as string)}\n`;
}
