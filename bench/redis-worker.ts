// One contender of the Redis bench (3), in a process of its own: `inFlight` concurrent callers,
// each awaiting one decision at a time, on 1 key and then on 10,000 keys. Started by bench/run.ts:
//   node dist/bench/redis-worker.js <redisUrl> <contender> <auto-pipelining: on|off> <ms>
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { toGcraPolicy } from '../lib/core/policy';
import { RedisStore } from '../lib/stores/redis/redis.store';
import { ip, reply } from './harness';

export type RedisContender = 'RedisStore' | 'RateLimiterRedis' | 'ThrottlerStorageRedis';
export const IN_FLIGHT = 256;
export const KEY_SETS = [1, 10_000] as const;

function contender(name: RedisContender, client: Redis): (key: string) => Promise<unknown> {
  // Limits far above what is reached: every decision is an admission, for all three.
  switch (name) {
    case 'RedisStore': {
      const store = new RedisStore({ redis: client, prefix: 'bench:nl:' });
      const policy = toGcraPolicy({ id: 'bench', shape: 'token-bucket', mode: 'reject', rate: 1_000_000, capacity: 1_000_000 });
      return (key) => store.decide([{ policy, key, cost: 1 }]);
    }
    case 'RateLimiterRedis': {
      const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: 'bench:rlf', points: 1_000_000_000, duration: 60 });
      return (key) => limiter.consume(key, 1);
    }
    case 'ThrottlerStorageRedis': {
      const storage = new ThrottlerStorageRedisService(client);
      return (key) => storage.increment(`bench:tsr:${key}`, 60_000, 1_000_000_000, 60_000, 'default');
    }
  }
}

async function measure(decide: (key: string) => Promise<unknown>, keys: readonly string[], ms: number): Promise<number> {
  let n = 0;
  let stop = false;
  const caller = async (): Promise<void> => {
    while (!stop) await decide(keys[n++ % keys.length]);
  };
  const callers = Array.from({ length: IN_FLIGHT }, caller);
  const started = n;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const done = n - started; // each caller starts its next call as its last one completes: starts = completions
  const elapsed = performance.now() - t0;
  stop = true;
  await Promise.all(callers);
  return (done * 1000) / elapsed;
}

async function main(): Promise<Record<string, number>> {
  const [url, name, pipelining, ms] = process.argv.slice(2);
  const client = new Redis(url, { enableAutoPipelining: pipelining === 'on' });
  const decide = contender(name as RedisContender, client);
  const result: Record<string, number> = {};
  for (const count of KEY_SETS) {
    const keys = Array.from({ length: count }, (_, i) => ip(i));
    await measure(decide, keys, 400); // warm-up: connection, script loaded, code optimised, keys created
    result[count] = await measure(decide, keys, Number(ms));
  }
  client.disconnect();
  return result;
}

// Only as a forked worker: run.ts imports the constants above.
if (require.main === module) {
  main().then(reply, (error) => {
    console.error(error);
    process.exit(1);
  });
}
