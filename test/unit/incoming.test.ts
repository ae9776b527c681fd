import { describe, expect, it } from 'vitest';
import { IncomingChecks } from '../../src/incoming.ts';

describe('IncomingChecks', () => {
  it('counts distinct origins of the last 60 s', () => {
    let now = 0;
    const incoming = new IncomingChecks(() => now);
    incoming.record('kubenurse-a');
    incoming.record('kubenurse-b');
    incoming.record('kubenurse-a');
    expect(incoming.count()).toBe(2);
    now = 59_000;
    incoming.record('kubenurse-b');
    now = 61_000;
    expect(incoming.origins()).toEqual(['kubenurse-b']);
    now = 120_000;
    expect(incoming.count()).toBe(0);
  });

  it('refuses values that are not pod names', () => {
    const incoming = new IncomingChecks(() => 0);
    expect(incoming.record('bad name')).toBe(false);
    expect(incoming.record('x'.repeat(300))).toBe(false);
    expect(incoming.record('<script>')).toBe(false);
    expect(incoming.count()).toBe(0);
  });

  it('stays bounded under a flood of distinct origins', () => {
    const incoming = new IncomingChecks(() => 0);
    for (let i = 0; i < 25_000; i++) incoming.record(`pod-${i}`);
    expect(incoming.count()).toBe(10_000);
    expect(incoming.origins().at(-1)).toBe('pod-24999');
  });
});
