import { summarize } from '../../../lib/core/decision';
import { decideAll } from '../../../lib/core/gcra';
import { toGcraPolicy } from '../../../lib/core/policy';
import { rateLimitHeaders, sfLabels, toSeconds } from '../../../lib/transports/rate-limit-headers';

const bucket = (id: string, rate: number, capacity: number) => toGcraPolicy({ id, shape: 'token-bucket', mode: 'reject', rate, capacity });

describe('RateLimit headers (draft-ietf-httpapi-ratelimit-headers-10)', () => {
  it('describes an allowed request: q = capacity, w = seconds to refill, r = remaining, t = seconds to the next unit', () => {
    const policy = bucket('p', 10, 20);
    const decision = summarize([policy], decideAll([undefined], 0, [policy], [1]));
    expect(rateLimitHeaders(decision, sfLabels(['catalog']))).toEqual({
      'RateLimit-Policy': '"catalog";q=20;w=2',
      RateLimit: '"catalog";r=19;t=1',
    });
  });

  it('adds Retry-After on a refusal, rounded up and never earlier than t', () => {
    const policy = bucket('p', 0.4, 1);
    const first = decideAll([undefined], 0, [policy], [1]);
    const refused = summarize([policy], decideAll([first[0].tat], 100, [policy], [1]));
    const headers = rateLimitHeaders(refused, sfLabels(['slow']));
    expect(refused.retryAfterMs).toBe(2400);
    expect(headers['Retry-After']).toBe('3');
    expect(headers.RateLimit).toBe('"slow";r=0;t=3');
  });

  it('lists every policy, in order, and escapes names as sf-strings', () => {
    const a = bucket('a', 1, 5);
    const b = bucket('b', 1, 2);
    const decision = summarize([a, b], decideAll([undefined, undefined], 0, [a, b], [1, 1]));
    const headers = rateLimitHeaders(decision, sfLabels(['per "second"', 'tight\\é']));
    expect(headers['RateLimit-Policy']).toBe('"per \\"second\\"";q=5;w=5, "tight\\\\?";q=2;w=2');
    expect(headers.RateLimit).toBe('"per \\"second\\"";r=4;t=1, "tight\\\\?";r=1;t=1');
  });

  it('rounds seconds up, without turning float noise into an extra second', () => {
    expect(toSeconds(1)).toBe(1);
    expect(toSeconds(1000)).toBe(1);
    expect(toSeconds(1000.0000000001)).toBe(1);
    expect(toSeconds(1001)).toBe(2);
    expect(toSeconds(0)).toBe(0);
  });
});
