// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import type { Redis } from 'ioredis';
import { decideAll } from '../../lib/core/gcra';
import { toGcraPolicy, type GcraPolicy } from '../../lib/core/policy';
import type { StoreEntry } from '../../lib/stores/limiter-store';
import { MAX_IN_FLIGHT } from '../../lib/stores/redis/gcra-batcher';
import { RefusalCache } from '../../lib/stores/redis/refusal-cache';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectStandalone, uniquePrefix } from '../support/redis-env';
import { waitFor } from '../support/redis-servers';
import { seededRandom } from '../support/seeded-random';


const slow = toGcraPolicy({ id: 'slow', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 2 });
const entry = (policy: GcraPolicy, key = 'k', cost = 1): StoreEntry => ({ policy, key, cost });

describe('RefusalCache', () => {
  /** A cache that has seen one reply: Redis time = local time - 1,000 (exactly known), read at local 5,000. */
  const primed = (horizonMs = 1000, capacity = 10): RefusalCache => {
    const cache = new RefusalCache(horizonMs, capacity);
    cache.observe(4000, 5000, 5000);
    return cache;
  };

  it('never refuses what Redis would admit: 20,000 random states, clocks and reply latencies', () => {
    const seed = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = seededRandom(seed);
    const policies = ['token-bucket', 'leaky-bucket'].flatMap((shape) =>
      (['reject', 'wait'] as const).map((mode) => toGcraPolicy({ id: `${shape}-${mode}`, shape: shape as GcraPolicy['shape'], mode, rate: 10, capacity: 3 })),
    );
    let local = 0;
    for (let i = 0; i < 20_000; i++) {
      const offset = 1e6 * next();
      const cache = new RefusalCache(1000, 10);
      const policy = policies[Math.floor(next() * policies.length)];
      const cost = 1 + Math.floor(next() * 4);
      // A reply: sent at `sent`, run by Redis somewhere in the round trip, received at `received`.
      const sent = 1000 * next();
      const received = sent + 50 * next();
      const ranAt = sent + (received - sent) * next();
      const redisNow = ranAt - offset;
      const tat = next() < 0.1 ? undefined : redisNow + 400 * next();
      cache.observe(redisNow, sent, received);
      cache.remember(policy.id, 'k', tat, sent, cache.epoch);
      // Later, with Redis's state grown (other processes charged it) or not.
      const later = received + 1200 * next();
      const trueNow = later - offset;
      const trueTat = tat === undefined ? undefined : tat + (next() < 0.5 ? 0 : 300 * next());
      const verdict = cache.refuse([entry(policy, 'k', cost)], later);
      if (!verdict) continue;
      local++;
      const redis = decideAll([trueTat], trueNow, [policy], [cost]);
      if (redis[0].admits) throw new Error(`seed ${seed}, case ${i}: refused locally what Redis admits (${JSON.stringify({ tat, trueTat, trueNow, verdict })})`);
      expect(verdict.now).toBeGreaterThanOrEqual(trueNow);
    }
    expect(local).toBeGreaterThan(1000);
  });

  it('answers with lib/core’s numbers at the latest Redis time it can be', () => {
    const cache = primed();
    cache.remember(slow.id, 'k', 4000 + 2000, 5000, cache.epoch);
    const verdict = cache.refuse([entry(slow)], 5100)!;
    // 100 ms after the reply, plus the drift Redis's clock is allowed (1e-4 per ms).
    expect(verdict.now).toBeCloseTo(4100.01, 6);
    expect(verdict.outcomes).toEqual(decideAll([6000], verdict.now, [slow], [1]));
    expect(verdict.outcomes[0].admits).toBe(false);
  });

  it('asks Redis when lib/core would admit, when an entry is unknown, and before any reply', () => {
    const cache = primed();
    cache.remember(slow.id, 'k', 6000, 5000, cache.epoch);
    expect(cache.refuse([entry(slow)], 6100)).toBeUndefined();
    expect(cache.refuse([entry(slow), entry(slow, 'other')], 5100)).toBeUndefined();
    const fresh = new RefusalCache();
    fresh.remember(slow.id, 'k', 6000, 5000, fresh.epoch);
    expect(fresh.refuse([entry(slow)], 5100)).toBeUndefined();
  });

  it('forgets a key at once on this process’s cancel, settle or reset, and ignores a refusal read before that', () => {
    const cache = primed();
    const readBefore = cache.epoch;
    cache.remember(slow.id, 'k', 6000, 5000, readBefore);
    cache.forget(slow.id, 'k');
    expect(cache.refuse([entry(slow)], 5100)).toBeUndefined();
    cache.remember(slow.id, 'k', 6000, 5000, readBefore);
    expect(cache.refuse([entry(slow)], 5100)).toBeUndefined();
    cache.remember(slow.id, 'k', 6000, 5000, cache.epoch);
    expect(cache.refuse([entry(slow)], 5100)).toBeDefined();
  });

  it('answers for at most the horizon after Redis was read', () => {
    const cache = primed(1000);
    cache.remember(slow.id, 'k', 1e9, 5000, cache.epoch);
    expect(cache.refuse([entry(slow)], 6000)).toBeDefined();
    expect(cache.refuse([entry(slow)], 6000.001)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most `capacity` keys, dropping the oldest', () => {
    const cache = primed(1000, 3);
    for (const key of ['a', 'b', 'c', 'd']) cache.remember(slow.id, key, 1e9, 5000, cache.epoch);
    expect(cache.size).toBe(3);
    expect(cache.refuse([entry(slow, 'a')], 5100)).toBeUndefined();
    expect(['b', 'c', 'd'].every((key) => cache.refuse([entry(slow, key)], 5100))).toBe(true);
  });

  it('a Redis clock that jumps ahead is followed at the next reply', () => {
    const cache = primed();
    // Redis now reads 10 s later for the same local time: the old bound would under-estimate it.
    cache.observe(14_100, 5100, 5100);
    cache.remember(slow.id, 'k', 14_100 + 1500, 5100, cache.epoch);
    expect(cache.refuse([entry(slow)], 5200)!.now).toBeCloseTo(14_200.01, 6);
  });
});

describe('RedisStore: refusals repeated from memory', () => {
  let client: Redis;
  beforeAll(() => {
    client = connectStandalone();
  });
  afterAll(() => client.quit());

  /** Counts the script calls a store makes on `client`. */
  const countCalls = () => {
    const send = jest.spyOn(client, 'sendCommand');
    return {
      scripts: () => send.mock.calls.filter(([c]) => c.name === 'evalsha' || c.name === 'eval').length,
      restore: () => send.mockRestore(),
    };
  };

  it('a flood on one refused key costs Redis about one call per horizon, and every answer is a refusal', async () => {
    const store = new RedisStore({ redis: client, prefix: uniquePrefix('flood') });
    const calls = countCalls();
    const started = performance.now();
    const first = await store.decide([entry(slow)]);
    let admitted = first.outcomes[0].admits ? 1 : 0;
    let decisions = 1;
    for (let wave = 0; wave < 40; wave++) {
      const verdicts = await Promise.all(Array.from({ length: 256 }, () => store.decide([entry(slow, 'k', 3)])));
      decisions += verdicts.length;
      admitted += verdicts.filter((v) => v.outcomes[0].admits).length;
    }
    const elapsed = performance.now() - started;
    const scripts = calls.scripts();
    calls.restore();
    console.log(`flood: ${decisions} decisions in ${elapsed.toFixed(0)} ms, ${scripts} script calls (${(scripts / decisions).toFixed(4)} per decision)`);
    // Cost 3 on a capacity of 2 never passes: the first wave asks Redis (its 256 requests shared
    // among the calls a slot may have in flight), then memory answers until the horizon (1 s) runs
    // out, when one more wave reads Redis again.
    expect(admitted).toBe(1);
    expect(scripts).toBeLessThanOrEqual(1 + MAX_IN_FLIGHT * (1 + Math.ceil(elapsed / 1000)));
    expect(scripts / decisions).toBeLessThanOrEqual(0.05);
  });

  it('a reset by another process reaches this one once the horizon has passed; its own reset at once', async () => {
    const prefix = uniquePrefix('horizon');
    const here = new RedisStore({ redis: client, prefix, refusalCacheMs: 50 });
    const there = new RedisStore({ redis: client, prefix });
    const once = toGcraPolicy({ id: 'once', shape: 'token-bucket', mode: 'reject', rate: 1 / 64, capacity: 1 });
    expect((await here.decide([entry(once)])).outcomes[0].admits).toBe(true);
    expect((await here.decide([entry(once)])).outcomes[0].admits).toBe(false);
    const calls = countCalls();
    await there.reset(once.id, 'k');
    // Within the horizon the refusal may still be repeated from memory; after it, Redis decides.
    await waitFor(async () => (await here.decide([entry(once)])).outcomes[0].admits, 'the reset to reach the other process');
    expect((await here.decide([entry(once)])).outcomes[0].admits).toBe(false);
    await here.reset(once.id, 'k');
    const before = calls.scripts();
    expect((await here.decide([entry(once)])).outcomes[0].admits).toBe(true);
    expect(calls.scripts()).toBe(before + 1);
    calls.restore();
  });
});
