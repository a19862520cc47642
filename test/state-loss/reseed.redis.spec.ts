// @needs redis: the shared redis-server that test/support/global-setup.ts starts; each case empties only its own keys
import type { Redis } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import type { StoreEntry } from '../../lib/stores/limiter-store';
import { redisKey } from '../../lib/stores/redis/redis-keys';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectStandalone, uniquePrefix } from '../support/redis-env';

// A 10/s bank with a 1 s queue: T = 100 ms, and no request waits more than 1,000 ms.
const BANK = toGcraPolicy({ id: 'bank', shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 10 });
const T = BANK.emissionMs;

/**
 * Two processes on one bucket, as the engine drives them: each sends the latest state Redis
 * reported to it as its floor. A is stale: B reserved 5 slots after A's last decision.
 */
describe('a bucket Redis lost, decided first by a process whose view of it is stale', () => {
  let client: Redis;
  let store: RedisStore;
  let prefix: string;
  beforeAll(() => {
    client = connectStandalone();
  });
  afterAll(() => client.quit());
  beforeEach(() => {
    prefix = uniquePrefix('reseed');
    store = new RedisStore({ redis: client, prefix, refusalCacheMs: 0 });
  });
  afterEach(() => store.close());

  const decide = async (floor?: number) => {
    const entry: StoreEntry = { policy: BANK, key: 'k', cost: 1, floor };
    const { now, outcomes } = await store.decide([entry]);
    return { now, ...outcomes[0] };
  };
  const stale = async () => {
    const a = await decide();
    let b = a;
    for (let i = 0; i < 5; i++) b = await decide(a.tat);
    return { seenByA: a.tat, lastOfB: b };
  };

  it('is re-seeded as a full queue: no slot of B is handed out again, and the re-seed stays though A is refused', async () => {
    const { seenByA, lastOfB } = await stale();
    await client.del(redisKey(prefix, BANK.id, 'k'));

    const first = await decide(seenByA);
    // Decided from A's floor it would have been given B's second slot; the queue is re-seeded full instead.
    expect(first.admits).toBe(false);
    expect(first.tat).toBe(first.now + Math.min(BANK.tauMs, BANK.maxWaitMs + T));
    expect(first.tat).toBeGreaterThanOrEqual(lastOfB.tat);
    expect(Number(await client.get(redisKey(prefix, BANK.id, 'k')))).toBe(first.tat);

    // A process that remembers nothing now finds the re-seeded state, not an empty bucket.
    const fresh = await decide();
    expect(fresh.admits).toBe(false);
    expect(fresh.retryAfterMs).toBeGreaterThan(first.tat - T - BANK.maxWaitMs - fresh.now - 1);
  });

  it('a bucket B gave back (cancelled to nothing) is not taken for lost: A is floored at what it saw, no more', async () => {
    const { seenByA, lastOfB } = await stale();
    // B cancels its five, last first: the state goes back to A's, then below now as time passes.
    let tat = lastOfB.tat;
    for (let i = 0; i < 5; i++) {
      await store.cancel([{ policy: BANK, key: 'k', cost: 1 }], [tat]);
      tat -= T;
    }
    await store.cancel([{ policy: BANK, key: 'k', cost: 1 }], [seenByA]);
    // The key holds a state of no weight (<= now) until the latest it held has passed.
    expect(await client.exists(redisKey(prefix, BANK.id, 'k'))).toBe(1);

    const a = await decide(seenByA);
    expect(a.admits).toBe(true);
    expect(a.now + a.delayMs).toBeCloseTo(Math.max(a.now, seenByA), 6);
  });
});
