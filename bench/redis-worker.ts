// One contender of the Redis bench (3), in a process of its own: `inFlight` concurrent callers,
// each awaiting one decision at a time. It warms up on each key set, says it is ready, then runs
// one measured turn per message (`RedisTurn`) and answers with what the turn cost Redis (INFO cpu,
// INFO commandstats) and this process (process.cpuUsage). Started by bench/redis-bench.ts with a
// JSON job (bench/harness.ts `startWorker`):
//   node dist/bench/redis-worker.js '<job>'
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { LimiterModule, LimiterService, RedisStore, type LimitPolicy } from '../lib';
import { toGcraPolicy } from '../lib/core/policy';
import { ip } from './harness';
import { percentile } from './percentile';
import { SCRIPT_FLOOR_LUA } from './script-floor';
import { startServerCost } from './redis-server-stats';

/**
 * `LimiterService.consume`: the public API, on `LimiterModule.forRoot({ store: { redis: url } })`
 * in a Nest application context (the store's own client). `RedisStore.decide`: the store alone,
 * also on its own client. The peers get an ioredis client made by the bench, and so does
 * `script floor` (bench/script-floor.ts), the least any GCRA on Redis's clock costs.
 */
export type RedisContender = 'LimiterService.consume' | 'RedisStore.decide' | 'RateLimiterRedis' | 'RateLimiterRedis + inMemoryBlockOnConsumed' | 'ThrottlerStorageRedis' | 'script floor';

/** `admit`: limits never reached, every decision an admission. `flood`: one key, a small bucket, nearly every decision a refusal. */
export type RedisLoad = 'admit' | 'flood';

export interface RedisJob {
  readonly url: string;
  readonly contender: RedisContender;
  /** The bench's ioredis client's `enableAutoPipelining`; absent for nest-limiter, which makes its own client (auto-pipelining off: the store writes each batch itself). */
  readonly pipelining?: 'on' | 'off';
  readonly load: RedisLoad;
  readonly inFlight: number;
  readonly keySets: readonly number[];
  /** The warm-up on the first key set (each other key set gets LATER_WARM_UP of it). */
  readonly warmUpMs: number;
  /** Record each call's latency (meant for 1 in flight). */
  readonly latency?: boolean;
}

/** The share of `warmUpMs` each key set after the first gets: the code is optimised by then. */
export const LATER_WARM_UP = 0.4;

/** One measured turn, asked of a ready worker: `ms` on the key set of `keys` keys. */
export interface RedisTurn {
  readonly keys: number;
  readonly ms: number;
}

/** What one measured turn on one key set did, per decision and per second. */
export interface RedisFigures {
  readonly decisionsPerSec: number;
  readonly refusedPerSec: number;
  readonly serverCpuUsPerDecision: number;
  readonly scriptCallsPerDecision: number;
  readonly commandsPerDecision: number;
  readonly clientCpuUsPerDecision: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The flood's bucket: 10 per second, bursts of 10 (rate-limiter-flexible: 10 points per 1 s window). */
export const FLOOD = { rate: 10, capacity: 10 } as const;

/** Never reached in an `admit` run. */
const UNREACHED = 1_000_000_000;

/**
 * nest-limiter's rate in an `admit` run: an ordinary limit (10 per second), whose burst of
 * UNREACHED is never reached. Each decision then moves a key's state 100 ms on and writes it, as
 * under a real limit, and the key outlives the run (as the peers' do, counting in a 60 s window).
 * A rate near UNREACHED per second would not: its emission interval (1e-6 ms) is below what a
 * double holds beside `now`, so no state would ever be stored and every write would be a DEL of nothing.
 */
export const ADMIT_RATE = 10;

/** One decision on `key`: true when admitted. */
type Decide = (key: string) => Promise<boolean>;

async function contender(job: RedisJob): Promise<{ decide: Decide; close: () => Promise<void> }> {
  const flood = job.load === 'flood';
  const rate = flood ? FLOOD.rate : ADMIT_RATE;
  const capacity = flood ? FLOOD.capacity : UNREACHED;
  const client = (): Redis => new Redis(job.url, { enableAutoPipelining: job.pipelining === 'on' });
  switch (job.contender) {
    case 'LimiterService.consume': {
      @Module({ imports: [LimiterModule.forRoot({ store: { redis: job.url, prefix: 'bench:nl:' } })] })
      class BenchRedisModule {}
      const app = await NestFactory.createApplicationContext(BenchRedisModule, { logger: ['error'] });
      const limiter = app.get(LimiterService);
      const policy: LimitPolicy = { algorithm: 'token-bucket', rate, capacity };
      return { decide: async (key) => (await limiter.consume(key, policy)).allowed, close: () => app.close() };
    }
    case 'RedisStore.decide': {
      const store = new RedisStore({ redis: job.url, prefix: 'bench:store:' });
      const policy = toGcraPolicy({ id: 'bench', shape: 'token-bucket', mode: 'reject', rate, capacity });
      return { decide: async (key) => (await store.decide([{ policy, key, cost: 1 }])).outcomes.every((o) => o.admits), close: () => store.close() };
    }
    case 'RateLimiterRedis':
    case 'RateLimiterRedis + inMemoryBlockOnConsumed': {
      const redis = client();
      const points = flood ? FLOOD.capacity : UNREACHED;
      const block = job.contender === 'RateLimiterRedis' ? {} : { inMemoryBlockOnConsumed: points };
      const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'bench:rlf', points, duration: flood ? FLOOD.capacity / FLOOD.rate : 60, ...block });
      const decide: Decide = (key) =>
        limiter.consume(key, 1).then(
          () => true,
          (refusal: unknown) => {
            if (refusal instanceof RateLimiterRes) return false;
            throw refusal;
          },
        );
      return { decide, close: async () => redis.disconnect() };
    }
    case 'script floor': {
      const redis = client();
      const sha = String(await redis.script('LOAD', SCRIPT_FLOOR_LUA));
      const emissionMs = String(1000 / rate);
      const tauMs = String(((capacity - 1) * 1000) / rate);
      return { decide: async (key) => (await redis.evalsha(sha, 1, `bench:floor:${key}`, emissionMs, tauMs)) === 1, close: async () => redis.disconnect() };
    }
    case 'ThrottlerStorageRedis': {
      const redis = client();
      const storage = new ThrottlerStorageRedisService(redis);
      return { decide: async (key) => !(await storage.increment(`bench:tsr:${key}`, 60_000, capacity, 60_000, 'default')).isBlocked, close: async () => redis.disconnect() };
    }
  }
}

