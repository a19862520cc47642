import { escapeXml } from './svg-text';
/** One bar of the chart: a ratio where > 1 means nest-limiter is ahead, and the target for it. */
export interface RatioBar {
  readonly group: string;
  readonly label: string;
  readonly value: number;
  readonly target: number;
}

const WIDTH = 860;
const LEFT = 330;
const RIGHT = 800;
const TOP = 64;
const ROW = 24;
const OURS = '#ea580c';
const MISSED = '#9ca3af';

/**
 * The headline chart of BENCHMARKS.md as plain SVG (no plotting dependency): one bar per
 * comparison, each a ratio taken within one repetition (median of the repetitions), on a log
 * scale, with its target as a tick; a bar in grey misses its target.
 */
export function ratioSvg(title: string, subtitle: string, bars: readonly RatioBar[]): string {
  const values = bars.flatMap((b) => [b.value, b.target]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(0.5, ...values))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(2, ...values))));
  const x = (v: number): number => LEFT + ((RIGHT - LEFT) * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  let y = TOP;
  const rows: string[] = [];
  let group = '';
  for (const bar of bars) {
    if (bar.group !== group) {
      group = bar.group;
      y += 8;
      rows.push(`<text x="12" y="${y + 12}" font-weight="bold">${escapeXml(group)}</text>`);
      y += ROW - 4;
    }
    const met = bar.value >= bar.target;
    const end = Number.isFinite(bar.value) ? x(bar.value) : x(lo);
    rows.push(`<text x="${LEFT - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`);
    rows.push(`<rect x="${x(lo)}" y="${y + 4}" width="${Math.max(1, end - x(lo)).toFixed(1)}" height="${ROW - 8}" fill="${met ? OURS : MISSED}"/>`);
    rows.push(`<line x1="${x(bar.target).toFixed(1)}" x2="${x(bar.target).toFixed(1)}" y1="${y + 1}" y2="${y + ROW - 1}" stroke="#111827" stroke-width="2"/>`);
    rows.push(`<text x="${(end + 6).toFixed(1)}" y="${y + 15}" fill="#111827">${fmt(bar.value)}×${met ? '' : ' (target ' + fmt(bar.target) + '×)'}</text>`);
    y += ROW;
  }
  const bottom = y + 10;
  const ticks: string[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    for (const m of [1, 2, 5]) {
      const t = v * m;
      if (t > hi * 1.0001) break;
      ticks.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${TOP}" y2="${bottom}" stroke="${m === 1 ? '#d1d5db' : '#f3f4f6'}"/>`);
      ticks.push(`<text x="${x(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" fill="#4b5563">${fmt(t)}×</text>`);
    }
  }
  const height = bottom + 64;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${WIDTH / 2}" y="44" text-anchor="middle" fill="#374151">${escapeXml(subtitle)}</text>`,
    ...ticks,
    `<line x1="${x(1)}" x2="${x(1)}" y1="${TOP}" y2="${bottom}" stroke="#6b7280" stroke-dasharray="4 3"/>`,
    ...rows,
    `<text x="${(LEFT + RIGHT) / 2}" y="${bottom + 36}" text-anchor="middle">ratio, log scale (black tick: the target; orange: met, grey: missed)</text>`,
    '</svg>',
  ].join('\n') + '\n';
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2).replace(/\.?0+$/, '') || '0';
}

