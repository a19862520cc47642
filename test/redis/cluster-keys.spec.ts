// @needs redis-cluster: the shared Redis Cluster that test/support/global-setup.ts starts
import type { Cluster } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import { LimiterConfigError } from '../../lib/errors/limiter-config.error';
import { RedisKeyNames } from '../../lib/stores/redis/redis-key-names';
import { redisKey } from '../../lib/stores/redis/redis-keys';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectCluster, uniquePrefix } from '../support/redis-env';

const perSecond = toGcraPolicy({ id: 'per-second', shape: 'token-bucket', mode: 'reject', rate: 1 / 64, capacity: 1 });
const perHour = toGcraPolicy({ id: 'per-hour', shape: 'leaky-bucket', mode: 'wait', rate: 1 / 3600, capacity: 5 });
const AWKWARD = ['plain', 'with space', '{braces}', '}{', '{', 'a{b}c{d}', 'new\nline', 'tab\there', 'ключ', '🙂', 'x'.repeat(10_000)];

describe('RedisStore on Redis Cluster: keys', () => {
  let cluster: Cluster;
  let prefix: string;
  let store: RedisStore;
  beforeAll(() => {
    cluster = connectCluster();
  });
  beforeEach(() => {
    prefix = uniquePrefix('cluster-keys');
    store = new RedisStore({ redis: cluster, prefix });
  });
  afterAll(() => cluster.quit());

  it('puts every policy of a key in one slot, whatever the key holds', async () => {
    for (const key of AWKWARD) {
      const slots = await Promise.all([perSecond, perHour].map((p) => cluster.cluster('KEYSLOT', redisKey(prefix, p.id, key))));
      expect(slots[0]).toBe(slots[1]);
    }
  });

  it('computes each key’s slot as Redis does (batches are split by it), and names keys exactly as redisKey does', async () => {
    const names = new RedisKeyNames(prefix);
    for (const key of [...AWKWARD, ...Array.from({ length: 50 }, (_, i) => `client-${i}`)]) {
      expect(names.of(perHour.id, key)).toBe(redisKey(prefix, perHour.id, key));
      expect(names.slotOf(key)).toBe(await cluster.cluster('KEYSLOT', redisKey(prefix, perHour.id, key)));
    }
  });

  it('decides 300 requests on 300 keys issued in one tick (one call per slot), each as it would be alone', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `burst-${i}`);
    const first = await Promise.all(keys.map((key) => store.decide([{ policy: perSecond, key, cost: 1 }])));
    const second = await Promise.all(keys.map((key) => store.decide([{ policy: perSecond, key, cost: 1 }])));
    expect(first.every((v) => v.outcomes[0].admits)).toBe(true);
    expect(second.every((v) => !v.outcomes[0].admits)).toBe(true);
  });

  it('decides two policies atomically for keys of any content', async () => {
    for (const key of AWKWARD) {
      const first = await store.decide([{ policy: perHour, key, cost: 1 }, { policy: perSecond, key, cost: 1 }]);
      expect(first.outcomes.map((o) => o.admits)).toEqual([true, true]);
      const second = await store.decide([{ policy: perHour, key, cost: 1 }, { policy: perSecond, key, cost: 1 }]);
      expect(second.outcomes.map((o) => o.admits)).toEqual([true, false]);
      const hour = await store.peek([{ policy: perHour, key, cost: 1 }]);
      expect(hour.outcomes[0].remaining).toBe(4);
    }
  });

  it('spreads different keys over the masters', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `client-${i}`);
    await Promise.all(keys.map((key) => store.decide([{ policy: perSecond, key, cost: 1 }])));
    const counts = await Promise.all(cluster.nodes('master').map(async (node) => (await node.keys(`${prefix}*`)).length));
    expect(counts.reduce((a, b) => a + b)).toBe(30);
    expect(counts.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('keeps deciding after SCRIPT FLUSH on every master', async () => {
    await store.decide([{ policy: perHour, key: 'warm', cost: 1 }]);
    await Promise.all(cluster.nodes('master').map((node) => node.script('FLUSH')));
    const keys = Array.from({ length: 20 }, (_, i) => `after-flush-${i}`);
    const verdicts = await Promise.all(keys.map((key) => store.decide([{ policy: perHour, key, cost: 1 }])));
    expect(verdicts.every((v) => v.outcomes[0].admits)).toBe(true);
  });

  it('refuses, clearly and before calling Redis, one request whose policies use different keys', async () => {
    const mixed = store.decide([{ policy: perHour, key: 'user-1', cost: 1 }, { policy: perSecond, key: 'everyone', cost: 1 }]);
    await expect(mixed).rejects.toThrow(LimiterConfigError);
    await expect(mixed).rejects.toThrow(/RedisStore on Redis Cluster: expected `key` to be the same for every policy of one request/);
  });

  it('refuses a prefix with braces, which would take the hash tag’s place', () => {
    expect(() => new RedisStore({ redis: cluster, prefix: 'app{1}:' })).toThrow(/RedisStore options: expected `prefix` to be a string without `\{` or `\}`/);
  });
});
