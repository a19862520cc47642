import fc from 'fast-check';
import { FakeClock } from '../../../lib/core/fake-clock';
import { toGcraPolicy } from '../../../lib/core/policy';
import { MemoryStore } from '../../../lib/stores/memory/memory.store';

// The guard's short path asks the memory store for one outcome alone (decideOneNow); every other
// caller asks for a verdict (decideNow). Two stores fed the same requests must answer and keep alike.
const policies = [
  toGcraPolicy({ id: 'tb', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 3 }),
  toGcraPolicy({ id: 'lb', shape: 'leaky-bucket', mode: 'reject', rate: 4, capacity: 2 }),
  toGcraPolicy({ id: 'blk', shape: 'token-bucket', mode: 'reject', rate: 5, capacity: 2, blockMs: 700 }),
  toGcraPolicy({ id: 'w', shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 5, maxWaitMs: 1_000 }),
];

describe('MemoryStore.decideOneNow (the outcome alone) and chargeHeldNow (an admitted charge alone)', () => {
  it('answers as decideNow of the one entry, and leaves the same state, blocks and evictions included', () => {
    let chargedRuns = 0;
    const request = fc.record({
      policy: fc.integer({ min: 0, max: policies.length - 1 }),
      key: fc.constantFrom('a', 'b', 'c', 'd'),
      cost: fc.integer({ min: 0, max: 3 }),
      // Mostly back to back, so that limits are reached and blocks set.
      gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 500 })),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(request, { minLength: 1, maxLength: 60 }), (maxKeys, requests) => {
        const clock = new FakeClock(1_000);
        const evicted: [string, string][] = [];
        const onEvict = (e: { policyId: string; key: string }) => evicted.push([e.policyId, e.key]);
        const [full, alone, charging] = [0, 1, 2].map(() => ({ store: new MemoryStore({ clock, maxKeys, onEvict }), evicted: [] as string[] }));
        let charged = 0;
        for (const r of requests) {
          void clock.advance(r.gapMs);
          const policy = policies[r.policy];
          const before = evicted.length;
          const expected = full.store.decideNow([{ policy, key: r.key, cost: r.cost }]).outcomes[0];
          full.evicted.push(...evicted.splice(before).map((e) => e.join('/')));
          expect(alone.store.decideOneNow(policy, r.key, r.cost)).toEqual(expected);
          alone.evicted.push(...evicted.splice(before).map((e) => e.join('/')));
          expect(alone.store.size).toBe(full.store.size);
          // The guard's short path: chargeHeldNow, and decideOneNow when it does not answer.
          const resetMs = charging.store.chargeHeldNow(policy, r.key, r.cost);
          if (Number.isNaN(resetMs)) expect(charging.store.decideOneNow(policy, r.key, r.cost)).toEqual(expected);
          else {
            charged++;
            expect({ admits: true, resetMs }).toEqual({ admits: expected.admits, resetMs: expected.resetMs });
          }
          charging.evicted.push(...evicted.splice(before).map((e) => e.join('/')));
          expect(charging.store.size).toBe(full.store.size);
        }
        expect(alone.evicted).toEqual(full.evicted);
        expect(charging.evicted).toEqual(full.evicted);
        for (const policy of policies) {
          for (const key of ['a', 'b', 'c', 'd']) {
            const state = full.store.decideNow([{ policy, key, cost: 0 }]);
            expect(alone.store.decideNow([{ policy, key, cost: 0 }])).toEqual(state);
            expect(charging.store.decideNow([{ policy, key, cost: 0 }])).toEqual(state);
          }
        }
        chargedRuns += charged > 0 ? 1 : 0;
      }),
    );
    // A fifth of the runs or so (18-28 of 100) charge a held key on the short path (new keys, refusals and blocking policies do not): the comparison must be made.
    expect(chargedRuns).toBeGreaterThan(5);
  });
});
