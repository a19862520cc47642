import { LimiterEvents, type DecisionEvent } from '../../lib';
import { SystemClock } from '../../lib/core/system-clock';
import { toGcraPolicy } from '../../lib/core/policy';
import type { StoreErrorPolicy } from '../../lib/core/decision';
import { GuardedStore } from '../../lib/failure/guarded-store';
import { LimiterEngine } from '../../lib/engine/limiter-engine';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { freePort, startRedisServer, waitFor, type RedisServer } from '../support/redis-servers';

const CAPACITY = 10;
const policy = toGcraPolicy({ id: 'batch', shape: 'token-bucket', mode: 'reject', rate: 1 / 64, capacity: CAPACITY });
const IN_FLIGHT = 256;

/**
 * One batch of 256 decisions in flight (written to Redis, which is stopped so it cannot answer)
 * when Redis is killed, or stays hung until the deadline: every decision must come back once,
 * decided by the failure policy, with no unhandled rejection, and the late reply of a hung Redis
 * that wakes up must not decide anything a second time.
 */
describe.each<StoreErrorPolicy>(['open', 'closed', 'local'])('a batch in flight when Redis fails (onStoreError: %s)', (onStoreError) => {
  let server: RedisServer;
  let store: RedisStore;
  let engine: LimiterEngine;
  let decisions: DecisionEvent[];
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(async () => {
    server = await startRedisServer(await freePort());
    store = new RedisStore({ redis: { port: server.port, retryStrategy: () => 20 } });
    decisions = [];
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    await store.close();
    await server.stop();
  });

  const boot = (timeoutMs: number) => {
    const events = new LimiterEvents();
    events.on('decision', (e) => decisions.push(e));
    const guarded = new GuardedStore(store, new SystemClock(0), { timeoutMs, failures: 3, probeAfterMs: 500 }, () => undefined);
    engine = new LimiterEngine(guarded, new SystemClock(), { instances: 1 }, events);
  };

  /** Decides IN_FLIGHT requests on distinct keys in one tick, after Redis has stopped reading: one batch, written and unanswered. */
  const batchInFlight = async () => {
    expect((await engine.decide([{ policy, key: 'warm', cost: 1 }], { where: 'warm-up', onStoreError })).decision.source).toBe('store');
    process.kill(server.pid, 'SIGSTOP');
    return Array.from({ length: IN_FLIGHT }, (_, i) => engine.decide([{ policy, key: i % 2 === 0 ? 'shared' : `key-${i}`, cost: 1 }], { where: `call-${i}`, onStoreError }));
  };

  const expectPolicyDecisions = (verdicts: Awaited<ReturnType<LimiterEngine['decide']>>[]) => {
    expect(verdicts.map((v) => v.decision.source)).toEqual(Array(IN_FLIGHT).fill(onStoreError));
    const allowed = verdicts.filter((v) => v.decision.allowed).length;
    // local: a bucket of its own in this process; 'shared' and each `key-i` start full.
    const expected = { open: IN_FLIGHT, closed: 0, local: IN_FLIGHT / 2 + Math.min(CAPACITY, IN_FLIGHT / 2) }[onStoreError];
    expect(allowed).toBe(expected);
    const calls = decisions.filter((d) => d.where.startsWith('call-')).map((d) => d.where);
    expect(calls.length).toBe(IN_FLIGHT);
    expect(new Set(calls).size).toBe(IN_FLIGHT);
    expect(unhandled).toEqual([]);
  };

  it('killed (SIGKILL) with the batch in flight: each request gets the policy’s decision, once', async () => {
    // A roomy deadline: the answer must come from the dead connection, not from the timer.
    boot(10_000);
    const calls = await batchInFlight();
    process.kill(server.pid, 'SIGKILL');
    expectPolicyDecisions(await Promise.all(calls));
    // Back before the store closes, so its client is not left reconnecting to nothing.
    await server.stop();
    server = await startRedisServer(server.port);
    await waitFor(async () => (await engine.decide([{ policy, key: 'after', cost: 1 }], { where: 'after', onStoreError })).decision.source === 'store', 'Redis to decide again', 10_000);
  });

  it('hung (SIGSTOP) with the batch in flight: each request gets the policy’s decision at the deadline, once, and the late reply decides nothing again', async () => {
    boot(200);
    const calls = await batchInFlight();
    try {
      expectPolicyDecisions(await Promise.all(calls));
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    // Redis wakes up and answers the batch it had read: no second decision, no unhandled rejection.
    await waitFor(async () => (await engine.decide([{ policy, key: 'after', cost: 1 }], { where: 'after', onStoreError })).decision.source === 'store', 'Redis to decide again', 10_000);
    expect(decisions.filter((d) => d.where.startsWith('call-')).length).toBe(IN_FLIGHT);
    expect(unhandled).toEqual([]);
  });
});
