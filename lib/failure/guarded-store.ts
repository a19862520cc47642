import type { Clock } from '../core/clock';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { LimiterStoreError } from '../errors/limiter-store.error';
import { LimiterStore, type StoreEntry, type StoreVerdict } from '../stores/limiter-store';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker';
import { DeadlineGroup, type GuardedCall } from './deadline-group';
import { DEFAULTS } from '../core/defaults';

/** How long a store may take, and when to stop asking it. */
export interface GuardOptions extends BreakerOptions {
  /** The longest a store call may take before the request is decided without it, in ms. @default 200 */
  timeoutMs?: number;
}

/** Why a group's timer is stopped early (a reason given, so no DOMException is made per group). */
const ANSWERED = Object.freeze({ answered: true });

/**
 * A store behind a deadline and a circuit breaker: every call answers within `timeoutMs` or fails
 * with LimiterStoreError, and a store that keeps failing is not called at all until a probe
 * succeeds. Calls started in the same tick share one deadline (they go to the store together, as
 * one batch on RedisStore), and count as one failure however many of them fail. A call that timed
 * out may still complete on the store later (a hung Redis that wakes up runs what it had
 * received): that can only charge a bucket once more, never admit anyone. A LimiterConfigError (a
 * programming error, not an outage) passes through untouched and is not counted.
 */
export class GuardedStore extends LimiterStore {
  private readonly breaker: CircuitBreaker;
  private readonly timeoutMs: number;
  private lastError?: Error;
  /** The group calls started now join; closed at the end of the tick. */
  private open?: DeadlineGroup;
  private readonly closeGroup = (): void => {
    this.open = undefined;
  };

  constructor(
    readonly inner: LimiterStore,
    private readonly clock: Clock,
    options: GuardOptions,
    onHealth: (state: BreakerState, error?: Error) => void,
  ) {
    super();
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.storeTimeoutMs;
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

  private guard<T>(call: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) return Promise.reject(new LimiterStoreError('LIMITER_STORE_CIRCUIT_OPEN', 'The store is failing; its circuit breaker is open.', { cause: this.lastError }));
    let attempt: Promise<T>;
    try {
      attempt = call();
    } catch (error) {
      attempt = Promise.reject(error);
    }
    const group = this.group();
    return new Promise<T>((resolve, reject) => {
      const pending: GuardedCall = { settled: false, reject };
      group.calls.push(pending);
      group.unanswered++;
      attempt.then(
        (value) => {
          if (this.answered(group, pending)) return;
          this.breaker.success();
          resolve(value);
        },
        (error: unknown) => {
          if (this.answered(group, pending)) return;
          reject(this.failure(group, error));
        },
      );
    });
  }

  /** The open group, or a new one with its deadline running. */
  private group(): DeadlineGroup {
    let group = this.open;
    if (!group) {
      const created = (group = this.open = new DeadlineGroup());
      process.nextTick(this.closeGroup);
      this.clock.sleep(this.timeoutMs, created.timer.signal).then(
        () => this.expire(created),
        () => undefined,
      );
    }
    return group;
  }

  /** Marks a call answered by the store; true if the deadline answered it first. */
  private answered(group: DeadlineGroup, pending: GuardedCall): boolean {
    if (pending.settled) return true;
    pending.settled = true;
    if (--group.unanswered === 0) {
      group.timer.abort(ANSWERED);
      if (this.open === group) this.open = undefined;
    }
    return false;
  }

  /** The deadline: every call of the group still unanswered fails, counted as one failure. */
  private expire(group: DeadlineGroup): void {
    if (this.open === group) this.open = undefined;
    const error = new LimiterStoreError('LIMITER_STORE_TIMEOUT', `The store did not answer within ${this.timeoutMs} ms.`);
    let late = false;
    for (const pending of group.calls) {
      if (pending.settled) continue;
      pending.settled = true;
      late = true;
      pending.reject(error);
    }
    group.unanswered = 0;
    if (late) this.countFailure(group, error);
  }

  /** The error a failed call rejects with; a store failure counts once per group. */
  private failure(group: DeadlineGroup, error: unknown): unknown {
    if (error instanceof LimiterConfigError) return error;
    this.countFailure(group, error as Error);
    return error instanceof LimiterStoreError ? error : new LimiterStoreError('LIMITER_STORE_UNAVAILABLE', `The store failed: ${(error as Error)?.message}`, { cause: error });
  }

  private countFailure(group: DeadlineGroup, error: Error): void {
    this.lastError = error;
    if (group.failed) return;
    group.failed = true;
    this.breaker.failure();
  }
}
