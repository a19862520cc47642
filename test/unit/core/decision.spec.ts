import fc from 'fast-check';
import { summarize } from '../../../lib/core/decision';
import { decideAll } from '../../../lib/core/gcra';
import { Bucket, policy } from './bucket';

const perSecond = policy({ id: 'second', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 20 });
const perMinute = policy({ id: 'minute', shape: 'token-bucket', mode: 'reject', rate: 1 / 6, capacity: 5 });
const queue = policy({ id: 'queue', shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 20 });

describe('summarize', () => {
  it('gives the worked example of the Decision docs: the 6th request at once on rate 10/s, capacity 20', () => {
    const bucket = new Bucket(perSecond);
    bucket.burst(0, 5);
    const decision = summarize([perSecond], [bucket.hit(0)]);
    expect(decision).toMatchObject({ allowed: true, limit: 20, remaining: 14, retryAfterMs: 0, resetMs: 600, delayMs: 0 });
  });

  it('reports the policy with the fewest places left, the longest reset and every policy in order', () => {
    const policies = [perSecond, perMinute];
    const decision = summarize(policies, decideAll([undefined, undefined], 0, policies, [1, 1]));
    expect(decision).toMatchObject({ allowed: true, limit: 5, remaining: 4, resetMs: 6000 });
    expect(decision.policies.map((p) => [p.name, p.remaining, p.emissionMs])).toEqual([
      ['second', 19, 100],
      ['minute', 4, 6000],
    ]);
  });

  it('refuses when one policy refuses, with its retry-after and no delay for the one that would have queued', () => {
    const policies = [queue, perMinute];
    const decision = summarize(policies, decideAll([500, 30_000], 0, policies, [1, 1]));
    expect(decision).toMatchObject({ allowed: false, retryAfterMs: 6000, delayMs: 0 });
    expect(decision.policies.map((p) => p.allowed)).toEqual([true, false]);
  });

  it('summarizes one policy (its own short path) exactly as the general rule does: that policy is the tightest, the longest reset, the only delay', () => {
    const blocking = policy({ id: 'blocking', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 20, blockMs: 5_000 });
    const policies = [perSecond, perMinute, queue, blocking];
    fc.assert(
      fc.property(fc.constantFrom(...policies), fc.option(fc.double({ min: -10_000, max: 100_000, noNaN: true }), { nil: undefined }), fc.integer({ min: 1, max: 30 }), (p, tat, cost) => {
        const [o] = decideAll([tat], 0, [p], [cost]);
        const part = { name: p.id, allowed: o.admits, limit: p.capacity, remaining: o.remaining, retryAfterMs: o.retryAfterMs, resetMs: o.resetMs, delayMs: o.admits ? o.delayMs : 0, emissionMs: p.emissionMs };
        const general = { allowed: o.admits, limit: p.capacity, remaining: o.remaining, retryAfterMs: Math.max(0, part.retryAfterMs), resetMs: Math.max(0, part.resetMs), delayMs: Math.max(0, part.delayMs), policies: [part], source: 'store', ...(o.blocked ? { blocked: true } : {}) };
        expect(summarize([p], [o])).toStrictEqual(general);
      }),
    );
  });
});
