// Redirects as Go's http.Client follows them (net/http client.go), which is what upstream
// kubenurse's probes do. Pure, so every rule is table-tested.
//
// Our probes are GETs without a body; for those Go's redirectBehavior reduces to "follow
// 301, 302, 303, 307 and 308 with GET and no body". Go's default CheckRedirect stops before
// the 11th redirect would be followed, with the error "stopped after 10 redirects".
import { rawUserinfo, redactUserinfo, userinfoProblem, withoutUserinfo } from './userinfo.ts';
import { bareHost } from '../url-host.ts';

const MAX_REDIRECTS = 10;

const FOLLOWED = new Set([301, 302, 303, 307, 308]);

export function isFollowedRedirect(status: number): boolean {
  return FOLLOWED.has(status);
}

/** Headers Go does not carry to a host outside the initial host's domain (lower case). */
const SENSITIVE = new Set([
  'authorization',
  'www-authenticate',
  'cookie',
  'cookie2',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** Go's isDomainOrSubdomain: "sub.foo.com" and "foo.com" may receive foo.com's credentials. */
export function isDomainOrSubdomain(sub: string, parent: string): boolean {
  if (sub === parent) return true;
  // An IPv6 literal (or zone) is never a subdomain of anything.
  if (sub.includes(':') || sub.includes('%')) return false;
  return sub.endsWith(parent) && sub[sub.length - parent.length - 1] === '.';
}

function hostnameOf(url: URL): string {
  return bareHost(url.hostname);
}

export interface Hop {
  /** Where this hop goes, with any userinfo still in it (the caller turns it into Basic auth). */
  readonly url: URL;
  /** The initial request's headers, less the sensitive ones once the chain left their domain. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * `policy`: the client stopped the chain, so the last response is the answer (Go returns it
 * with the error); `round_trip`: the next request could not be sent at all.
 */
export type NextHop =
  { readonly hop: Hop } | { readonly error: string; readonly kind: 'policy' | 'round_trip' };

/**
 * The redirect chain of one probe. `strippedSensitive` is sticky, as in Go since
 * CVE-2024-45336: once a hop left the initial domain, coming back does not restore credentials.
 */
export class RedirectChain {
  private readonly initial: URL;
  private readonly initialHeaders: Readonly<Record<string, string>>;
  private strippedSensitive = false;
  private followed = 0;
  private current: Hop;

  constructor(url: URL, headers: Readonly<Record<string, string>>) {
    this.initial = url;
    this.initialHeaders = headers;
    this.current = { url, headers };
  }

  get first(): Hop {
    return this.current;
  }

  /** How many redirects were followed so far. */
  get redirects(): number {
    return this.followed;
  }

  /**
   * The next hop for a followed redirect's Location, or the error Go's client returns
   * (its text as Go prints it, with any userinfo in the Location redacted).
   */
  follow(location: string): NextHop {
    const from = this.current.url;
    let next: URL;
    try {
      next = new URL(location, from);
    } catch {
      return { error: this.parseError(location, 'invalid URL'), kind: 'policy' };
    }
    const userinfo = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(location)
      ? rawUserinfo(location)
      : undefined;
    const problem = userinfo === undefined ? undefined : userinfoProblem(userinfo);
    if (problem !== undefined) return { error: this.parseError(location, problem), kind: 'policy' };
    if (this.followed >= MAX_REDIRECTS)
      return {
        error: `Get "${redactUserinfo(location)}": stopped after 10 redirects`,
        kind: 'policy',
      };
    // Go's transport refuses other schemes when it is asked to send the hop.
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      return {
        error: `Get "${withoutUserinfo(next).href}": unsupported protocol scheme "${next.protocol.slice(0, -1)}"`,
        kind: 'round_trip',
      };

    if (
      !this.strippedSensitive &&
      this.initial.host !== next.host &&
      !isDomainOrSubdomain(hostnameOf(next), hostnameOf(this.initial))
    )
      this.strippedSensitive = true;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.initialHeaders))
      if (!(this.strippedSensitive && SENSITIVE.has(name.toLowerCase()))) headers[name] = value;
    const referer = refererFor(from, next);
    if (referer !== undefined && !hasHeader(headers, 'referer')) headers.referer = referer;

    this.followed++;
    this.current = { url: next, headers };
    return { hop: this.current };
  }

  private parseError(location: string, reason: string): string {
    const from = withoutUserinfo(this.current.url).href;
    const loc = redactUserinfo(location);
    return `Get "${from}": failed to parse Location header "${loc}": parse "${loc}": ${reason}`;
  }
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/**
 * Go's refererForURL: the previous URL without userinfo, never from https to http. (Go keeps a
 * fragment, which an HTTP client never has in practice; we drop it as RFC 9110 asks.)
 */
export function refererFor(last: URL, next: URL): string | undefined {
  if (last.protocol === 'https:' && next.protocol === 'http:') return undefined;
  const referer = withoutUserinfo(last);
  if (referer.hash === '') return referer.href;
  const copy = new URL(referer.href);
  copy.hash = '';
  return copy.href;
}
