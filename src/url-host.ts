// A host as it goes into a URL: IPv6 literals need brackets (pod IPs, host IPs and the
// apiserver address can all be IPv6 in a dual-stack cluster), and lose them again on the way
// out of a URL.
import { isIP } from 'node:net';

export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The reverse: a URL's hostname without the brackets of an IPv6 literal, as sockets and isIP() want it. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '');
}
