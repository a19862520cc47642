import { toGcraPolicy } from '../../lib/core/policy';
import type { LimiterStoreError } from '../../lib/errors/limiter-store.error';
import { SystemClock } from '../../lib/core/system-clock';
import type { BreakerState } from '../../lib/failure/circuit-breaker';
import { GuardedStore } from '../../lib/failure/guarded-store';
import type { StoreVerdict } from '../../lib/stores/limiter-store';
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

  /** `n` decisions in one tick, the stall before the batcher writes them: Redis hears of them only after it. */
  const stallThenDecide = async (n: number) => {
    const calls = Array.from({ length: n }, (_, i) => guarded.decide([{ policy, key: `k${i}`, cost: 1 }]));
    stall(3 * TIMEOUT_MS);
    return Promise.allSettled(calls);
  };

  const admitted = (results: PromiseSettledResult<StoreVerdict>[]) => results.map((r) => (r.status === 'fulfilled' ? r.value.outcomes[0].admits : (r.reason as Error).message));

  it.each([1, 8])('%i decision(s) in flight: each answered by Redis, none timed out, the breaker still closed', async (n) => {
    expect(admitted(await decideThenStall(n))).toEqual(Array(n).fill(true));
    expect(health).toEqual([]);
  });

  it.each([1, 8])('%i decision(s) held up by the stall before they were written: each answered by Redis, none timed out', async (n) => {
    expect(admitted(await stallThenDecide(n))).toEqual(Array(n).fill(true));
    expect(health).toEqual([]);
  });

  it('a Redis that does not answer still fails the call, through two stalls of this process', async () => {
    process.kill(server.pid, 'SIGSTOP');
    try {
      const call = guarded.decide([{ policy, key: 'hung', cost: 1 }]).then(
        () => 'answered',
        (error: LimiterStoreError) => error.code,
      );
      await new Promise((resolve) => process.nextTick(resolve));
      stall(3 * TIMEOUT_MS);
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 2));
      stall(3 * TIMEOUT_MS);
      expect(await call).toBe('LIMITER_STORE_TIMEOUT');
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
  });
});
