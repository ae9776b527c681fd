import { describe, expect, it } from 'vitest';
import { eligibleNeighbours } from '../../src/neighbours/filter.ts';
import { summarisePod } from '../../src/neighbours/objects.ts';

const running = (status: Record<string, unknown>) =>
  summarisePod({
    metadata: { name: 'kubenurse-b' },
    spec: { nodeName: 'worker-b' },
    status: { phase: 'Running', ...status },
  });

describe('dual-stack addresses of a neighbour', () => {
  it('keeps the other family of status.podIPs and status.hostIPs', () => {
    const pod = running({
      podIP: '10.0.0.2',
      podIPs: [{ ip: '10.0.0.2' }, { ip: 'fd00:10::2' }],
      hostIP: '192.168.0.2',
      hostIPs: [{ ip: '192.168.0.2' }, { ip: 'fd00:192::2' }],
    });
    expect(pod?.status).toMatchObject({
      podIP: '10.0.0.2',
      secondaryPodIP: 'fd00:10::2',
      hostIP: '192.168.0.2',
      secondaryHostIP: 'fd00:192::2',
    });
    const nodes = { knows: () => false, get: () => undefined };
    const options = { podName: 'me', allowUnschedulable: false, readyOnly: false };
    expect(eligibleNeighbours(pod ? [pod] : [], nodes, options)).toEqual([
      {
        podName: 'kubenurse-b',
        podIp: '10.0.0.2',
        hostIp: '192.168.0.2',
        nodeName: 'worker-b',
        secondaryPodIp: 'fd00:10::2',
        secondaryHostIp: 'fd00:192::2',
      },
    ]);
  });

  it('has no secondary address on a single-stack pod, or from junk', () => {
    for (const status of [
      { podIP: '10.0.0.2' },
      { podIP: '10.0.0.2', podIPs: [{ ip: '10.0.0.2' }] },
      { podIP: '10.0.0.2', podIPs: [{ ip: '10.0.0.3' }] },
      { podIP: '10.0.0.2', podIPs: [{ ip: 'not-an-ip' }, 'fd00::1', { ip: 7 }] },
      { podIP: '10.0.0.2', podIPs: { ip: 'fd00::1' } },
      // No primary: nothing is probed, so no secondary either.
      { podIPs: [{ ip: 'fd00::1' }] },
    ]) {
      const pod = running(status);
      expect(pod?.status.secondaryPodIP, JSON.stringify(status)).toBeUndefined();
    }
  });

  it('takes the IPv4 address as secondary for an IPv6-primary pod', () => {
    const pod = running({ podIP: 'fd00::2', podIPs: [{ ip: 'fd00::2' }, { ip: '10.0.0.2' }] });
    expect(pod?.status.secondaryPodIP).toBe('10.0.0.2');
  });
});
