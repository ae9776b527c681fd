// Where the servers listen. kubenurse listens on ":8080": every address family. The same here
// is "::" with IPv6-only off (one dual-stack socket: IPv4 clients arrive IPv4-mapped), and,
// on a kernel without IPv6, plain IPv4.
import type { Server } from 'node:net';
import type { Logger } from './log.ts';

/** The dual-stack wildcard, and the IPv4 one used when the kernel has no IPv6. */
export const ANY_ADDRESS = '::';
export const ANY_IPV4_ADDRESS = '0.0.0.0';

/** A burst of neighbours, scrapers and /alive callers must not overflow Node's default 511. */
const LISTEN_BACKLOG = 4096;

/** Errors of binding "::" that mean "no IPv6 here", not "port taken". */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on `host` when one is configured (KUBENURSE_BIND_ADDRESS: no fallback, the operator
 * asked for that address), else on every family. Resolves to the address actually bound, so a
 * second server (HTTPS) uses the same without failing again.
 */
export async function listenEveryFamily(
  server: Server,
  port: number,
  host: string | undefined,
  logger: Logger,
  listen: typeof listenOn = listenOn,
): Promise<string> {
  if (host !== undefined) {
    await listen(server, port, host);
    return host;
  }
  try {
    await listen(server, port, ANY_ADDRESS);
    return ANY_ADDRESS;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || !NO_IPV6.has(code)) throw error;
    logger.warn(
      { code, port },
      `IPv6 is not available (${code} binding [::]:${port}); listening on IPv4 only (0.0.0.0)`,
    );
    await listen(server, port, ANY_IPV4_ADDRESS);
    return ANY_IPV4_ADDRESS;
  }
}
