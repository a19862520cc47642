/**
 * Asserts a refusal's `retryAfterMs` is a wait the client can act on: more than 0 (refused now)
 * and at most `maxMs` (one token's interval for the 1/s buckets of these specs).
 */
export function expectRetryAfterWithin(retryAfterMs: unknown, maxMs = 1000): void {
  expect(retryAfterMs).toBeGreaterThan(0);
  expect(retryAfterMs).toBeLessThanOrEqual(maxMs);
}
