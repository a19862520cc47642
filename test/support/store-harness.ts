import type { Cluster, Redis } from 'ioredis';
import { FakeClock } from '../../lib/core/fake-clock';
import { MemoryStore } from '../../lib/stores/memory/memory.store';
import { redisKey } from '../../lib/stores/redis/redis-keys';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import type { StoreHarness } from '../contract/limiter-store.contract';
import { uniquePrefix } from './redis-env';

/** A MemoryStore on a FakeClock: time moves only when the test says so. */
export async function memoryHarness(): Promise<StoreHarness> {
  const clock = new FakeClock(1_000_000);
  const store = new MemoryStore({ clock });
  return { store, elapse: (ms) => clock.advance(ms), close: () => store.close() };
}

/** A RedisStore on a shared client, under a prefix of its own; Redis time is real, so `elapse` waits it out. */
export async function redisHarness(client: Redis | Cluster, name: string): Promise<StoreHarness> {
  const prefix = uniquePrefix(name);
  const store = new RedisStore({ redis: client, prefix });
  const key = (policyId: string, k: string) => redisKey(prefix, policyId, k);
  return {
    store,
    elapse: async (ms) => {
      const until = (await store.peek([])).now + ms;
      while ((await store.peek([])).now < until) await new Promise((resolve) => setTimeout(resolve, 1));
    },
    records: {
      holds: async (policyId, k) => (await client.exists(key(policyId, k))) === 1,
      ttlMs: (policyId, k) => client.pttl(key(policyId, k)),
    },
    close: () => store.close(),
  };
}
