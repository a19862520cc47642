import fc from 'fast-check';
import { FakeClock, LimiterStoreError } from '../../lib';
import { LimiterEvents } from '../../lib/engine/limiter-events';
import { toGcraPolicy } from '../../lib/core/policy';
import { summarize, type StoreErrorPolicy } from '../../lib/core/decision';
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

describe('LimiterEngine.decideOneNow (the guard short path: the outcome alone)', () => {
  const policies = [
    toGcraPolicy({ id: 'b', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 3 }),
    toGcraPolicy({ id: 'b', shape: 'leaky-bucket', mode: 'reject', rate: 4, capacity: 2 }),
  ];
  const waiting = toGcraPolicy({ id: 'b', shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 5, maxWaitMs: 10_000 });
  const CONTEXT = { where: 'C.m', onStoreError: 'open' } as const;

  it('decides, reports and floors exactly as decideNow, observed or not, while slots are held and after the store loses them', async () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('decide' as const), shape: fc.integer({ min: 0, max: 1 }), key: fc.constantFrom('k', 'l'), cost: fc.integer({ min: 1, max: 3 }), gapMs: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ op: fc.constant('hold' as const), key: fc.constantFrom('k', 'l') }),
      fc.record({ op: fc.constant('lose' as const), key: fc.constantFrom('k', 'l') }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const clock = new FakeClock(1_000);
        // `lean` has nobody observing decisions: while it holds no slot, the store answers the outcome alone.
        const [full, short, lean] = [true, true, false].map((observed) => {
          const store = new MemoryStore({ clock });
          const events = new LimiterEvents();
          const seen: unknown[] = [];
          if (observed) events.on('decision', (e) => seen.push(e));
          return { store, engine: new LimiterEngine(store, clock, undefined, events), seen };
        });
        for (const s of steps) {
          if (s.op === 'decide') {
            await clock.advance(s.gapMs);
            const e: StoreEntry = { policy: policies[s.shape], key: s.key, cost: s.cost };
            const expected = full.engine.decideNow([e], CONTEXT).decision;
            const outcome = short.engine.decideOneNow(e.policy, e.key, e.cost, CONTEXT);
            expect(summarize([e.policy], [outcome])).toEqual(expected);
            expect(lean.engine.decideOneNow(e.policy, e.key, e.cost, CONTEXT)).toEqual(outcome);
          } else if (s.op === 'hold') {
            // Held until the fake clock passes its slot, on every engine alike: meanwhile its floor applies.
            for (const { engine } of [full, short, lean]) {
              const reservation = engine.decideNow([{ policy: waiting, key: s.key, cost: 1 }]);
              if (reservation.decision.allowed) void engine.hold(reservation).catch(() => undefined);
            }
          } else {
            for (const { store } of [full, short, lean]) await store.reset('b', s.key);
          }
        }
        expect(short.seen).toEqual(full.seen);
        expect(short.seen.length).toBe(steps.filter((s) => s.op === 'decide').length);
      }),
    );
  });
});
