import fc from 'fast-check';
import { summarize } from '../../../lib/core/decision';
import { decideAll } from '../../../lib/core/gcra';
import { toGcraPolicy } from '../../../lib/core/policy';
import { LastRateLimitValue, rateLimitHeaders, sfLabels } from '../../../lib/transports/rate-limit-headers';

describe('LastRateLimitValue (the RateLimit value of a one-policy route, reused while r and t stay the same)', () => {
  it('writes exactly what the value made afresh says, over any run of decisions, admitted, refused or never passing', () => {
    const shape = fc.constantFrom('token-bucket' as const, 'leaky-bucket' as const);
    const step = fc.record({ gapMs: fc.integer({ min: 0, max: 3_000 }), cost: fc.integer({ min: 1, max: 7 }) });
    fc.assert(
      fc.property(shape, fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 6 }), fc.array(step, { minLength: 1, maxLength: 60 }), (s, rate, capacity, steps) => {
        const policy = toGcraPolicy({ id: 'p', shape: s, mode: 'reject', rate, capacity });
        const labels = sfLabels(['route']);
        const last = new LastRateLimitValue(labels[0]);
        // The guard's short path: an admitted request's value from how far ahead it left the state, with no Decision made.
        const fromOutcome = new LastRateLimitValue(labels[0]);
        let tat: number | undefined;
        let now = 0;
        for (const { gapMs, cost } of steps) {
          now += gapMs;
          const [outcome] = decideAll([tat], now, [policy], [cost]);
          if (outcome.admits) tat = outcome.tat;
          const decision = summarize([policy], [outcome]);
          expect(rateLimitHeaders(decision, labels, undefined, last)).toEqual(rateLimitHeaders(decision, labels));
          if (outcome.admits) expect(fromOutcome.ofCharged(outcome.resetMs, policy)).toBe(rateLimitHeaders(decision, labels).RateLimit);
        }
      }),
    );
  });

  it('keeps the value while r and t do not change, and makes a new one when either does', () => {
    const policy = toGcraPolicy({ id: 'p', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 10 });
    const last = new LastRateLimitValue('"p"');
    const fresh = summarize([policy], decideAll([undefined], 0, [policy], [1]));
    const again = summarize([policy], decideAll([undefined], 5_000, [policy], [1]));
    const lower = summarize([policy], decideAll([fresh.policies[0].resetMs], 0, [policy], [1]));
    expect(last.of(again.policies[0])).toBe('"p";r=9;t=1');
    expect(last.of(fresh.policies[0])).toBe(last.of(again.policies[0]));
    expect(last.of(lower.policies[0])).toBe('"p";r=8;t=1');
  });
});
