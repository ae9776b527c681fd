// kubenurse's fixed checks: the apiserver directly and by name, our own Service and Ingress,
// and KUBENURSE_EXTRA_CHECKS.
import type { ProberContext } from '../context.ts';
import { readToken } from '../probe/tls.ts';
import type { Check, CheckOutcome, CheckSource } from './types.ts';
import { urlHost } from '../url-host.ts';

function skipped(type: string, reason: string): Check {
  const outcome: CheckOutcome = { status: 'skipped', reason };
  return { type, run: async () => outcome };
}

function hostPort(host: string, port: string): string {
  return `${urlHost(host)}:${port}`;
}

function httpCheck(ctx: ProberContext, type: string, url: string, withToken = false): Check {
  return {
    type,
    async run(signal) {
      const headers: Record<string, string> = {};
      if (withToken) {
        // Re-read every time: projected tokens rotate, and the token must never be cached in logs.
        const token = readToken(ctx.config.serviceAccountDir);
        if (token !== undefined) headers.authorization = `Bearer ${token}`;
      }
      return (await ctx.prober.probe({ type, url, headers }, signal)).outcome;
    },
  };
}

export function builtinChecks(ctx: ProberContext): CheckSource {
  const { config } = ctx;
  const list: Check[] = [];
  const port = config.apiServerPort ?? '443';

  if (!config.checkApiServerDirect)
    list.push(skipped('api_server_direct', 'KUBENURSE_CHECK_API_SERVER_DIRECT=false'));
  else if (config.apiServerHost === undefined)
    list.push(skipped('api_server_direct', 'KUBERNETES_SERVICE_HOST is not set'));
  else
    list.push(
      httpCheck(
        ctx,
        'api_server_direct',
        `https://${hostPort(config.apiServerHost, port)}/version`,
        true,
      ),
    );

  if (!config.checkApiServerDns)
    list.push(skipped('api_server_dns', 'KUBENURSE_CHECK_API_SERVER_DNS=false'));
  else if (config.apiServerPort === undefined)
    list.push(skipped('api_server_dns', 'KUBERNETES_SERVICE_PORT is not set'));
  else
    list.push(
      httpCheck(
        ctx,
        'api_server_dns',
        `https://${hostPort(config.apiServerDns, port)}/version`,
        true,
      ),
    );

  if (!config.checkMeIngress) list.push(skipped('me_ingress', 'KUBENURSE_CHECK_ME_INGRESS=false'));
  else if (config.ingressUrl === '')
    list.push(skipped('me_ingress', 'KUBENURSE_INGRESS_URL is empty'));
  else list.push(httpCheck(ctx, 'me_ingress', `${config.ingressUrl}/alwayshappy`));

  if (!config.checkMeService) list.push(skipped('me_service', 'KUBENURSE_CHECK_ME_SERVICE=false'));
  else if (config.serviceUrl === '')
    list.push(skipped('me_service', 'KUBENURSE_SERVICE_URL is empty'));
  else list.push(httpCheck(ctx, 'me_service', `${config.serviceUrl}/alwayshappy`));

  for (const extra of config.extraChecks) list.push(httpCheck(ctx, extra.name, extra.url));

  return { checks: () => list };
}
