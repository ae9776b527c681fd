import { describe, expect, it } from 'vitest';
import {
  SelectorError,
  parseFieldSelector,
  parseLabelSelector,
} from '../../dev/fakes/fake-apiserver.ts';

describe('fake apiserver label selectors', () => {
  const labels = { app: 'kubenurse', tier: 'probe', 'app.kubernetes.io/name': 'kubenurse' };

  it.each([
    ['', true],
    ['app=kubenurse', true],
    ['app==kubenurse', true],
    ['app!=kubenurse', false],
    ['app!=other', true],
    ['missing!=x', true],
    ['app.kubernetes.io/name=kubenurse', true],
    ['tier in (probe, web)', true],
    ['tier in (web)', false],
    ['tier notin (web)', true],
    ['missing notin (web)', true],
    ['tier notin (probe)', false],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['app=kubenurse,tier in (probe),!missing', true],
    ['app=kubenurse, tier=web', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it('accepts an empty value, which matches a label with an empty value', () => {
    expect(parseLabelSelector('app=')({ app: '' })).toBe(true);
    expect(parseLabelSelector('app=')(labels)).toBe(false);
  });

  it.each(['app=bad value', 'tier in (a', 'a,,b', 'in (x)', '=x'])('rejects %j', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(SelectorError);
  });
});

describe('fake apiserver field selectors', () => {
  const pod = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running' },
  };

  it('supports metadata.name, metadata.namespace, spec.nodeName and status.phase', () => {
    expect(parseFieldSelector('spec.nodeName=n1')(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName!=n1')(pod)).toBe(false);
    expect(
      parseFieldSelector('metadata.name==p,metadata.namespace=ns,status.phase=Running')(pod),
    ).toBe(true);
  });

  it('rejects fields it does not know', () => {
    expect(() => parseFieldSelector('spec.hostNetwork=true')).toThrow(SelectorError);
  });
});
