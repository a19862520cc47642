import type { StoreCall } from '../stores/limiter-store';
import type { CircuitBreaker } from './circuit-breaker';
import type { DeadlineGroup, GuardedCall } from './deadline-group';

/** What a watched call reports to: the GuardedStore that made it. */
export interface CallWatcher {
  /** Marks the call answered by the store; true if its deadline answered it first (the store's answer is then dropped). */
  answered(call: GuardedCall): boolean;
  /** Counts a store failure of the call, and returns the error its caller gets. */
  failure(call: GuardedCall, error: unknown): unknown;
}

/**
 * One store call under a deadline, and the one promise its caller gets: the store answers it
 * (`resolve`, `reject`: a store with `decideInto` calls them itself, any other store's promise is
 * passed on to them) or the deadline does (`timeOut`), whichever comes first; the other is dropped.
 */
export class WatchedCall<T> implements StoreCall<T>, GuardedCall {
  settled = false;
  group?: DeadlineGroup;
  readonly promise: Promise<T>;
  private resolveCaller!: (value: T) => void;
  private rejectCaller!: (error: unknown) => void;

  constructor(
    private readonly watcher: CallWatcher,
    readonly domain: string,
    private readonly breaker: CircuitBreaker,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveCaller = resolve;
      this.rejectCaller = reject;
    });
  }

  resolve(value: T): void {
    if (this.watcher.answered(this)) return;
    // Answered before it was put under a deadline, it never reached the store (a refusal it remembers).
    if (this.group === undefined) this.breaker.unreached();
    else this.breaker.success();
    this.resolveCaller(value);
  }

  reject(error: unknown): void {
    if (this.watcher.answered(this)) return;
    this.rejectCaller(this.watcher.failure(this, error));
  }

  /** The deadline's answer: the store took too long. */
  timeOut(error: unknown): void {
    this.settled = true;
    this.rejectCaller(error);
  }
}
