import type { Start } from './fake-bank';

/** How a series of starts of one bucket is spaced, on Redis time (slots) and on local wall time. */
export interface Spacing {
  readonly starts: number;
  /** Least and largest gap between consecutive slots, ms: exact multiples of 1000 / rate. */
  readonly slotGapMin: number;
  readonly slotGapMax: number;
  /** Least gap and 99th percentile of the gaps between consecutive starts in wall time, ms (OS wake-up jitter shows here). */
  readonly wallGapMin: number;
  readonly wallGapP99: number;
  /** (starts - 1) per second of wall time between the first start and the last. */
  readonly wallRate: number;
  /** The earliest any start ran relative to its slot, ms: >= 0 means none started early. */
  readonly earliestMs: number;
  /** The 99th percentile and the largest of how late starts ran after their slots, ms. */
  readonly lateP99Ms: number;
  readonly lateMaxMs: number;
}

/** gcra.lua's EPOCH_MS: the Redis store counts time in ms from 2026-01-01 UTC, so a slot plus this is Unix time. */
export const STORE_EPOCH_MS = 1_767_225_600_000;

const gaps = (sorted: number[]): number[] => sorted.slice(1).map((t, i) => t - sorted[i]);

/**
 * How far two readings of the system clock can disagree here: a start's wall time is Node's
 * `performance.timeOrigin + performance.now()` (the origin fixed at process start, then the
 * monotonic clock), its slot is Redis's gettimeofday; NTP slews the realtime clock against the
 * monotonic one, so a start exactly on its slot has read up to 0.05 ms early in CI. The library's
 * own promise (never before its slot on the clock it maps slots onto) is asserted exactly by
 * test/distributed/fleet.redis.spec.ts; this margin is for comparing the two clocks, not for it.
 */
export const CLOCK_COMPARISON_MS = 0.5;

/** The spacing of `starts` (any order, at least two). */
export function spacing(starts: readonly Start[]): Spacing {
  const slotGaps = gaps(starts.map((s) => s.slot).sort((a, b) => a - b));
  const walls = starts.map((s) => s.wall).sort((a, b) => a - b);
  const wallGaps = gaps(walls).sort((a, b) => a - b);
  const late = starts.map((s) => s.wall - (s.slot + STORE_EPOCH_MS)).sort((a, b) => a - b);
  return {
    starts: starts.length,
    slotGapMin: Math.min(...slotGaps),
    slotGapMax: Math.max(...slotGaps),
    wallGapMin: wallGaps[0],
    wallGapP99: wallGaps[Math.floor(wallGaps.length * 0.99)],
    wallRate: ((walls.length - 1) * 1000) / (walls[walls.length - 1] - walls[0]),
    earliestMs: late[0],
    lateP99Ms: late[Math.floor(late.length * 0.99)],
    lateMaxMs: late[late.length - 1],
  };
}

/** One line of figures for the test log. */
export function describeSpacing(label: string, s: Spacing): string {
  const f = (n: number, d = 2): string => n.toFixed(d);
  return `${label}: ${s.starts} starts, slot gaps ${f(s.slotGapMin, 3)}-${f(s.slotGapMax, 3)} ms, wall gaps min ${f(s.wallGapMin)} ms p99 ${f(s.wallGapP99)} ms, wall rate ${f(s.wallRate, 3)}/s, started after the slot by ${f(s.earliestMs)} ms at least, p99 ${f(s.lateP99Ms)} ms, max ${f(s.lateMaxMs)} ms`;
}
