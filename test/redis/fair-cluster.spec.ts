// @needs redis-cluster: the shared Redis Cluster that test/support/global-setup.ts starts
import type { Cluster } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import { fairKeys } from '../../lib/stores/redis/fair-keys';
import { redisKey } from '../../lib/stores/redis/redis-keys';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectCluster, uniquePrefix } from '../support/redis-env';

const bank = toGcraPolicy({ id: 'bank', shape: 'token-bucket', mode: 'wait', rate: 100, capacity: 5 });
const KEYS = ['plain', '{braces}', '}{', 'new\nline', 'ключ', '🙂', ...Array.from({ length: 10 }, (_, i) => `bank-${i}`)];

describe('RedisStore fair buckets on Redis Cluster', () => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = connectCluster();
  });
  afterAll(() => cluster.quit());

  it('puts every fair key of a bucket in its tat key’s slot, whatever the key holds', async () => {
    const prefix = uniquePrefix('fair-cluster');
    for (const key of KEYS) {
      const slots = await Promise.all(fairKeys(redisKey(prefix, bank.id, key)).map((name) => cluster.cluster('KEYSLOT', name)));
      expect(new Set(slots).size).toBe(1);
    }
  });

  it('enqueues, claims and leaves on buckets spread over the masters (one script call each, no CROSSSLOT)', async () => {
    const prefix = uniquePrefix('fair-cluster');
    const store = new RedisStore({ redis: cluster, prefix });
    const entry = (key: string, ticket: string, tenant: string) => ({ policy: bank, key, ticket, tenant, weight: 1, cost: 1, graceMs: 60_000 });
    for (const key of KEYS) {
      expect((await store.enqueue(entry(key, 'a', 'A'))).result.status).toBe('admitted');
      expect((await store.enqueue(entry(key, 'b', 'B'))).result.status).toBe('admitted');
      expect((await store.claim(entry(key, 'a', 'A'), 0)).result.status).toBe('go');
      await store.leave(entry(key, 'b', 'B'));
      expect((await store.claim(entry(key, 'b', 'B'), 0)).result.status).toBe('gone');
    }
    const perMaster = await Promise.all(cluster.nodes('master').map(async (node) => (await node.keys(`${prefix}*`)).length));
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });
});
