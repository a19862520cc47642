import { escapeXml } from './svg-text';
/** One request of the shaping run, in ms since the first was sent. */
export interface Shaped {
  readonly sentMs: number;
  /** When its handler started; absent when the request was refused. */
  readonly departedMs?: number;
}

export interface ShapingFigure {
  readonly title: string;
  readonly requests: readonly Shaped[];
  /** A line under the axis, e.g. the measured gaps. */
  readonly note: string;
}

const WIDTH = 800;
const HEIGHT = 400;
const LEFT = 82;
const RIGHT = 770;
const CURVE_TOP = 60;
const CURVE_BOTTOM = 250;
const ARRIVAL_ROW = 280;
const DEPARTURE_ROW = 305;
const AXIS = 325;
const ARRIVAL_COLOR = '#2563eb';
const DEPARTURE_COLOR = '#ea580c';
const REFUSED_COLOR = '#dc2626';
/** Arrivals closer than this are one burst: drawn as one tick with its size. */
const BURST_MS = 100;

/**
 * The README picture of traffic shaping, as plain SVG (no plotting dependency): cumulative
 * arrivals against cumulative departures over time, with a row of ticks for each.
 */
export function shapingSvg({ title, requests, note }: ShapingFigure): string {
  const arrivals = requests.map((r) => r.sentMs).sort((a, b) => a - b);
  const departures = requests.flatMap((r) => (r.departedMs === undefined ? [] : [r.departedMs])).sort((a, b) => a - b);
  const refused = requests.filter((r) => r.departedMs === undefined).map((r) => r.sentMs);
  const endS = Math.ceil(Math.max(...arrivals, ...departures) / 1000) + 1;
  const x = (ms: number): number => LEFT + ((RIGHT - LEFT) * ms) / (endS * 1000);
  const y = (count: number): number => CURVE_BOTTOM - ((CURVE_BOTTOM - CURVE_TOP) * count) / requests.length;
  const step = (times: readonly number[]): string =>
    `M${x(0)},${y(0)} ` + times.map((t, i) => `H${x(t).toFixed(1)} V${y(i + 1).toFixed(1)}`).join(' ') + ` H${x(endS * 1000)}`;

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...countAxis(requests.length, y),
    ...timeAxis(endS, x),
    `<path d="${step(arrivals)}" fill="none" stroke="${ARRIVAL_COLOR}" stroke-width="2"/>`,
    `<path d="${step(departures)}" fill="none" stroke="${DEPARTURE_COLOR}" stroke-width="2"/>`,
    label(ARRIVAL_ROW, 'arrivals'),
    ...bursts(arrivals).map(([t, n]) => tick(x(t), ARRIVAL_ROW, ARRIVAL_COLOR, n > 1 ? `×${n}` : '')),
    ...refused.map((t) => `<text x="${x(t)}" y="${ARRIVAL_ROW - 10}" text-anchor="middle" fill="${REFUSED_COLOR}" font-weight="bold">✕</text>`),
    label(DEPARTURE_ROW, 'departures'),
    ...departures.map((t) => tick(x(t), DEPARTURE_ROW, DEPARTURE_COLOR, '')),
    ...legend(refused.length > 0),
    `<text x="${WIDTH / 2}" y="${HEIGHT - 12}" text-anchor="middle" fill="#374151">${escapeXml(note)}</text>`,
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

/** [start, size] of each group of arrivals sent together. */
function bursts(sorted: readonly number[]): [number, number][] {
  const groups: [number, number][] = [];
  for (const t of sorted) {
    const last = groups.at(-1);
    if (last && t - last[0] < BURST_MS) last[1]++;
    else groups.push([t, 1]);
  }
  return groups;
}

function countAxis(total: number, y: (count: number) => number): string[] {
  const lines = [`<text x="20" y="${(CURVE_TOP + CURVE_BOTTOM) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(CURVE_TOP + CURVE_BOTTOM) / 2})">requests (cumulative)</text>`];
  for (let n = 0; n <= total; n += 5) {
    lines.push(`<line x1="${LEFT}" x2="${RIGHT}" y1="${y(n)}" y2="${y(n)}" stroke="#e5e7eb"/>`);
    lines.push(`<text x="${LEFT - 6}" y="${y(n) + 4}" text-anchor="end" fill="#4b5563">${n}</text>`);
  }
  return lines;
}

function timeAxis(endS: number, x: (ms: number) => number): string[] {
  const lines = [`<line x1="${LEFT}" x2="${RIGHT}" y1="${AXIS}" y2="${AXIS}" stroke="#111827"/>`];
  for (let s = 0; s <= endS; s += 2) {
    lines.push(`<line x1="${x(s * 1000)}" x2="${x(s * 1000)}" y1="${AXIS}" y2="${AXIS + 5}" stroke="#111827"/>`);
    lines.push(`<text x="${x(s * 1000)}" y="${AXIS + 18}" text-anchor="middle" fill="#4b5563">${s}</text>`);
  }
  lines.push(`<text x="${(LEFT + RIGHT) / 2}" y="${AXIS + 36}" text-anchor="middle">time (s)</text>`);
  return lines;
}

function tick(cx: number, row: number, color: string, text: string): string {
  const line = `<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${row - 8}" y2="${row + 8}" stroke="${color}" stroke-width="2"/>`;
  return text ? `${line}<text x="${(cx + 4).toFixed(1)}" y="${row - 2}" fill="${color}" font-size="11">${text}</text>` : line;
}

function label(row: number, text: string): string {
  return `<text x="${LEFT - 6}" y="${row + 4}" text-anchor="end" fill="#111827">${text}</text>`;
}

function legend(withRefused: boolean): string[] {
  const entries: [string, string][] = [
    [ARRIVAL_COLOR, 'arrivals (request sent)'],
    [DEPARTURE_COLOR, 'departures (handler starts)'],
    ...(withRefused ? ([[REFUSED_COLOR, '✕ refused (429)']] as [string, string][]) : []),
  ];
  // Bottom right: by then both curves have climbed, so the legend hides neither.
  const left = RIGHT - 210;
  return entries.flatMap(([color, text], i) => {
    const top = CURVE_BOTTOM - 12 - (entries.length - 1 - i) * 18;
    return [
      `<line x1="${left}" x2="${left + 24}" y1="${top}" y2="${top}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${left + 30}" y="${top + 4}">${text}</text>`,
    ];
  });
}

