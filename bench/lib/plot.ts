// A line chart drawn by hand as SVG (no network, no plotting library), turned into PNG by
// rsvg-convert (Debian librsvg2-bin) when installed, else by headless Debian Chromium.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Force the y axis to start at 0 (default true). */
  readonly fromZero?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly panels: readonly Panel[];
  readonly width?: number;
  readonly panelHeight?: number;
}

/** A "nice" step (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  return (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10) * magnitude;
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string,
  );
}

function label(value: number): string {
  return Math.abs(value) >= 1000
    ? value.toLocaleString('en-US')
    : String(Number(value.toPrecision(6)));
}

/** Panels stacked vertically, sharing the x axis. */
export function lineChartSvg(options: ChartOptions): string {
  const width = options.width ?? 900;
  const panelHeight = options.panelHeight ?? 260;
  const margin = { left: 80, right: 30, top: 50, bottom: 50, gap: 40 };
  const height =
    margin.top +
    options.panels.length * panelHeight +
    (options.panels.length - 1) * margin.gap +
    margin.bottom;
  const allX = options.panels.flatMap((panel) =>
    panel.series.flatMap((series) => series.points.map(([x]) => x)),
  );
  const xMin = Math.min(...allX);
  const xMax = Math.max(...allX);
  const plotWidth = width - margin.left - margin.right;
  const sx = (x: number) => margin.left + ((x - xMin) / (xMax - xMin || 1)) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ` +
      `${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  options.panels.forEach((panel, index) => {
    const top = margin.top + index * (panelHeight + margin.gap);
    const bottom = top + panelHeight;
    const ys = panel.series.flatMap((series) => series.points.map(([, y]) => y));
    let yMin = panel.fromZero === false ? Math.min(...ys) : Math.min(0, ...ys);
    let yMax = Math.max(...ys);
    if (yMax === yMin) yMax = yMin + 1;
    const yStep = niceStep(yMax - yMin);
    yMin = Math.floor(yMin / yStep) * yStep;
    yMax = Math.ceil(yMax / yStep) * yStep;
    const sy = (y: number) => bottom - ((y - yMin) / (yMax - yMin)) * panelHeight;
    for (let y = yMin; y <= yMax + yStep / 2; y += yStep) {
      parts.push(
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${sy(y)}" y2="${sy(y)}" stroke="#e5e5e5"/>`,
      );
      parts.push(
        `<text x="${margin.left - 8}" y="${sy(y) + 4}" text-anchor="end">${label(y)}</text>`,
      );
    }
    const xStep = niceStep(xMax - xMin, 8);
    for (let x = Math.ceil(xMin / xStep) * xStep; x <= xMax; x += xStep) {
      parts.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${top}" y2="${bottom}" stroke="#f0f0f0"/>`);
      parts.push(`<text x="${sx(x)}" y="${bottom + 16}" text-anchor="middle">${label(x)}</text>`);
    }
    parts.push(
      `<rect x="${margin.left}" y="${top}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#888"/>`,
    );
    parts.push(
      `<text transform="translate(20 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
    );
    panel.series.forEach((series, s) => {
      const d = series.points
        .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="1.6"/>`);
      parts.push(
        `<rect x="${margin.left + 12}" y="${top + 10 + s * 18}" width="14" height="4" fill="${series.color}"/>`,
      );
      parts.push(
        `<text x="${margin.left + 32}" y="${top + 16 + s * 18}">${escapeXml(series.name)}</text>`,
      );
    });
  });
  parts.push(
    `<text x="${margin.left + plotWidth / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, binary))) return join(dir, binary);
  return undefined;
}

/** Writes `svg` to `pngPath`; returns the tool used, or throws saying what to install. */
export function svgToPng(svg: string, pngPath: string, width: number, height: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-plot-'));
  const svgPath = join(dir, 'chart.svg');
  writeFileSync(svgPath, svg);
  const rsvg = which('rsvg-convert');
  if (rsvg) {
    execFileSync(rsvg, ['-w', String(width), '-h', String(height), '-o', pngPath, svgPath]);
    return 'rsvg-convert';
  }
  const chromium = which('chromium') ?? which('chromium-browser');
  if (chromium) {
    const html = join(dir, 'chart.html');
    writeFileSync(html, `<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    execFileSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${join(dir, 'profile')}`,
        `--window-size=${width},${height}`,
        `--screenshot=${pngPath}`,
        `file://${html}`,
      ],
      { stdio: 'ignore', timeout: 60_000 },
    );
    if (!existsSync(pngPath)) throw new Error('chromium did not write the screenshot');
    return 'chromium --headless --screenshot';
  }
  throw new Error('no SVG→PNG converter: apt-get install librsvg2-bin (or chromium)');
}

export function chartSize(options: ChartOptions): { width: number; height: number } {
  const width = options.width ?? 900;
  const panelHeight = options.panelHeight ?? 260;
  return {
    width,
    height: 50 + options.panels.length * panelHeight + (options.panels.length - 1) * 40 + 50,
  };
}
