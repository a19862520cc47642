// How BENCHMARKS.md writes its figures, ratios and targets: shared by every section of run.ts.
import { median } from './harness';
import type { RatioBar } from './ratio-svg';

/** One figure per repetition, in repetition order. */
export type PerRep<T> = T[];

/** One row of the "## Targets" table (a miss is written **no**), and its bar in the headline chart. */
export interface Target {
  what: string;
  target: string;
  figure: string;
  met: boolean;
  bar?: RatioBar;
}

export const fmtInt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
export const fmtX = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(x >= 10 ? 1 : 2)}×` : '–');
export const fmtMs = (x: number, digits = 2): string => (Number.isFinite(x) ? `${x.toFixed(digits)} ms` : '–');
export const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');
/** A small figure with 3 significant digits (µs per decision, commands per decision). */
export const fmt3 = (x: number): string => (Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3)) : '–');

/** The median over repetitions of a ratio taken within each repetition. */
export const ratio = (a: PerRep<number>, b: PerRep<number>): number => median(a.map((x, i) => x / b[i]));

/** Per repetition, the better of two contenders' figures (`Math.max` for a rate, `Math.min` for a cost). */
export const betterOf = (a: PerRep<number>, b: PerRep<number>, better: (x: number, y: number) => number): PerRep<number> => a.map((x, i) => better(x, b[i]));

/** "1 key", "10,000 keys". */
export const keysLabel = (keys: number): string => `${keys.toLocaleString('en-US')} key${keys > 1 ? 's' : ''}`;
