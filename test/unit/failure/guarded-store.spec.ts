import { FakeClock, LimiterStoreError } from '../../../lib';
import { LimiterConfigError } from '../../../lib/errors/limiter-config.error';
import { toGcraPolicy } from '../../../lib/core/policy';
import type { BreakerState } from '../../../lib/failure/circuit-breaker';
import { GuardedStore } from '../../../lib/failure/guarded-store';
import { MemoryStore } from '../../../lib/stores/memory/memory.store';
import { SwitchableStore } from '../../support/switchable-store';
import type { StoreEntry, StoreVerdict } from '../../../lib';

const entries = [{ policy: toGcraPolicy({ id: 'p', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 5 }), key: 'k', cost: 1 }];

describe.each(['promise', 'call'] as const)('GuardedStore: a deadline and a circuit breaker around a store that answers a decision through its %s', (answers) => {
  let clock: FakeClock;
  let inner: SwitchableStore;
  let health: BreakerState[];
  let store: GuardedStore;

  beforeEach(() => {
    clock = new FakeClock();
    inner = new SwitchableStore(new MemoryStore({ clock }), answers);
    health = [];
    store = new GuardedStore(inner, clock, { timeoutMs: 100, failures: 3, probeAfterMs: 1000 }, (state) => health.push(state));
  });

  it('passes decisions through while the store is healthy', async () => {
    expect((await store.decide(entries)).outcomes[0].admits).toBe(true);
    expect(health).toEqual([]);
  });

  it('turns a store error into a LimiterStoreError (LIMITER_STORE_UNAVAILABLE) carrying the cause', async () => {
    inner.mode = 'failing';
    await expect(store.decide(entries)).rejects.toMatchObject({ code: 'LIMITER_STORE_UNAVAILABLE', cause: expect.objectContaining({ message: 'ECONNREFUSED' }) });
  });

  it('answers a hung store after exactly timeoutMs with LIMITER_STORE_TIMEOUT', async () => {
    inner.mode = 'hung';
    const call = store.decide(entries);
    call.catch(() => undefined);
    await clock.advance(99);
    let settled = false;
    void call.catch(() => (settled = true));
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(call).rejects.toBeInstanceOf(LimiterStoreError);
    await expect(call).rejects.toMatchObject({ code: 'LIMITER_STORE_TIMEOUT' });
  });

  it('opens after 3 failures in a row and stops calling the store', async () => {
    inner.mode = 'failing';
    for (let i = 0; i < 3; i++) await store.decide(entries).catch(() => undefined);
    expect(health).toEqual(['open']);
    const before = inner.calls;
    await expect(store.decide(entries)).rejects.toMatchObject({ code: 'LIMITER_STORE_CIRCUIT_OPEN' });
    expect(inner.calls).toBe(before);
  });

  it('probes once after probeAfterMs: a failed probe reopens, a good one closes', async () => {
    inner.mode = 'failing';
    for (let i = 0; i < 3; i++) await store.decide(entries).catch(() => undefined);
    await clock.advance(1000);
    await store.decide(entries).catch(() => undefined);
    expect(health).toEqual(['open', 'half-open', 'open']);
    inner.mode = 'healthy';
    await expect(store.decide(entries)).rejects.toMatchObject({ code: 'LIMITER_STORE_CIRCUIT_OPEN' });
    await clock.advance(1000);
    expect((await store.decide(entries)).outcomes[0].admits).toBe(true);
    expect(health).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('lets only one probe through while half-open', async () => {
    inner.mode = 'failing';
    for (let i = 0; i < 3; i++) await store.decide(entries).catch(() => undefined);
    await clock.advance(1000);
    inner.mode = 'hung';
    const probe = store.decide(entries);
    probe.catch(() => undefined);
    const calls = inner.calls;
    await expect(store.decide(entries)).rejects.toMatchObject({ code: 'LIMITER_STORE_CIRCUIT_OPEN' });
    expect(inner.calls).toBe(calls);
    await clock.advance(100);
    await expect(probe).rejects.toMatchObject({ code: 'LIMITER_STORE_TIMEOUT' });
  });

  it('guards settle like every call: a hung settle times out, and an open breaker does not call the store', async () => {
    const settle = jest.spyOn(inner, 'settle').mockReturnValue(new Promise(() => undefined));
    const call = store.settle(entries, [1000], [-1]);
    call.catch(() => undefined);
    await clock.advance(100);
    await expect(call).rejects.toMatchObject({ code: 'LIMITER_STORE_TIMEOUT' });
    expect(settle).toHaveBeenCalledWith(entries, [1000], [-1]);
    inner.mode = 'failing';
    for (let i = 0; i < 2; i++) await store.decide(entries).catch(() => undefined);
    await expect(store.settle(entries, [1000], [-1])).rejects.toMatchObject({ code: 'LIMITER_STORE_CIRCUIT_OPEN' });
    expect(settle).toHaveBeenCalledTimes(1);
  });

  it('a success resets the count: failures must be in a row to open', async () => {
    for (const mode of ['failing', 'failing', 'healthy', 'failing', 'failing'] as const) {
      inner.mode = mode;
      await store.decide(entries).catch(() => undefined);
    }
    expect(health).toEqual([]);
  });

  it('probes at once when the store says it is reachable again, without waiting for the next probe', async () => {
    inner.mode = 'failing';
    for (let i = 0; i < 3; i++) await store.decide(entries).catch(() => undefined);
    inner.mode = 'healthy';
    inner.reachable();
    expect((await store.decide(entries)).outcomes[0].admits).toBe(true);
    expect(health).toEqual(['open', 'half-open', 'closed']);
  });
  it('calls started in one tick share one deadline timer, and all of them still unanswered time out together', async () => {
    inner.mode = 'hung';
    const calls = Array.from({ length: 5 }, () => store.decide(entries));
    calls.forEach((c) => c.catch(() => undefined));
    expect(clock.pending).toBe(1);
    await clock.advance(100);
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status === 'rejected' && (r.reason as LimiterStoreError).code)).toEqual(Array(5).fill('LIMITER_STORE_TIMEOUT'));
  });

  it('keeps one timer for the deadlines of every tick, and stops it once no call is left unanswered', async () => {
    for (let tick = 0; tick < 10; tick++) {
      await Promise.all(Array.from({ length: 5 }, () => store.decide(entries)));
      await clock.advance(5);
    }
    expect(clock.pending).toBe(1);
    await clock.advance(100);
    expect(clock.pending).toBe(0);
  });

  it("fails each tick's unanswered calls at that tick's own deadline, not the oldest one's", async () => {
    inner.mode = 'hung';
    const first = store.decide(entries).catch((e: LimiterStoreError) => e.code);
    await clock.advance(60);
    let secondSettled = false;
    const second = store.decide(entries).catch((e: LimiterStoreError) => e.code).finally(() => (secondSettled = true));
    await clock.advance(40);
    expect(await first).toBe('LIMITER_STORE_TIMEOUT');
    expect(secondSettled).toBe(false);
    await clock.advance(59);
    expect(secondSettled).toBe(false);
    await clock.advance(1);
    expect(await second).toBe('LIMITER_STORE_TIMEOUT');
    expect(clock.pending).toBe(0);
  });

  it('counts a tick of failed calls as one failure: three failed batches open the breaker, not one', async () => {
    for (const mode of ['failing', 'hung', 'failing'] as const) {
      inner.mode = mode;
      const calls = Array.from({ length: 5 }, () => store.decide(entries).catch((e: LimiterStoreError) => e.code));
      await clock.advance(100);
      expect(new Set(await Promise.all(calls)).size).toBe(1);
      expect(health).toEqual(mode === 'failing' && inner.calls > 10 ? ['open'] : []);
    }
    expect(inner.calls).toBe(15);
  });

  it('passes a LimiterConfigError through untouched and does not count it as an outage', async () => {
    const misuse = new LimiterConfigError('RedisStore on Redis Cluster', 'key', 'the same for every policy of one request', ['a', 'b']);
    jest.spyOn(inner, 'decide').mockRejectedValue(misuse);
    for (let i = 0; i < 5; i++) await expect(store.decide(entries)).rejects.toBe(misuse);
    expect(health).toEqual([]);
  });

  describe('a store whose parts fail apart (Redis Cluster: a breaker per master)', () => {
    /** Keys `a…` live on node a, `b…` on node b; `down` lists the nodes that fail; `routed` the nodes the store routes to now. */
    class PartedStore extends SwitchableStore {
      down = new Set<string>();
      routed = ['a', 'b'];
      failureDomain = (key: string): string => key[0];
      failureDomains = (): readonly string[] => this.routed;
      decide(list: readonly StoreEntry[]): Promise<StoreVerdict> {
        this.mode = this.down.has(list[0].key[0]) ? 'failing' : 'healthy';
        return super.decide(list);
      }
    }
    const on = (key: string) => [{ ...entries[0], key }];
    let parted: PartedStore;
    let changes: string[];

    beforeEach(() => {
      parted = new PartedStore(new MemoryStore({ clock }), answers);
      changes = [];
      store = new GuardedStore(parted, clock, { timeoutMs: 100, failures: 3, probeAfterMs: 1000 }, (state, _error, domain, overall) => changes.push(`${domain} ${state}, store ${overall}`));
    });

    it("opens only the dead part's breaker: keys on the other part keep deciding on the store", async () => {
      parted.down.add('a');
      for (let i = 0; i < 3; i++) {
        await store.decide(on('a1')).catch(() => undefined);
        expect((await store.decide(on('b1'))).outcomes[0].admits).toBe(true);
      }
      expect(changes).toEqual(['a open, store half-open']);
      await expect(store.decide(on('a2'))).rejects.toMatchObject({ code: 'LIMITER_STORE_CIRCUIT_OPEN' });
      expect((await store.decide(on('b2'))).outcomes[0].admits).toBe(true);
    });

    it('counts a hung tick once per part it reached', async () => {
      parted.down.add('a');
      parted.down.add('b');
      for (let i = 0; i < 3; i++) await Promise.all([store.decide(on('a1')), store.decide(on('b1'))].map((c) => c.catch(() => undefined)));
      expect(changes).toEqual(['a open, store half-open', 'b open, store open']);
    });

    it("retires a dead part once its keys are routed to another (a failover), and says it is closed", async () => {
      parted.down.add('a');
      for (let i = 0; i < 3; i++) await store.decide(on('a1')).catch(() => undefined);
      parted.routed = ['c', 'b'];
      parted.failureDomain = (key) => (key[0] === 'a' ? 'c' : key[0]);
      parted.down.clear();
      expect((await store.decide(on('a1'))).outcomes[0].admits).toBe(true);
      expect(changes).toEqual(['a open, store open', 'a closed, store closed']);
    });
  });
});

