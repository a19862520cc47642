// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import type { Redis } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import type { FairEntry } from '../../lib/stores/limiter-store';
import { RedisKeyTypeError } from '../../lib/stores/redis/gcra-replay';
import { fairKeys } from '../../lib/stores/redis/fair-keys';
import { redisKey } from '../../lib/stores/redis/redis-keys';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectStandalone, uniquePrefix } from '../support/redis-env';

// 20 per second: a committed slot stays ahead of Redis time for 50 ms per unit.
const bank = toGcraPolicy({ id: 'bank', shape: 'leaky-bucket', mode: 'wait', rate: 20, capacity: 10 });
const EPOCH_MS = 1_767_225_600_000;

function entry(ticket: string, tenant: string, cost = 1): FairEntry {
  return { policy: bank, key: 'merchant-bank', ticket, tenant, weight: 1, cost, graceMs: 60_000 };
}

describe('RedisStore fair buckets (fair.lua)', () => {
  let client: Redis;
  let prefix: string;
  let store: RedisStore;
  beforeAll(() => {
    client = connectStandalone();
  });
  beforeEach(() => {
    prefix = uniquePrefix('fair-store');
    store = new RedisStore({ redis: client, prefix });
  });
  afterAll(() => client.quit());

  const keysLeft = () => client.keys(`${prefix}*`);
  const redisNow = async () => {
    const [s, us] = await client.time();
    return (Number(s) * 1e6 + Number(us)) / 1000 - EPOCH_MS;
  };

  it('deletes every fair key once the bucket is idle: no ticket, and no slot ahead', async () => {
    await store.enqueue(entry('a1', 'A'));
    await store.enqueue(entry('a2', 'A'));
    await store.enqueue(entry('b1', 'B'));
    expect((await keysLeft()).length).toBeGreaterThan(1);
    // Nothing committed (no tat): the last leave leaves an idle bucket.
    for (const id of ['a1', 'b1', 'a2']) expect((await store.leave(entry(id, 'A'))).result).toBe(true);
    expect(await keysLeft()).toEqual([]);

    // A committed slot keeps the fair keys (V, the tenants' finish tags) while it is ahead of now.
    await store.enqueue(entry('c1', 'C'));
    const claimed = await store.claim(entry('c1', 'C'), 0);
    expect(claimed.result.status).toBe('go');
    const tat = claimed.result.status === 'go' ? claimed.result.tat : NaN;
    const left = await keysLeft();
    expect(left).toContain(redisKey(prefix, bank.id, 'merchant-bank'));
    expect(left.length).toBeGreaterThan(1);
    // Every key that is left expires no earlier than the tat.
    for (const key of left) expect(await client.pexpiretime(key)).toBeGreaterThanOrEqual(Math.ceil(tat) + EPOCH_MS);

    // Once Redis time passes the tat, the next operation finds the bucket idle and deletes them.
    while ((await redisNow()) <= tat) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await store.leave(entry('never-enqueued', 'C'))).result).toBe(false);
    const rest = await keysLeft();
    // The tat key itself follows gcra.lua (it expires at its tat, on Redis's whole-ms clock).
    expect(rest.filter((key) => key !== redisKey(prefix, bank.id, 'merchant-bank'))).toEqual([]);
  });

  it('shares the bucket with requests that are not fair: a plain decision takes a slot the next claim must wait behind', async () => {
    await store.enqueue(entry('x1', 'X'));
    const plain = await store.decide([{ policy: bank, key: 'merchant-bank', cost: 3 }]);
    expect(plain.outcomes[0].admits).toBe(true);
    const claimed = await store.claim(entry('x1', 'X'), 0);
    // The plain request holds the next 150 ms: the head's departure is behind it, beyond a lookahead of 0.
    expect(claimed.result.status).toBe('wait');
    const late = await store.claim(entry('x1', 'X'), 1000);
    expect(late.result.status).toBe('go');
    if (late.result.status === 'go') expect(late.result.departureAt).toBeGreaterThanOrEqual(plain.outcomes[0].tat);
  });

  it('rejects a call that meets a key of the wrong type with RedisKeyTypeError, and changes nothing', async () => {
    for (const [i, id] of ['p1', 'p2', 'p3'].entries()) await store.enqueue(entry(id, i === 2 ? 'Q' : 'P'));
    const keys = fairKeys(redisKey(prefix, bank.id, 'merchant-bank'));
    // The last key fair.lua takes: a claim of the head would have written all the others first.
    await client.del(keys[7]);
    await client.set(keys[7], 'not a zset');
    const before = await Promise.all(keys.map((key) => client.dumpBuffer(key)));
    await expect(store.claim(entry('p1', 'P'), 1000)).rejects.toThrow(RedisKeyTypeError);
    await expect(store.enqueue(entry('p4', 'P'))).rejects.toThrow(/WRONGTYPE/);
    await expect(store.leave(entry('p2', 'P'))).rejects.toThrow(RedisKeyTypeError);
    const after = await Promise.all(keys.map((key) => client.dumpBuffer(key)));
    expect(after).toEqual(before);
  });

  it('keeps working after SCRIPT FLUSH (NOSCRIPT: the script is sent again)', async () => {
    await store.enqueue(entry('s1', 'S'));
    await client.script('FLUSH');
    const again = await store.enqueue(entry('s2', 'T'));
    expect(again.result.status).toBe('admitted');
    const claimed = await store.claim(entry('s1', 'S'), 1000);
    expect(claimed.result.status).toBe('go');
  });

  it('refuses a newcomer that holds its share of places, and pushes out the newest tickets of the heaviest tenant for another', async () => {
    for (let i = 0; i < 10; i++) expect((await store.enqueue(entry(`heavy-${i}`, 'heavy'))).result.status).toBe('admitted');
    // The room (10 places) is full: the heavy tenant is refused, a light one gets the heavy one's newest place.
    const heavyAgain = await store.enqueue(entry('heavy-10', 'heavy'));
    expect(heavyAgain.result).toMatchObject({ status: 'refused', pushedOut: [] });
    const light = await store.enqueue(entry('light-0', 'light', 2));
    expect(light.result).toMatchObject({ status: 'admitted', pushedOut: ['heavy-9', 'heavy-8'] });
    expect((await store.claim(entry('heavy-9', 'heavy'), 1000)).result.status).toBe('gone');
  });
});
