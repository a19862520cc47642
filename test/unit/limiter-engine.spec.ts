import { FakeClock, LimiterStoreError } from '../../lib';
import { toGcraPolicy } from '../../lib/core/policy';
import type { StoreErrorPolicy } from '../../lib/core/decision';
import { LimiterEngine } from '../../lib/engine/limiter-engine';
import type { StoreEntry } from '../../lib/stores/limiter-store';
import { MemoryStore } from '../../lib/stores/memory/memory.store';

// rate 10/s, capacity 20: T = 100 ms; with 2 instances the local fallback holds rate 5/s, capacity 10 (T = 200 ms).
const tokens = toGcraPolicy({ id: 'tokens', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 20 });
const entry = (cost: number): StoreEntry => ({ policy: tokens, key: 'k', cost });
const LOCAL = { where: 'test', onStoreError: 'local' } as const;

/** A store that is down: every call fails as a guarded store's does. */
class DownStore extends MemoryStore {
  async decide(): Promise<never> {
    throw new LimiterStoreError('LIMITER_STORE_UNAVAILABLE', 'down');
  }
}

describe('LimiterEngine.settle', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock(1_000);
  });

  const remaining = async (store: MemoryStore, e = entry(1)) => (await store.peek([e])).outcomes[0].remaining;

  it('refunds and charges the difference between actual and charged costs on the store that decided', async () => {
    const store = new MemoryStore({ clock });
    const engine = new LimiterEngine(store, clock);
    await engine.settle(await engine.decide([entry(5)]), [2]);
    expect(await remaining(store)).toBe(18);
    await engine.settle(await engine.decide([entry(1)]), [5]);
    expect(await remaining(store)).toBe(13);
  });

  it('does nothing when every actual cost equals its charge, or the request was refused', async () => {
    const store = new MemoryStore({ clock });
    const settle = jest.spyOn(store, 'settle');
    const engine = new LimiterEngine(store, clock);
    await engine.settle(await engine.decide([entry(5)]), [5]);
    const refused = await engine.decide([entry(21)]);
    expect(refused.decision.allowed).toBe(false);
    await engine.settle(refused, [1]);
    expect(settle).not.toHaveBeenCalled();
  });

  it.each<StoreErrorPolicy>(['open', 'closed'])('does nothing for a decision the failure policy %s made (nothing was charged)', async (onStoreError) => {
    const store = new DownStore({ clock });
    const settle = jest.spyOn(store, 'settle');
    const engine = new LimiterEngine(store, clock, { instances: 1 });
    const verdict = await engine.decide([entry(5)], { where: 'test', onStoreError });
    expect(verdict.decision.source).toBe(onStoreError);
    await engine.settle(verdict, [1]);
    expect(settle).not.toHaveBeenCalled();
  });

  it('swallows a store that fails to settle: the request has already run', async () => {
    const store = new MemoryStore({ clock });
    jest.spyOn(store, 'settle').mockRejectedValue(new LimiterStoreError('LIMITER_STORE_TIMEOUT', 'hung'));
    const engine = new LimiterEngine(store, clock);
    await expect(engine.settle(await engine.decide([entry(5)]), [1])).resolves.toBeUndefined();
  });

  it('settles a local fallback decision in the units of the local share it was charged', async () => {
    const engine = new LimiterEngine(new DownStore({ clock }), clock, { instances: 2 });
    const verdict = await engine.decide([entry(5)], LOCAL);
    expect(verdict.decision).toMatchObject({ source: 'local', remaining: 5 });
    await engine.settle(verdict, [1]);
    // 4 units of 200 ms came back: 9 left, so 9 pass and a 10th does not
    expect((await engine.decide([entry(9)], LOCAL)).decision).toMatchObject({ allowed: true, remaining: 0 });
  });
});

describe('LimiterEngine.release', () => {
  it('gives a local fallback slot back in the units of the local share it was charged', async () => {
    const clock = new FakeClock(1_000);
    const engine = new LimiterEngine(new DownStore({ clock }), clock, { instances: 2 });
    await engine.release(await engine.decide([entry(5)], LOCAL));
    expect((await engine.decide([entry(10)], LOCAL)).decision).toMatchObject({ allowed: true, remaining: 0 });
  });
});
