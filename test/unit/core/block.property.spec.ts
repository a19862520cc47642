import fc from 'fast-check';
import { decideAll, EPSILON_MS } from '../../../lib/core/gcra';
import { toGcraPolicy, type GcraPolicy, type Mode, type Shape } from '../../../lib/core/policy';

/** One request of `cost` at `now` against one policy, the state carried by `tat` (as a store keeps it). */
function request(tat: number | undefined, now: number, policy: GcraPolicy, cost: number) {
  return decideAll([tat], now, [policy], [cost])[0];
}

const policyArb = fc
  .record({
    shape: fc.constantFrom<Shape>('token-bucket', 'leaky-bucket'),
    mode: fc.constantFrom<Mode>('reject', 'wait'),
    rate: fc.double({ min: 0.01, max: 1000, noNaN: true }),
    capacity: fc.integer({ min: 1, max: 20 }),
    waitShare: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
    blockUnits: fc.double({ min: 1.01, max: 500, noNaN: true }),
  })
  .map(({ shape, mode, rate, capacity, waitShare, blockUnits }) => {
    const emissionMs = 1000 / rate;
    const maxWaitMs = mode === 'wait' && waitShare !== undefined ? waitShare * capacity * emissionMs : undefined;
    return toGcraPolicy({ id: 'p', shape, mode, rate, capacity, maxWaitMs, blockMs: blockUnits * emissionMs });
  });

describe('blockMs (issue 17)', () => {
  it('a key that exceeds is refused for exactly blockMs from that refusal, whatever is tried meanwhile, then admitted as usual', () => {
    fc.assert(
      fc.property(policyArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), fc.integer({ min: 1, max: 3 }), (policy, tries, cost) => {
        // Fill the bucket at t = 0 until the first refusal (it comes: nothing drains while time stands still).
        let tat: number | undefined;
        let first = request(tat, 0, policy, 1);
        for (let n = 0; first.admits; n++) {
          if (n > 10_000) throw new Error('never refused');
          tat = first.tat;
          first = request(tat, 0, policy, 1);
        }
        expect(first).toMatchObject({ admits: false, blocked: true });
        expect(first.retryAfterMs).toBeCloseTo(policy.blockMs, 6);
        tat = first.tat;
        // Anything tried during the block, of any cost, is refused (not blocked again) and does not move the block;
        // in its last 1/rate the state is that of any drained bucket, so a refusal there is a new excess (not tried here).
        for (const share of tries) {
          const at = share * Math.max(0, policy.blockMs - policy.emissionMs - 1e-3);
          const during = request(tat, at, policy, cost);
          expect(during.admits).toBe(false);
          expect(during.blocked).toBeUndefined();
          expect(during.tat).toBe(tat);
          if (cost === 1) expect(during.retryAfterMs).toBeCloseTo(policy.blockMs - at, 6);
        }
        // Not a millisecond less...
        expect(request(tat, policy.blockMs - 1e-3, policy, 1).admits).toBe(false);
        // ...nor a refill step more: one unit passes exactly when the block ends, and the key is decided as usual.
        const after = request(tat, policy.blockMs + EPSILON_MS / 2, policy, 1);
        expect(after.admits).toBe(true);
        expect(after.blocked).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('a cost that could never pass is refused without a block, and without blockMs nothing is ever blocked', () => {
    const blocking = toGcraPolicy({ id: 'b', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 5, blockMs: 60_000 });
    const never = request(undefined, 0, blocking, 6);
    expect(never).toMatchObject({ admits: false, retryAfterMs: Infinity });
    expect(never.blocked).toBeUndefined();
    const plain = toGcraPolicy({ id: 'p', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 1 });
    const refused = request(request(undefined, 0, plain, 1).tat, 0, plain, 1);
    expect(refused).toMatchObject({ admits: false, retryAfterMs: 1000 });
    expect(refused.blocked).toBeUndefined();
  });

  it('in a request over several policies, only the one that refused blocks, and nothing is charged', () => {
    const loose = toGcraPolicy({ id: 'loose', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 100 });
    const tight = toGcraPolicy({ id: 'tight', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 1, blockMs: 10_000 });
    const first = decideAll([undefined, undefined], 0, [loose, tight], [1, 1]);
    const second = decideAll(
      first.map((o) => o.tat),
      0,
      [loose, tight],
      [1, 1],
    );
    expect(second.map((o) => o.admits)).toEqual([true, false]);
    expect(second[0].tat).toBe(first[0].tat);
    expect(second[1]).toMatchObject({ blocked: true, retryAfterMs: 10_000 });
  });
});