interface Segment {
  readonly decisions: number;
  readonly refused: number;
  readonly seconds: number;
  readonly clientCpuUs: number;
  readonly latenciesMs: number[];
}

/**
 * `inFlight` callers, each starting its next decision when its last one completes, until `ms`
 * have passed and at least `minDecisions` were made; every call started is awaited, so the
 * segment holds exactly the decisions counted. Callers check the time themselves: a decision
 * answered without I/O (a cached refusal) never lets a timer run.
 */
async function segment(decide: Decide, keys: readonly string[], inFlight: number, ms: number, minDecisions: number, latency: boolean): Promise<Segment> {
  let started = 0;
  let refused = 0;
  const latenciesMs: number[] = [];
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  const caller = async (): Promise<void> => {
    while (performance.now() < end || started < minDecisions) {
      const key = keys[started++ % keys.length];
      const t = latency ? performance.now() : 0;
      if (!(await decide(key))) refused++;
      if (latency) latenciesMs.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { decisions: started, refused, seconds, clientCpuUs: used.user + used.system, latenciesMs };
}

/** Warms up on every key set, then runs the turns it is asked for until it is asked to leave (`{}`). */
async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as RedisJob;
  const { decide, close } = await contender(job);
  const admin = new Redis(job.url);
  const keySets = new Map<number, string[]>();
  for (const [i, count] of job.keySets.entries()) {
    const keys = Array.from({ length: count }, (_, i) => ip(i));
    keySets.set(count, keys);
    // Connection open, script loaded, every key created (the flood's bucket emptied); the first one
    // longer, for the code to be optimised (a Nest app has more of it than a client).
    await segment(decide, keys, job.inFlight, i === 0 ? job.warmUpMs : job.warmUpMs * LATER_WARM_UP, count, false);
  }
  const turn = async ({ keys, ms }: RedisTurn): Promise<RedisFigures> => {
    const spent = await startServerCost(admin);
    const s = await segment(decide, keySets.get(keys)!, job.inFlight, ms, 0, job.latency === true);
    const server = await spent();
    if (job.load === 'admit' && s.refused > 0) throw new Error(`${job.contender}: ${s.refused} refusals where the limits are never reached`);
    return {
      decisionsPerSec: s.decisions / s.seconds,
      refusedPerSec: s.refused / s.seconds,
      serverCpuUsPerDecision: server.cpuUs / s.decisions,
      scriptCallsPerDecision: server.scriptCalls / s.decisions,
      commandsPerDecision: server.commands / s.decisions,
      clientCpuUsPerDecision: s.clientCpuUs / s.decisions,
      p50Ms: percentile(s.latenciesMs, 50),
      p99Ms: percentile(s.latenciesMs, 99),
    };
  };
  process.on('message', (message: Partial<RedisTurn>) => {
    if (message.keys === undefined) {
      void close().finally(() => (admin.disconnect(), process.exit(0)));
      return;
    }
    turn(message as RedisTurn).then(
      (figures) => process.send!(figures),
      (error: unknown) => (console.error(error), process.exit(1)),
    );
  });
  process.send!({ ready: true });
}

// Only as a forked worker: run.ts imports the types and constants above.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
