import { describe, expect, it } from 'vitest';
import { seriesStats } from '../../bench/churn.ts';
import { chartSize, lineChartSvg, niceStep } from '../../bench/lib/plot.ts';

describe('bench chart', () => {
  it('picks 1-2-5 steps', () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(10_000, 8)).toBe(2000);
    expect(niceStep(0.7, 5)).toBeCloseTo(0.2);
    expect(niceStep(0)).toBe(1);
  });

  it('draws one path per series, inside the declared size, with escaped text', () => {
    const options = {
      title: 'RSS <churn> & series',
      xLabel: 'rounds',
      panels: [
        {
          yLabel: 'MiB',
          series: [
            {
              name: 'a',
              color: '#c00',
              points: [
                [0, 100],
                [10, 120],
              ] as [number, number][],
            },
            {
              name: 'b',
              color: '#00c',
              points: [
                [0, 90],
                [10, 95],
              ] as [number, number][],
            },
          ],
        },
        {
          yLabel: 'series',
          series: [
            {
              name: 'c',
              color: '#0c0',
              points: [
                [0, 5],
                [10, 5],
              ] as [number, number][],
            },
          ],
        },
      ],
    };
    const svg = lineChartSvg(options);
    const { width, height } = chartSize(options);
    expect(svg).toContain(`width="${width}" height="${height}"`);
    expect(svg.match(/<path /g)).toHaveLength(3);
    expect(svg).toContain('RSS &lt;churn&gt; &amp; series');
    const coordinates = [...svg.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    for (const [x, y] of coordinates) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(width);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(height);
    }
  });
});

describe('churn series counting', () => {
  it('counts sample lines and distinct path_ types, not comments', () => {
    const text = [
      '# HELP kubenurse_httpclient_requests_total x',
      '# TYPE kubenurse_httpclient_requests_total counter',
      'kubenurse_httpclient_requests_total{type="path_node-1",code="200"} 3',
      'kubenurse_httpclient_requests_total{type="path_node-2",code="200"} 1',
      'kubenurse_httpclient_request_duration_seconds_count{type="path_node-1"} 3',
      'kubenurse_errors_total{type="me_service",event="connect_done"} 1',
      '',
    ].join('\n');
    expect(seriesStats(text)).toEqual({ series: 4, pathTypes: 2 });
  });
});
