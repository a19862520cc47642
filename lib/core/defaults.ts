import type { StoreErrorPolicy } from './decision';

/**
 * Every default nest-limiter applies, in one table: the module options, the stores and the
 * failure layer read them from here, so a default is written once and documented once.
 */
export const DEFAULTS = Object.freeze({
  /** The most (policy, key) states the memory store holds at once. */
  maxKeys: 1_000_000,
  /** The longest a store call may take before the failure policy decides instead, in ms. */
  storeTimeoutMs: 200,
  /** How long start-up waits for a store the module created to connect, in ms. */
  readyTimeoutMs: 2000,
  /** Store failures in a row that open the circuit breaker. */
  breakerFailures: 3,
  /** How often an open breaker lets one call probe the store, in ms. */
  breakerProbeMs: 1000,
  /** What a request gets when the store cannot decide. */
  onStoreError: 'local' as StoreErrorPolicy,
  /** How many processes share the limits (the local fallback takes 1/n of each). */
  instances: 1,
  /** Whether limited responses carry the RateLimit headers. */
  headers: true,
  /** Whether limits are only observed (shadow mode) rather than enforced. */
  dryRun: Object.freeze({ enabled: false, headers: false }),
});
