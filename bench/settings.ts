// What one `npm run bench` runs, and for how long; read once from the environment (for
// development only: the published figures come from the defaults).
//   BENCH_REPS     repetitions (default 3)
//   BENCH_ONLY     sections, comma-separated: inprocess, memory, redis, http, shaping, waiting, fair; or one
//                  row of the Redis section: redis.256, redis.16, redis.1, redis.flood; or one part of
//                  the HTTP section: http.turns (req/s, in turns), http.profile (the guard's share of CPU),
//                  http.pairs (each guard's CPU per request beside the no-op guard's, at once),
//                  http.guard (each guard's call timed in one process, hot and with cooled caches)
//   BENCH_SECONDS  every measured segment of sections 1, 3, 4 and 7 lasts this long instead (a smoke run)
//   BENCH_SHAPING_MS (default 15000), BENCH_OUT (default BENCHMARKS.md)

/** Interleaved repetitions of every measurement. */
export const REPS = Number(process.env.BENCH_REPS ?? 3);

const ONLY = process.env.BENCH_ONLY?.split(',');

/** Whether `section` (`redis`) or row (`redis.flood`) is to be run: named itself, or its section named, or one of its rows. */
export const runs = (section: string): boolean => !ONLY || ONLY.some((s) => s === section || section.startsWith(`${s}.`) || s.startsWith(`${section}.`));

/** Whether only part of `section` runs (some of its rows were named in BENCH_ONLY, not the section). */
export const partly = (section: string): boolean => !!ONLY && !ONLY.includes(section) && ONLY.some((s) => s.startsWith(`${section}.`));

const SECONDS = process.env.BENCH_SECONDS === undefined ? undefined : Number(process.env.BENCH_SECONDS);

/** A measured segment's length: `defaultMs`, unless BENCH_SECONDS shortens it for a smoke run. */
export const segmentMs = (defaultMs: number): number => (SECONDS === undefined ? defaultMs : SECONDS * 1000);

/** Whether the durations are the published ones. */
export const fullLength = SECONDS === undefined;

const STARTED = performance.now();

/** Seconds since the bench started. */
export const elapsedS = (): number => (performance.now() - STARTED) / 1000;

/** A progress line, with the seconds since the bench started. */
export const log = (line: string): void => console.log(`[bench ${elapsedS().toFixed(0).padStart(4)} s] ${line}`);

/** The same contenders in a different order each repetition, so that none always runs first. */
export function rotate<T>(xs: readonly T[], rep: number): T[] {
  const k = rep % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/**
 * The contenders in an order drawn from `seed` (the same for the same seed: a run can be
 * repeated). For turns taken back to back: a rotation keeps each contender after the same one,
 * so whatever a turn leaves behind (a server's garbage collection, its closing connections) would
 * always fall on the same next one.
 */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let state = (seed + 1) * 0x9e3779b9;
  for (let i = out.length - 1; i > 0; i--) {
    // mulberry32: small, and good enough to order a handful of contenders.
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const j = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
