import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

const noSa = { KUBENURSE_SERVICE_ACCOUNT_DIR: '/nonexistent-sa-dir' };

function failure(env: Record<string, string>): ConfigError {
  try {
    parseConfig({ ...noSa, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('node paths and address families', () => {
  it('are off by default, as upstream has neither', () => {
    const config = parseConfig(noSa);
    expect(config.checkNodePaths).toBe(false);
    expect(config.checkAllIpFamilies).toBe(false);
    expect(config.nodePathPort).toBe(10256);
    expect(config.nodePathPath).toBe('/healthz');
  });

  it('turn on with true and take a port and a path', () => {
    const config = parseConfig({
      ...noSa,
      KUBENURSE_CHECK_NODE_PATHS: 'true',
      KUBENURSE_CHECK_ALL_IP_FAMILIES: 'true',
      KUBENURSE_NODE_PATH_PORT: '4240',
      KUBENURSE_NODE_PATH_PATH: '/hello?x=1',
    });
    expect(config).toMatchObject({
      checkNodePaths: true,
      checkAllIpFamilies: true,
      nodePathPort: 4240,
      nodePathPath: '/hello?x=1',
    });
    expect(parseConfig({ ...noSa, KUBENURSE_CHECK_NODE_PATHS: 'false' }).checkNodePaths).toBe(
      false,
    );
  });

  it.each([
    [{ KUBENURSE_CHECK_NODE_PATHS: 'yes' }, 'KUBENURSE_CHECK_NODE_PATHS', /true or false/],
    [
      { KUBENURSE_CHECK_ALL_IP_FAMILIES: 'True' },
      'KUBENURSE_CHECK_ALL_IP_FAMILIES',
      /true or false/,
    ],
    [{ KUBENURSE_NODE_PATH_PORT: '0' }, 'KUBENURSE_NODE_PATH_PORT', /whole number from 1 to 65535/],
    [{ KUBENURSE_NODE_PATH_PATH: 'healthz' }, 'KUBENURSE_NODE_PATH_PATH', /absolute URL path/],
    [{ KUBENURSE_NODE_PATH_PATH: '/a b' }, 'KUBENURSE_NODE_PATH_PATH', /absolute URL path/],
    [{ KUBENURSE_NODE_PATH_PATH: '/a#b' }, 'KUBENURSE_NODE_PATH_PATH', /absolute URL path/],
    [
      { KUBENURSE_CHECK_NODE_PATHS: 'true', KUBENURSE_EXTRA_CHECKS: 'node_x:http://x' },
      'KUBENURSE_EXTRA_CHECKS',
      /reserved/,
    ],
  ])('%j is refused', (env, variable, pattern) => {
    const error = failure(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(pattern);
  });

  it('leaves node_ extra check names alone while node paths are off', () => {
    const config = parseConfig({ ...noSa, KUBENURSE_EXTRA_CHECKS: 'node_x:http://x' });
    expect(config.extraChecks).toEqual([{ name: 'node_x', url: 'http://x' }]);
  });
});
