import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import { gcraLua } from '../../lib/stores/redis/gcra-script';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { freePort, startRedisServer, waitFor, type RedisServer } from '../support/redis-servers';
import { uniquePrefix } from '../support/redis-env';

// Far more than the load can use: every decision is admitted, so only errors can differ.
const ROOMY = toGcraPolicy({ id: 'roomy', shape: 'token-bucket', mode: 'reject', rate: 1e9, capacity: 1e9 });

/** Concurrent callers deciding in a loop; each error is kept with the phase its call started in. */
function startLoad(store: RedisStore, callers = 16) {
  const state = { phase: 0, ok: 0, stopped: false, errors: [] as { phase: number; error: unknown }[] };
  const loops = Array.from({ length: callers }, async (_, i) => {
    while (!state.stopped) {
      const phase = state.phase;
      try {
        await store.decide([{ policy: ROOMY, key: `caller-${i % 4}`, cost: 1 }]);
        state.ok++;
      } catch (error) {
        state.errors.push({ phase, error });
      }
    }
  });
  return {
    state,
    /** Waits until `n` more decisions have succeeded. */
    succeeded: (n: number) => {
      const target = state.ok + n;
      return waitFor(async () => state.ok >= target, `${n} more decisions`);
    },
    stop: async () => {
      state.stopped = true;
      await Promise.all(loops);
    },
  };
}

describe('RedisStore: script cache and restarts (dedicated server)', () => {
  let port: number;
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    port = await freePort();
    server = await startRedisServer(port);
    admin = new Redis({ port, retryStrategy: () => 20 });
  });
  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  it('SCRIPT FLUSH in the middle of a load: every caller still gets its decision', async () => {
    const store = new RedisStore({ redis: `redis://127.0.0.1:${port}`, prefix: uniquePrefix('flush') });
    const load = startLoad(store);
    await load.succeeded(300);
    await admin.script('FLUSH');
    await load.succeeded(300);
    await admin.script('FLUSH');
    await load.succeeded(300);
    await load.stop();
    await store.close();
    expect(load.state.errors).toEqual([]);
    // The flush really bit (Redis answered NOSCRIPT) and the script was loaded again.
    expect(await admin.info('errorstats')).toMatch(/errorstat_NOSCRIPT:count=[1-9]/);
    const sha = createHash('sha1').update(gcraLua()).digest('hex');
    expect(await admin.script('EXISTS', sha)).toEqual([1]);
  });

  it('a server restart in the middle of a load: decisions continue, and no call made once it is back fails', async () => {
    const store = new RedisStore({ redis: { port, retryStrategy: () => 20 }, prefix: uniquePrefix('restart') });
    const load = startLoad(store);
    await load.succeeded(300);
    load.state.phase = 1;
    await server.stop();
    server = await startRedisServer(port);
    // Back: a decision made now succeeds (the new server has no script cached, so EVAL again).
    await waitFor(async () => (await store.decide([{ policy: ROOMY, key: 'probe', cost: 1 }])).outcomes[0].admits, 'the store to decide again');
    load.state.phase = 2;
    await load.succeeded(500);
    await load.stop();
    await store.close();
    expect(load.state.errors.filter((e) => e.phase === 2)).toEqual([]);
    expect(load.state.errors.filter((e) => e.phase === 0)).toEqual([]);
  });
});
