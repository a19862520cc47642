import { toGcraPolicy } from '../../lib/core/policy';
import { SystemClock } from '../../lib/core/system-clock';
import type { BreakerState } from '../../lib/failure/circuit-breaker';
import { GuardedStore } from '../../lib/failure/guarded-store';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-servers';

const policy = toGcraPolicy({ id: 'stall', shape: 'token-bucket', mode: 'reject', rate: 1e6, capacity: 1e6 });
const TIMEOUT_MS = 100;

/** Blocks this process's event loop (a long synchronous task, a GC pause) for `ms`. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Redis answers in time, but this process is itself stalled past the deadline before it reads the
 * reply: on waking, the deadline's timer comes before the socket in the event loop's turn. The
 * reply is there, so nothing timed out: the store must not be called unreachable.
 */
describe('a process stalled past the deadline while Redis answers in time', () => {
  let server: RedisServer;
  let store: RedisStore;
  let guarded: GuardedStore;
  let health: BreakerState[];

  beforeAll(async () => {
    server = await startRedisServer(await freePort());
  });
  afterAll(() => server.stop());

  beforeEach(async () => {
    store = new RedisStore({ redis: { port: server.port } });
    health = [];
    guarded = new GuardedStore(store, new SystemClock(0), { timeoutMs: TIMEOUT_MS, failures: 1, probeAfterMs: 60_000 }, (state) => health.push(state));
    expect((await guarded.decide([{ policy, key: 'warm', cost: 1 }])).outcomes[0].admits).toBe(true);
  });
  afterEach(() => guarded.close());

  /** `n` decisions in one tick (one script call), written before the stall. */
  const decideThenStall = async (n: number) => {
    const calls = Array.from({ length: n }, (_, i) => guarded.decide([{ policy, key: `k${i}`, cost: 1 }]));
    // The batcher writes on process.nextTick: this later tick comes after it.
    await new Promise((resolve) => process.nextTick(resolve));
    stall(3 * TIMEOUT_MS);
    return Promise.allSettled(calls);
  };

  it.each([1, 8])('%i decision(s) in flight: each answered by Redis, none timed out, the breaker still closed', async (n) => {
    const results = await decideThenStall(n);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.outcomes[0].admits : (r.reason as Error).message))).toEqual(Array(n).fill(true));
    expect(health).toEqual([]);
  });
});
