import { describe, expect, it } from 'vitest';
import { proxyFor, proxySettingsFromEnv, ProxyConfigError } from '../../src/probe/proxy.ts';

const settings = (env: Record<string, string>) => proxySettingsFromEnv(env);
const via = (url: string, env: Record<string, string>) =>
  proxyFor(new URL(url), settings(env))?.href;

describe('proxy selection (Go ProxyFromEnvironment semantics)', () => {
  const env = {
    HTTP_PROXY: 'http://proxy:3128',
    HTTPS_PROXY: 'proxy-s:8443',
    NO_PROXY: '.svc,cluster.local,10.0.0.0/8,192.168.1.5,example.org:8080,[fd00::1],fd10::/16',
  };

  it('chooses by the target scheme, and accepts a bare host:port', () => {
    expect(via('http://a.example.com/x', env)).toBe('http://proxy:3128/');
    expect(via('https://a.example.com/x', env)).toBe('http://proxy-s:8443/');
    expect(via('https://a.example.com/x', { HTTP_PROXY: 'http://proxy:3128' })).toBeUndefined();
  });

  it('NO_PROXY: leading-dot domains match subdomains only, plain ones the domain too', () => {
    expect(via('http://kubenurse.kube-nurse.svc/', env)).toBeUndefined();
    expect(via('http://svc/', env)).toBe('http://proxy:3128/');
    expect(via('https://kubernetes.default.svc.cluster.local/version', env)).toBeUndefined();
    expect(via('https://cluster.local/', env)).toBeUndefined();
    expect(via('https://notcluster.local/', env)).toBe('http://proxy-s:8443/');
  });

  it('NO_PROXY: CIDRs, IPs and ports', () => {
    expect(via('http://10.96.0.1/', env)).toBeUndefined();
    expect(via('http://11.0.0.1/', env)).toBe('http://proxy:3128/');
    expect(via('http://192.168.1.5:8080/', env)).toBeUndefined();
    expect(via('http://example.org:8080/', env)).toBeUndefined();
    expect(via('http://example.org:9090/', env)).toBe('http://proxy:3128/');
    expect(via('http://[fd00::1]:8080/', env)).toBeUndefined();
    expect(via('http://[fd10::5]:8080/', env)).toBeUndefined();
    expect(via('http://[fd11::5]:8080/', env)).toBe('http://proxy:3128/');
  });

  it('never proxies loopback; * disables the proxy', () => {
    expect(via('http://127.0.0.1:8080/', env)).toBeUndefined();
    expect(via('http://localhost:8080/', env)).toBeUndefined();
    expect(via('http://[::1]:8080/', env)).toBeUndefined();
    expect(via('http://a.example.com/', { ...env, NO_PROXY: '*' })).toBeUndefined();
  });

  it('upper case wins over lower case, as in Go', () => {
    expect(
      via('http://a.example.com/', { HTTP_PROXY: 'http://upper:1', http_proxy: 'http://lower:2' }),
    ).toBe('http://upper:1/');
    expect(via('http://a.example.com/', { http_proxy: 'http://lower:2' })).toBe('http://lower:2/');
  });

  it('a proxy URL with another scheme is a configuration error naming the variable', () => {
    expect(() => settings({ HTTPS_PROXY: 'socks5://proxy:1080' })).toThrowError(ProxyConfigError);
    expect(() => settings({ HTTPS_PROXY: 'socks5://proxy:1080' })).toThrowError(
      /HTTPS_PROXY="socks5:\/\/proxy:1080": expected an http/,
    );
  });
});
