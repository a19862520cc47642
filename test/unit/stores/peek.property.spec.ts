import fc from 'fast-check';
import { FakeClock } from '../../../lib/core/fake-clock';
import { toGcraPolicy, type GcraPolicy } from '../../../lib/core/policy';
import { LimiterEngine } from '../../../lib/engine/limiter-engine';
import type { StoreEntry } from '../../../lib/stores/limiter-store';
import { MemoryStore } from '../../../lib/stores/memory/memory.store';

/**
 * Issue 15: `peek(cost)` answers "would a request of this cost be admitted now", exactly as the
 * `consume` that follows it on the same state at the same instant decides it, in every case:
 * both shapes, both modes, any rate, any cost (within capacity, just over, never admissible),
 * after any history, over one or several policies at once.
 */

/** A policy as drawn: rates that make T whole, and rates whose T is not exact in binary. */
const policyArb = (id: string): fc.Arbitrary<GcraPolicy> =>
  fc
    .record({
      shape: fc.constantFrom('token-bucket' as const, 'leaky-bucket' as const),
      mode: fc.constantFrom('reject' as const, 'wait' as const),
      rate: fc.oneof(
        fc.integer({ min: 1, max: 50 }).map((T) => 1000 / T),
        fc.constantFrom(3, 7, 0.5, 1000 / 3, 0.01),
      ),
      capacity: fc.integer({ min: 1, max: 8 }),
      waitFactor: fc.option(fc.double({ min: 0, max: 3, noNaN: true }), { nil: undefined }),
    })
    .map(({ shape, mode, rate, capacity, waitFactor }) => {
      const tauMs = (capacity * 1000) / rate;
      const maxWaitMs = mode === 'wait' && waitFactor !== undefined ? waitFactor * tauMs : undefined;
      return toGcraPolicy({ id, shape, mode, rate, capacity, maxWaitMs });
    });

/** One step: time passes (whole ms, a fraction of a ms, or nothing), then a request over some policies. */
interface Step {
  readonly gapMs: number;
  /** Per policy index: whether this request is under it, and at what cost and key. */
  readonly parts: readonly { readonly policy: number; readonly key: 'a' | 'b'; readonly costPick: number }[];
}

const stepArb = (policies: number): fc.Arbitrary<Step> =>
  fc.record({
    gapMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 500 }) }, { weight: 1, arbitrary: fc.double({ min: 0, max: 50, noNaN: true }) }),
    parts: fc.uniqueArray(fc.record({ policy: fc.nat(policies - 1), key: fc.constantFrom('a' as const, 'b' as const), costPick: fc.nat(99) }), {
      minLength: 1,
      maxLength: policies,
      selector: (p) => p.policy,
    }),
  });

/** Mostly cost 1, often up to the capacity, sometimes one over, now and then far beyond. */
function costOf(policy: GcraPolicy, pick: number): number {
  if (pick < 50) return 1;
  if (pick < 85) return 1 + (pick % policy.capacity);
  if (pick < 95) return policy.capacity + 1;
  return policy.capacity * 10 + 3;
}

describe('MemoryStore: peek(cost) answers what consume(cost) then decides', () => {
  it('on the same state at the same instant: the same `allowed` and `retryAfterMs`, overall and per policy', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }).chain((ids) =>
          fc.tuple(
            fc.tuple(...ids.map((_, i) => policyArb(`p${i}`))),
            fc.integer({ min: 0, max: 2 ** 31 }),
            fc.array(stepArb(ids.length), { minLength: 1, maxLength: 60 }),
          ),
        ),
        async ([policies, start, steps]) => {
          const clock = new FakeClock(start);
          const engine = new LimiterEngine(new MemoryStore({ clock }), clock);
          for (const step of steps) {
            await clock.advance(step.gapMs);
            const entries: StoreEntry[] = step.parts.map((p) => ({ policy: policies[p.policy], key: p.key, cost: costOf(policies[p.policy], p.costPick) }));
            const peeked = await engine.peek(entries);
            const consumed = engine.decideNow(entries).decision;
            expect({ allowed: peeked.allowed, retryAfterMs: peeked.retryAfterMs }).toEqual({ allowed: consumed.allowed, retryAfterMs: consumed.retryAfterMs });
            expect(peeked.policies.map((p) => [p.allowed, p.retryAfterMs])).toEqual(consumed.policies.map((p) => [p.allowed, p.retryAfterMs]));
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses with peek exactly where consume refuses: a bucket with room for 1 but not for 3', async () => {
    const clock = new FakeClock(1000);
    const engine = new LimiterEngine(new MemoryStore({ clock }), clock);
    const policy = toGcraPolicy({ id: 'p', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 5 });
    engine.decideNow([{ policy, key: 'a', cost: 3 }]);
    expect(await engine.peek([{ policy, key: 'a', cost: 1 }])).toMatchObject({ allowed: true, remaining: 2 });
    expect(await engine.peek([{ policy, key: 'a', cost: 3 }])).toMatchObject({ allowed: false, retryAfterMs: 1000, remaining: 2 });
    expect(engine.decideNow([{ policy, key: 'a', cost: 3 }]).decision).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    expect(engine.decideNow([{ policy, key: 'a', cost: 2 }]).decision).toMatchObject({ allowed: true, remaining: 0 });
  });
});
