import { describe, expect, it } from 'vitest';
import { ConfigError, configSummary, parseConfig } from '../../src/config.ts';
import { redactUrls } from '../../src/redact.ts';

const SECRETS = ['hunter2', 's3cr3t', 'alice', 'frag-token'];

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('redactUrls', () => {
  it.each([
    ['http://alice:hunter2@example.com/x', 'http://***@example.com/x'],
    ['https://alice@example.com:8443/', 'https://***@example.com:8443/'],
    ['https://example.com/x?apikey=s3cr3t&b=1', 'https://example.com/x?apikey=***&b=***'],
    ['https://example.com/x?flag', 'https://example.com/x?flag'],
    ['https://example.com/x#frag-token', 'https://example.com/x#***'],
    ['http://alice:hunter2@[::1]:80/p?k=s3cr3t', 'http://***@[::1]/p?k=***'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrls(input)).toBe(expected);
  });

  it('leaves URLs without credentials exactly as written', () => {
    expect(redactUrls('http://10.0.0.1:10249/metrics')).toBe('http://10.0.0.1:10249/metrics');
    expect(redactUrls('no url here: 5s')).toBe('no url here: 5s');
  });

  it('redacts every URL inside a longer text, including ones that do not parse', () => {
    const text =
      'KUBENURSE_EXTRA_CHECKS="a:http://alice:hunter2@h/?apikey=s3cr3t|b:https://alice:hunter2@:99999/x?k=s3cr3t#frag-token": bad';
    const redacted = redactUrls(text);
    expectNoSecret(redacted);
    expect(redacted).toContain('a:http://***@h/?apikey=***|b:https://***@:99999/x?k=***#***');
  });
});

describe('configuration never shows URL credentials', () => {
  it('the start-up summary masks user info and query values of every URL', () => {
    const config = parseConfig({
      KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent-sa-dir',
      KUBENURSE_INGRESS_URL: 'https://alice:hunter2@ingress.example/?apikey=s3cr3t',
      KUBENURSE_SERVICE_URL: 'http://alice:hunter2@svc.example',
      KUBENURSE_EXTRA_CHECKS: 'ext:https://alice:hunter2@ext.example/health?token=s3cr3t',
      KUBENURSE_KUBE_PROXY_METRICS_URL: 'http://alice:hunter2@127.0.0.1:10249/metrics?k=s3cr3t',
      KUBENURSE_KUBE_PROXY_HEALTHZ_URL: 'http://alice:hunter2@127.0.0.1:10256/healthz',
      HTTPS_PROXY: 'http://alice:hunter2@proxy.example:3128',
    });
    // The checks still get the real URLs.
    expect(config.extraChecks[0]?.url).toContain('alice:hunter2@');
    const summary = JSON.stringify(configSummary(config));
    expectNoSecret(summary);
    expect(summary).toContain('https://***@ext.example/health?token=***');
    expect(summary).toContain('http://***@127.0.0.1:10249/metrics?k=***');
  });

  it.each([
    ['KUBENURSE_EXTRA_CHECKS', 'bad name:https://alice:hunter2@ext.example/?apikey=s3cr3t'],
    ['KUBENURSE_EXTRA_CHECKS', 'ok:ftp://alice:hunter2@ext.example/?apikey=s3cr3t'],
    ['KUBENURSE_INGRESS_URL', 'gopher://alice:hunter2@ingress.example/?apikey=s3cr3t'],
    ['KUBENURSE_KUBE_PROXY_METRICS_URL', 'ftp://alice:hunter2@kp.example/?apikey=s3cr3t'],
    ['HTTP_PROXY', 'ftp://alice:hunter2@proxy.example:3128'],
  ])('a ConfigError for %s names the variable, not the secret', (variable, value) => {
    let error: unknown;
    try {
      parseConfig({ KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent-sa-dir', [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
    expectNoSecret((error as ConfigError).message);
  });
});
