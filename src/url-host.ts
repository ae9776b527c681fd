// A host as it goes into a URL: IPv6 literals need brackets (pod IPs, host IPs and the
// apiserver address can all be IPv6 in a dual-stack cluster).
import { isIP } from 'node:net';

export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
