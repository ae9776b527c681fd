// Check URLs may carry credentials (Go sends them as Basic auth): accepted as Go's url.Parse
// accepts them, and never printed.
import { describe, expect, it } from 'vitest';
import { ConfigError, configSummary, parseConfig } from '../../src/config.ts';

const base = { KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent' };

describe('credentials in check URLs', () => {
  it('are accepted when Go accepts them, and the startup summary redacts them', () => {
    const config = parseConfig({
      ...base,
      KUBENURSE_INGRESS_URL: 'https://user:s3cret@ingress.example.com',
      KUBENURSE_EXTRA_CHECKS: 'protected:http://kube:p%40ss@svc.example.com/health|open:http://h/',
    });
    expect(config.extraChecks[0]?.url).toBe('http://kube:p%40ss@svc.example.com/health');
    const summary = JSON.stringify(configSummary(config));
    expect(summary).not.toMatch(/s3cret|p%40ss|kube:|user:/);
    expect(summary).toContain('http://***@svc.example.com/health');
  });

  it('that Go refuses stop the start with a message that does not repeat them', () => {
    for (const url of ['http://kube:p ss@h/', 'http://kube:100%@h/', 'http://kube:pä@h/']) {
      let error: unknown;
      try {
        parseConfig({ ...base, KUBENURSE_EXTRA_CHECKS: `x:${url}` });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toMatch(/^KUBENURSE_EXTRA_CHECKS=.*user:password part is not valid/);
      expect(message).not.toMatch(/kube|100%|p ss|pä/);
    }
  });
});