describe('GuardedStore around a store that answers a decision at once through decideInto (RedisStore: a refusal it remembers)', () => {
  let clock: FakeClock;
  let memory: MemoryStore;
  let inner: SwitchableStore;
  let health: BreakerState[];
  let store: GuardedStore;
  /** What RedisStore does with a refusal it remembers: the answer, given before decideInto returns. */
  const atOnce: NonNullable<SwitchableStore['decideInto']> = (list, call) => call.resolve(memory.decideNow(list));

  beforeEach(() => {
    clock = new FakeClock();
    memory = new MemoryStore({ clock });
    inner = new SwitchableStore(memory, 'call');
    health = [];
    store = new GuardedStore(inner, clock, { timeoutMs: 100, failures: 3, probeAfterMs: 1000 }, (state) => health.push(state));
  });

  it('passes the answer on with no deadline to watch; a call that throws fails alone, counted as one failure each', async () => {
    inner.decideInto = atOnce;
    expect((await store.decide(entries)).outcomes[0].admits).toBe(true);
    expect(clock.pending).toBe(0);
    inner.decideInto = () => {
      throw new Error('ECONNRESET');
    };
    const calls = Array.from({ length: 3 }, () => store.decide(entries).catch((e: LimiterStoreError) => e.code));
    expect(await Promise.all(calls)).toEqual(Array(3).fill('LIMITER_STORE_UNAVAILABLE'));
    expect(health).toEqual(['open']);
    expect(clock.pending).toBe(0);
  });

  it('a probe it answers at once proves nothing of the store: the breaker stays half-open, and the next call probes the store', async () => {
    const reaching = inner.decideInto!;
    inner.mode = 'failing';
    for (let i = 0; i < 3; i++) await store.decide(entries).catch(() => undefined);
    await clock.advance(1000);
    inner.decideInto = atOnce;
    expect((await store.decide(entries)).outcomes[0].admits).toBe(true);
    expect(health).toEqual(['open', 'half-open']);
    inner.decideInto = reaching;
    const before = inner.calls;
    await expect(store.decide(entries)).rejects.toMatchObject({ code: 'LIMITER_STORE_UNAVAILABLE' });
    expect(inner.calls).toBe(before + 1);
    expect(health).toEqual(['open', 'half-open', 'open']);
  });
});
