import { LimiterError } from './limiter.error';

/** Why a store could not decide: it failed, it did not answer in time, or its breaker is open. */
export type StoreErrorCode = 'LIMITER_STORE_UNAVAILABLE' | 'LIMITER_STORE_TIMEOUT' | 'LIMITER_STORE_CIRCUIT_OPEN';

/**
 * A store (Redis) that could not decide. Never reaches an HTTP client: the route's `onStoreError`
 * turns it into a decision (let through, refuse with 503, or decide locally).
 */
export class LimiterStoreError extends LimiterError {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
