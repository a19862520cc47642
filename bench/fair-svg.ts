import { escapeXml } from './svg-text';
/** One call of the fair-shaping scenario, in ms of simulated time. */
export interface FairCall {
  readonly tenant: string;
  readonly sentMs: number;
  /** When its slot came; absent when it had not come by the end of the window. */
  readonly departedMs?: number;
}

/** One run of the scenario, drawn as one panel. */
export interface FairPanel {
  readonly title: string;
  readonly calls: readonly FairCall[];
  /** Said in the lane of a tenant whose calls all depart after the window (why its lane is empty). */
  readonly lateNotes: Readonly<Record<string, string>>;
}

export interface FairFigure {
  readonly title: string;
  readonly tenants: readonly string[];
  readonly windowMs: number;
  /** The rate of the bucket, per second: the top of each panel's rate chart. */
  readonly rate: number;
  readonly panels: readonly FairPanel[];
  /** Lines under the panels: the key figures. */
  readonly caption: readonly string[];
}

const WIDTH = 860;
const LEFT = 90;
const RIGHT = 830;
const TOP = 44;
const PANEL_HEIGHT = 300;
const RATE_HEIGHT = 130;
const LANE_GAP = 26;
const CAPTION_LINE = 18;
const COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea'];
const GRID = '#e5e7eb';
const MUTED = '#4b5563';

/**
 * The README picture of fair shaping, as plain SVG (no plotting dependency): one panel per run,
 * each with departures per tenant per second (a step line per tenant) over one lane of ticks per
 * tenant (one tick per departure, a triangle where its calls arrived).
 */
export function fairSvg(figure: FairFigure): string {
  const height = TOP + figure.panels.length * PANEL_HEIGHT + figure.caption.length * CAPTION_LINE + 16;
  const x = (ms: number): number => LEFT + ((RIGHT - LEFT) * ms) / figure.windowMs;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(figure.title)}</text>`,
    ...figure.panels.flatMap((panel, i) => drawPanel(figure, panel, TOP + i * PANEL_HEIGHT, x)),
    ...figure.caption.map(
      (line, i) => `<text x="${WIDTH / 2}" y="${TOP + figure.panels.length * PANEL_HEIGHT + i * CAPTION_LINE + 4}" text-anchor="middle" fill="#374151">${escapeXml(line)}</text>`,
    ),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

function drawPanel(figure: FairFigure, panel: FairPanel, top: number, x: (ms: number) => number): string[] {
  const rateTop = top + 24;
  const rateBottom = rateTop + RATE_HEIGHT;
  const y = (perS: number): number => rateBottom - (RATE_HEIGHT * perS) / figure.rate;
  const lane = (i: number): number => rateBottom + 34 + i * LANE_GAP;
  const axis = lane(figure.tenants.length - 1) + 20;
  const seconds = Math.ceil(figure.windowMs / 1000);
  const lines = [`<text x="${LEFT}" y="${top + 12}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`];

  // Rate chart: departures per tenant in each 1 s bin.
  lines.push(`<text x="24" y="${(rateTop + rateBottom) / 2}" text-anchor="middle" transform="rotate(-90 24 ${(rateTop + rateBottom) / 2})">departures / s</text>`);
  for (let r = 0; r <= figure.rate; r += figure.rate / 2) {
    lines.push(`<line x1="${LEFT}" x2="${RIGHT}" y1="${y(r)}" y2="${y(r)}" stroke="${GRID}"/>`);
    lines.push(`<text x="${LEFT - 6}" y="${y(r) + 4}" text-anchor="end" fill="${MUTED}">${r}</text>`);
  }
  figure.tenants.forEach((tenant, i) => {
    const bins = new Array<number>(seconds).fill(0);
    for (const c of panel.calls) if (c.tenant === tenant && c.departedMs !== undefined && c.departedMs < figure.windowMs) bins[Math.floor(c.departedMs / 1000)]++;
    // From the second its first call arrived: a line at 0 before it would hide the others'.
    const from = Math.floor(Math.min(...panel.calls.filter((c) => c.tenant === tenant).map((c) => c.sentMs)) / 1000);
    if (bins.every((n) => n === 0)) return;
    const path = bins.map((n, s) => (s < from ? '' : `${s === from ? 'M' : 'L'}${x(s * 1000).toFixed(1)},${y(n).toFixed(1)} H${x((s + 1) * 1000).toFixed(1)}`)).join(' ');
    lines.push(`<path d="${path}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" stroke-opacity="0.9"/>`);
  });

  // Lanes: a tick per departure, a triangle (with the count) where the tenant's calls arrived.
  figure.tenants.forEach((tenant, i) => {
    const color = COLORS[i % COLORS.length];
    const row = lane(i);
    const mine = panel.calls.filter((c) => c.tenant === tenant);
    lines.push(`<text x="${LEFT - 6}" y="${row + 4}" text-anchor="end" fill="${color}" font-weight="bold">${escapeXml(tenant)}</text>`);
    lines.push(`<line x1="${LEFT}" x2="${RIGHT}" y1="${row}" y2="${row}" stroke="${GRID}"/>`);
    for (const [atMs, count] of arrivals(mine)) {
      const cx = x(atMs);
      lines.push(`<path d="M${(cx - 5).toFixed(1)},${row - 16} L${(cx + 5).toFixed(1)},${row - 16} L${cx.toFixed(1)},${row - 8} Z" fill="${color}"/>`);
      lines.push(`<text x="${(cx + 7).toFixed(1)}" y="${row - 9}" fill="${color}" font-size="10">${count.toLocaleString('en-US')} call${count > 1 ? 's' : ''}</text>`);
    }
    for (const c of mine) {
      if (c.departedMs === undefined || c.departedMs >= figure.windowMs) continue;
      const cx = x(c.departedMs).toFixed(1);
      lines.push(`<line x1="${cx}" x2="${cx}" y1="${row - 6}" y2="${row + 6}" stroke="${color}" stroke-width="1.5"/>`);
    }
    const note = panel.lateNotes[tenant];
    if (note) lines.push(`<text x="${RIGHT}" y="${row + 4}" text-anchor="end" fill="${color}" font-style="italic">${escapeXml(note)}</text>`);
  });

  lines.push(`<line x1="${LEFT}" x2="${RIGHT}" y1="${axis}" y2="${axis}" stroke="#111827"/>`);
  for (let s = 0; s <= seconds; s += 2) {
    lines.push(`<line x1="${x(s * 1000)}" x2="${x(s * 1000)}" y1="${axis}" y2="${axis + 5}" stroke="#111827"/>`);
    lines.push(`<text x="${x(s * 1000)}" y="${axis + 17}" text-anchor="middle" fill="${MUTED}">${s} s</text>`);
  }
  return lines;
}

/** [time, count] of each instant at which a tenant's calls arrived. */
function arrivals(calls: readonly FairCall[]): [number, number][] {
  const counts = new Map<number, number>();
  for (const c of calls) counts.set(c.sentMs, (counts.get(c.sentMs) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]);
}

