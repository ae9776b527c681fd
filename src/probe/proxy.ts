// HTTP_PROXY / HTTPS_PROXY / NO_PROXY with Go's net/http semantics (ProxyFromEnvironment),
// because kubenurse honours them and operators set them on DaemonSets for that reason.
import { isIP } from 'node:net';
import { redactUrls } from '../redact.ts';
import { bareHost } from '../url-host.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface ProxySettings {
  readonly httpProxy: URL | undefined;
  readonly httpsProxy: URL | undefined;
  readonly noProxy: readonly NoProxyRule[];
}

type NoProxyRule =
  | { readonly kind: 'all' }
  | {
      readonly kind: 'cidr';
      readonly network: bigint;
      readonly bits: number;
      readonly family: 4 | 6;
    }
  | { readonly kind: 'ip'; readonly ip: string; readonly port: string | undefined }
  | {
      readonly kind: 'domain';
      readonly suffix: string;
      readonly exactToo: boolean;
      readonly port: string | undefined;
    };

export class ProxyConfigError extends Error {
  readonly variable: string;
  readonly value: string;
  readonly expected: string;
  constructor(variable: string, value: string, expected: string) {
    super(redactUrls(`${variable}=${JSON.stringify(value)}: ${expected}`));
    this.variable = variable;
    this.value = value;
    this.expected = expected;
  }
}

function firstSet(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function parseProxyUrl(env: Env, ...names: string[]): URL | undefined {
  const found = firstSet(env, ...names);
  if (!found) return undefined;
  // Go accepts "proxy:3128" and means http://proxy:3128.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(found.value) ? found.value : `http://${found.value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProxyConfigError(
      found.name,
      found.value,
      'expected a proxy URL such as http://proxy:3128',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProxyConfigError(
      found.name,
      found.value,
      'expected an http:// or https:// proxy URL',
    );
  }
  return url;
}

function ipToBigInt(ip: string): { value: bigint; family: 4 | 6 } | undefined {
  const family = isIP(ip);
  if (family === 4) {
    return {
      value: ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n),
      family: 4,
    };
  }
  if (family === 6) {
    const [head = '', tail = ''] = ip.split('::');
    const headParts = head === '' ? [] : head.split(':');
    const tailParts = tail === '' ? [] : tail.split(':');
    const parts = ip.includes('::')
      ? [
          ...headParts,
          ...new Array<string>(8 - headParts.length - tailParts.length).fill('0'),
          ...tailParts,
        ]
      : headParts;
    if (parts.length !== 8 || parts.some((part) => part.includes('.'))) return undefined;
    return {
      value: parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part, 16)), 0n),
      family: 6,
    };
  }
  return undefined;
}

function parseNoProxy(text: string): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      rules.push({ kind: 'all' });
      continue;
    }
    if (entry.includes('/')) {
      const [address = '', bitsText = ''] = entry.split('/');
      const parsed = ipToBigInt(address);
      const bits = Number(bitsText);
      if (
        parsed &&
        Number.isInteger(bits) &&
        bits >= 0 &&
        bits <= (parsed.family === 4 ? 32 : 128)
      ) {
        rules.push({ kind: 'cidr', network: parsed.value, bits, family: parsed.family });
      }
      continue;
    }
    let host = entry;
    let port: string | undefined;
    const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      host = bracketed[1] as string;
      port = bracketed[2];
    } else if (isIP(entry) === 0 && /:\d+$/.test(entry)) {
      port = entry.slice(entry.lastIndexOf(':') + 1);
      host = entry.slice(0, entry.lastIndexOf(':'));
    }
    if (isIP(host) !== 0) {
      rules.push({ kind: 'ip', ip: host, port });
      continue;
    }
    // Go: "example.com" matches example.com and its subdomains; ".example.com" only subdomains;
    // "*.example.com" is the same as ".example.com".
    const exactToo = !host.startsWith('.') && !host.startsWith('*.');
    const suffix = host.replace(/^\*?\./, '');
    rules.push({ kind: 'domain', suffix, exactToo, port });
  }
  return rules;
}

export function proxySettingsFromEnv(env: Env): ProxySettings {
  return {
    httpProxy: parseProxyUrl(env, 'HTTP_PROXY', 'http_proxy'),
    httpsProxy: parseProxyUrl(env, 'HTTPS_PROXY', 'https_proxy'),
    noProxy: parseNoProxy(firstSet(env, 'NO_PROXY', 'no_proxy')?.value ?? ''),
  };
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function noProxyRuleMatches(rule: NoProxyRule, host: string, port: string): boolean {
  switch (rule.kind) {
    case 'all':
      return true;
    case 'cidr': {
      const parsed = ipToBigInt(host);
      if (!parsed || parsed.family !== rule.family) return false;
      const width = BigInt(rule.family === 4 ? 32 : 128);
      const shift = width - BigInt(rule.bits);
      return parsed.value >> shift === rule.network >> shift;
    }
    case 'ip':
      return host === rule.ip && (rule.port === undefined || rule.port === port);
    case 'domain':
      if (rule.port !== undefined && rule.port !== port) return false;
      return host.endsWith(`.${rule.suffix}`) || (rule.exactToo && host === rule.suffix);
  }
}

/** The proxy a request to `target` goes through, or undefined for a direct connection. */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  const proxy = target.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy;
  if (!proxy) return undefined;
  const host = bareHost(target.hostname).toLowerCase();
  // Like Go: loopback never goes through a proxy.
  if (host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1')
    return undefined;
  const port = defaultPort(target);
  return settings.noProxy.some((rule) => noProxyRuleMatches(rule, host, port)) ? undefined : proxy;
}
