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
});
