import { summarize } from '../../../lib/core/decision';
import { decideAll } from '../../../lib/core/gcra';
import { toGcraPolicy } from '../../../lib/core/policy';
import { rateLimitHeaders, sfLabels } from '../../../lib/transports/rate-limit-headers';

/** An sf-item list of RateLimit values: `"name";r=<integer>` and, when present, `;t=<integer>`. */
const RATE_LIMIT_ITEM = /^"[^"]*";r=\d+(;t=\d+)?$/;

describe('RateLimit header for a cost that can never pass (retryAfterMs: Infinity)', () => {
  it.each(['token-bucket', 'leaky-bucket'] as const)('%s: stays a valid structured field (t, when sent, a non-negative integer), and no Retry-After', (shape) => {
    const policy = toGcraPolicy({ id: 'p', shape, mode: 'reject', rate: 1, capacity: 5 });
    const decision = summarize([policy], decideAll([undefined], 0, [policy], [6]));
    expect(decision).toMatchObject({ allowed: false, retryAfterMs: Infinity });
    const headers = rateLimitHeaders(decision, sfLabels([shape]));
    expect(headers['Retry-After']).toBeUndefined();
    for (const item of headers.RateLimit.split(', ')) expect(item).toMatch(RATE_LIMIT_ITEM);
  });
});
