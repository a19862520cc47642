import type { Clock } from '../core/clock';
import { LimiterStoreError } from '../errors/limiter-store.error';
import { LimiterStore, type StoreEntry, type StoreVerdict } from '../stores/limiter-store';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker';

/** How long a store may take, and when to stop asking it. */
export interface GuardOptions extends BreakerOptions {
  /** The longest a store call may take before the request is decided without it, in ms. @default 200 */
  timeoutMs?: number;
}

/**
 * A store behind a deadline and a circuit breaker: every call answers within `timeoutMs` or fails
 * with LimiterStoreError, and a store that keeps failing is not called at all until a probe
 * succeeds. A call that timed out may still complete on the store later (a hung Redis that wakes
 * up runs what it had received): that can only charge a bucket once more, never admit anyone.
 */
export class GuardedStore extends LimiterStore {
  private readonly breaker: CircuitBreaker;
  private readonly timeoutMs: number;
  private lastError?: Error;

  constructor(
    readonly inner: LimiterStore,
    private readonly clock: Clock,
    options: GuardOptions,
    onHealth: (state: BreakerState, error?: Error) => void,
  ) {
    super();
    this.timeoutMs = options.timeoutMs ?? 200;
    this.breaker = new CircuitBreaker(clock, options, (state) => onHealth(state, state === 'open' ? this.lastError : undefined));
    inner.onReachable(() => this.breaker.probeNow());
  }

  decide(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return this.guard(() => this.inner.decide(entries));
  }

  peek(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return this.guard(() => this.inner.peek(entries));
  }

  cancel(entries: readonly StoreEntry[], reservedTats: readonly number[]): Promise<void> {
    return this.guard(() => this.inner.cancel(entries, reservedTats));
  }

  settle(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): Promise<void> {
    return this.guard(() => this.inner.settle(entries, reservedTats, deltas));
  }

  reset(policyId: string, key: string): Promise<void> {
    return this.guard(() => this.inner.reset(policyId, key));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async guard<T>(call: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) throw new LimiterStoreError('LIMITER_STORE_CIRCUIT_OPEN', 'The store is failing; its circuit breaker is open.', { cause: this.lastError });
    const deadline = new AbortController();
    const attempt = new Promise<T>((resolve) => resolve(call()));
    const timeout = this.clock.sleep(this.timeoutMs, deadline.signal).then(() => {
      throw new LimiterStoreError('LIMITER_STORE_TIMEOUT', `The store did not answer within ${this.timeoutMs} ms.`);
    });
    timeout.catch(() => undefined);
    attempt.catch(() => undefined);
    try {
      const result = await Promise.race([attempt, timeout]);
      this.breaker.success();
      return result;
    } catch (error) {
      this.lastError = error as Error;
      this.breaker.failure();
      throw error instanceof LimiterStoreError ? error : new LimiterStoreError('LIMITER_STORE_UNAVAILABLE', `The store failed: ${(error as Error)?.message}`, { cause: error });
    } finally {
      deadline.abort();
    }
  }
}
