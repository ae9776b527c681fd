// How a neighbour's prober pod is probed (kubenurse's path_<node> request), in a module of
// its own so the layer checks can probe a second address the same way without loading
// discovery (and client-node) into the main chunk.
import type { Config } from '../config.ts';
import { urlHost } from '../url-host.ts';

/** Sent with every path_ probe; /alwayshappy (server.ts) reads it to count who checked us. */
export const NEIGHBOUR_ORIGIN_HEADER = 'KUBENURSE-NEIGHBOUR-ORIGIN';

export function podPathRequest(
  config: Config,
  address: string,
): { url: string; headers: Record<string, string> } {
  const host = urlHost(address);
  const url = config.useTls
    ? `https://${host}:${config.tlsPort}/alwayshappy`
    : `http://${host}:${config.port}/alwayshappy`;
  return { url, headers: { [NEIGHBOUR_ORIGIN_HEADER]: config.podName } };
}
