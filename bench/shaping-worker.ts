// One process of the shaping bench (5): `callers` concurrent callers on one leaky bucket at
// 10/s, each recording when its "handler" starts. Started by bench/run.ts with a JSON job:
//   node dist/bench/shaping-worker.js '<job>'
// kind 'nest-limiter': LimiterEngine on RedisStore, exactly what @LeakyBucket({ mode: 'wait' })
//   does per request (the guard's engine.decide, then the interceptor's engine.hold).
// kind 'RateLimiterQueue': rate-limiter-flexible's queue over RateLimiterMemory, 1 point per
//   100 ms; it lives in one process's memory and cannot be shared across processes.
// kind 'hand-written': the floor, a shared shaper with nothing but what sharing needs (below).
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import { toGcraPolicy } from '../lib/core/policy';
import { SystemClock } from '../lib/core/system-clock';
import { LimiterEngine } from '../lib/engine/limiter-engine';
import { RedisStore } from '../lib/stores/redis/redis.store';
import { reply } from './harness';

export interface ShapingJob {
  readonly kind: 'nest-limiter' | 'RateLimiterQueue' | 'hand-written';
  readonly redisUrl: string;
  readonly prefix: string;
  readonly rate: number;
  readonly capacity: number;
  readonly callers: number;
  /** Wall time (performance.timeOrigin + now) at which to start, so that the fleet starts together. */
  readonly startAt: number;
  readonly durationMs: number;
}

/**
 * One departure of nest-limiter, in three clocks: the slot Redis gave it (store ms), the wall time
 * at which the library let it go (its process's mapping of the slot), and the wall time its
 * "handler" started (when the process ran again after that).
 */
export interface Departure {
  readonly slot: number;
  readonly departAt: number;
  readonly start: number;
}

/** What a worker reports: nest-limiter each departure in its three clocks, RateLimiterQueue (which has no slots) every handler start (wall ms). */
export type ShapingReport = { readonly departures: Departure[] } | { readonly starts: number[] };

/** Wall-clock ms with sub-ms resolution, comparable between processes on one machine. */
const wall = (): number => performance.timeOrigin + performance.now();

async function nestLimiter(job: ShapingJob): Promise<ShapingReport> {
  const store = new RedisStore({ redis: job.redisUrl, prefix: job.prefix });
  const clock = new SystemClock();
  const engine = new LimiterEngine(store, clock);
  const policy = toGcraPolicy({ id: 'shaped', shape: 'leaky-bucket', mode: 'wait', rate: job.rate, capacity: job.capacity });
  const entries = [{ policy, key: 'bank', cost: 1 }];
  // Warm: connection open, script loaded, code (waiting too) run, the clock offset measured.
  const warm = [{ policy: toGcraPolicy({ id: `warm-up:${process.pid}`, shape: 'leaky-bucket', mode: 'wait', rate: 500, capacity: 50 }), key: 'bank', cost: 1 }];
  for (let i = 0; i < 20; i++) await engine.hold(await engine.decide(warm));
  await clock.sleep(job.startAt - wall());
  const end = job.startAt + job.durationMs;
  const departures: Departure[] = [];
  const caller = async (): Promise<void> => {
    while (wall() < end) {
      const verdict = await engine.decide(entries);
      if (!verdict.decision.allowed) {
        await clock.sleep(Math.min(verdict.decision.retryAfterMs, end - wall()));
        continue;
      }
      await engine.hold(verdict);
      departures.push({ slot: verdict.now + verdict.decision.delayMs, departAt: performance.timeOrigin + verdict.departAt, start: wall() });
    }
  };
  await Promise.all(Array.from({ length: job.callers }, caller));
  await store.close();
  return { departures };
}

/** The floor's script: the next slot is the stored one or now, whichever is later; one gap on for the next caller. */
const NEXT_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 60000)
return { tostring(now), tostring(slot) }`;

/**
 * The floor of the fleet rows: the same callers and start, each taking the next slot from one
 * script and sleeping until it (mapped with the least reply latency seen, on the same clock as
 * nest-limiter) — no capacity, refusal, failure handling or batching. How late its first handler
 * starts is what 16 processes woken at once cost this machine, with no limiter in the way.
 */
async function handWritten(job: ShapingJob): Promise<ShapingReport> {
  const redis = new Redis(job.redisUrl);
  const clock = new SystemClock();
  const sha = (await redis.script('LOAD', NEXT_SLOT)) as string;
  let offset = Infinity;
  const nextSlot = async (key: string, gapMs: number): Promise<number> => {
    const [now, slot] = ((await redis.evalsha(sha, 1, key, gapMs)) as string[]).map(Number);
    offset = Math.min(offset, wall() - now);
    return slot;
  };
  // Warm as nest-limiter's worker does: connection, script, sleeping, the offset (500 slots/s).
  for (let i = 0; i < 20; i++) await clock.sleep((await nextSlot(`${job.prefix}warm-up:${process.pid}`, 2)) + offset - wall());
  await clock.sleep(job.startAt - wall());
  const end = job.startAt + job.durationMs;
  const departures: Departure[] = [];
  const caller = async (): Promise<void> => {
    while (wall() < end) {
      const slot = await nextSlot(`${job.prefix}bank`, 1000 / job.rate);
      const departAt = slot + offset;
      await clock.sleep(departAt - wall());
      departures.push({ slot, departAt, start: wall() });
    }
  };
  await Promise.all(Array.from({ length: job.callers }, caller));
  redis.disconnect();
  return { departures };
}

async function rateLimiterQueue(job: ShapingJob): Promise<ShapingReport> {
  const limiter = new RateLimiterMemory({ points: 1, duration: 1 / job.rate });
  const queue = new RateLimiterQueue(limiter, { maxQueueSize: job.callers * 2 });
  const warm = new RateLimiterQueue(new RateLimiterMemory({ keyPrefix: 'warm', points: 1, duration: 0.002 }), { maxQueueSize: 100 });
  for (let i = 0; i < 20; i++) await warm.removeTokens(1);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, job.startAt - wall())));
  const end = job.startAt + job.durationMs;
  const starts: number[] = [];
  const caller = async (): Promise<void> => {
    while (wall() < end) {
      await queue.removeTokens(1);
      starts.push(wall());
    }
  };
  await Promise.all(Array.from({ length: job.callers }, caller));
  return { starts };
}

const job: ShapingJob = JSON.parse(process.argv[2]);
const run = { 'nest-limiter': nestLimiter, RateLimiterQueue: rateLimiterQueue, 'hand-written': handWritten }[job.kind];
run(job).then(
  (report) => reply(report),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
