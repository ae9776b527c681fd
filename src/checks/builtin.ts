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

/** Where a built-in check goes, or why it cannot run although it is on. */
type Target = { readonly url: string; readonly withToken?: boolean } | { readonly missing: string };

/** Skipped when its KUBENURSE_CHECK_* variable is false, or when its target is not configured. */
function builtinCheck(
  ctx: ProberContext,
  type: string,
  toggle: { readonly enabled: boolean; readonly variable: string },
  target: Target,
): Check {
  if (!toggle.enabled) return skipped(type, `${toggle.variable}=false`);
  if ('missing' in target) return skipped(type, target.missing);
  return httpCheck(ctx, type, target.url, target.withToken);
}

export function builtinChecks(ctx: ProberContext): CheckSource {
  const { config } = ctx;
  const port = config.apiServerPort ?? '443';
  const list: Check[] = [
    builtinCheck(
      ctx,
      'api_server_direct',
      { enabled: config.checkApiServerDirect, variable: 'KUBENURSE_CHECK_API_SERVER_DIRECT' },
      config.apiServerHost === undefined
        ? { missing: 'KUBERNETES_SERVICE_HOST is not set' }
        : { url: `https://${hostPort(config.apiServerHost, port)}/version`, withToken: true },
    ),
    builtinCheck(
      ctx,
      'api_server_dns',
      { enabled: config.checkApiServerDns, variable: 'KUBENURSE_CHECK_API_SERVER_DNS' },
      config.apiServerPort === undefined
        ? { missing: 'KUBERNETES_SERVICE_PORT is not set' }
        : { url: `https://${hostPort(config.apiServerDns, port)}/version`, withToken: true },
    ),
    builtinCheck(
      ctx,
      'me_ingress',
      { enabled: config.checkMeIngress, variable: 'KUBENURSE_CHECK_ME_INGRESS' },
      config.ingressUrl === ''
        ? { missing: 'KUBENURSE_INGRESS_URL is empty' }
        : { url: `${config.ingressUrl}/alwayshappy` },
    ),
    builtinCheck(
      ctx,
      'me_service',
      { enabled: config.checkMeService, variable: 'KUBENURSE_CHECK_ME_SERVICE' },
      config.serviceUrl === ''
        ? { missing: 'KUBENURSE_SERVICE_URL is empty' }
        : { url: `${config.serviceUrl}/alwayshappy` },
    ),
  ];
  for (const extra of config.extraChecks) list.push(httpCheck(ctx, extra.name, extra.url));

  return { checks: () => list };
}
