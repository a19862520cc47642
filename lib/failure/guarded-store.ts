import type { Clock } from '../core/clock';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { LimiterStoreError } from '../errors/limiter-store.error';
import type { ClaimResult, EnqueueResult } from '../core/fair-queue';
import { LimiterStore, type FairEntry, type FairVerdict, type StoreEntry, type StoreVerdict } from '../stores/limiter-store';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker';
import { DeadlineGroup, type GuardedCall } from './deadline-group';
import { DeadlineWatch } from './deadline-watch';
import { WatchedCall, type CallWatcher } from './watched-call';
import { DEFAULTS } from '../core/defaults';

/** How long a store may take, and when to stop asking it. */
export interface GuardOptions extends BreakerOptions {
  /** The longest a store call may take before the request is decided without it, in ms. @default 200 */
  timeoutMs?: number;
}

/** The one part of a store that fails as a whole. */
const WHOLE = '';

/**
 * Told of every change of a breaker: `state` is the breaker of the part named `domain` (undefined
 * for a store that fails as a whole), `overall` the store's as a whole: `closed` when every part
 * decides, `open` when none does, `half-open` in between (being probed, or some parts down).
 */
export type BreakerListener = (state: BreakerState, error: Error | undefined, domain: string | undefined, overall: BreakerState) => void;

/**
 * A store behind a deadline and a circuit breaker: every call answers within `timeoutMs` or fails
 * with LimiterStoreError, and a store that keeps failing is not called at all until a probe
 * succeeds. Calls started in the same tick share one deadline (they go to the store together, as
 * one batch on RedisStore), and count as one failure however many of them fail. A call that timed
 * out may still complete on the store later (a hung Redis that wakes up runs what it had
 * received): that can only charge a bucket once more, never admit anyone. A LimiterConfigError (a
 * programming error, not an outage) passes through untouched and is not counted.
 * A store whose parts fail apart (a Redis Cluster: one master per slot range) has a breaker per
 * part (`failureDomain`), so a dead master sends its own keys to the failure policy while the
 * others go on deciding; a part the store no longer routes to (its slots failed over to a replica)
 * is retired, and said to be back.
 */
export class GuardedStore extends LimiterStore implements CallWatcher {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly timeoutMs: number;
  private lastError?: Error;
  /** The group calls started now join; closed at the end of the tick. */
  private open?: DeadlineGroup;
  private readonly closeGroup = (): void => {
    this.open = undefined;
  };
  private readonly deadlines: DeadlineWatch;

  constructor(
    readonly inner: LimiterStore,
    private readonly clock: Clock,
    private readonly options: GuardOptions,
    private readonly onHealth: BreakerListener,
  ) {
    super();
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.storeTimeoutMs;
    this.deadlines = new DeadlineWatch(clock, this.timeoutMs, (group) => this.expire(group));
    inner.onReachable(() => {
      for (const breaker of this.breakers.values()) breaker.probeNow();
    });
  }

  decide(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    const inner = this.inner;
    const domain = this.domainOf(entries);
    if (inner.decideInto === undefined) return this.guard(domain, () => inner.decide(entries));
    const call = this.watched<StoreVerdict>(domain);
    if (call === undefined) return this.circuitOpen();
    try {
      inner.decideInto(entries, call);
    } catch (error) {
      call.reject(error);
    }
    // A call the store answered at once (its refusal cache) needs no deadline.
    if (!call.settled) this.join(call);
    return call.promise;
  }

  peek(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return this.guard(this.domainOf(entries), () => this.inner.peek(entries));
  }

  cancel(entries: readonly StoreEntry[], reservedTats: readonly number[]): Promise<void> {
    return this.guard(this.domainOf(entries), () => this.inner.cancel(entries, reservedTats));
  }

  settle(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): Promise<void> {
    return this.guard(this.domainOf(entries), () => this.inner.settle(entries, reservedTats, deltas));
  }

  enqueue(entry: FairEntry): Promise<FairVerdict<EnqueueResult>> {
    const inner = this.inner;
    if (!inner.enqueue) return Promise.reject(withoutFairLines(inner));
    return this.guard(this.domainOf([entry]), () => inner.enqueue!(entry));
  }

  claim(entry: FairEntry, lookaheadMs: number): Promise<FairVerdict<ClaimResult>> {
    const inner = this.inner;
    if (!inner.claim) return Promise.reject(withoutFairLines(inner));
    return this.guard(this.domainOf([entry]), () => inner.claim!(entry, lookaheadMs));
  }

  leave(entry: FairEntry): Promise<FairVerdict<boolean>> {
    const inner = this.inner;
    if (!inner.leave) return Promise.reject(withoutFairLines(inner));
    return this.guard(this.domainOf([entry]), () => inner.leave!(entry));
  }

  reset(policyId: string, key: string): Promise<void> {
    return this.guard(this.inner.failureDomain?.(key) ?? WHOLE, () => this.inner.reset(policyId, key));
  }

  close(): Promise<void> {
    this.deadlines.stop();
    return this.inner.close();
  }

  private domainOf(entries: readonly StoreEntry[]): string {
    return (entries.length > 0 && this.inner.failureDomain?.(entries[0].key)) || WHOLE;
  }

  /** The breaker of one part of the store, made on its first call (a new part: the topology changed, so parts no longer routed to are retired). */
  private breakerOf(domain: string): CircuitBreaker {
    let breaker = this.breakers.get(domain);
    if (breaker) return breaker;
    if (domain !== WHOLE) this.retireParts();
    breaker = new CircuitBreaker(this.clock, this.options, (state) => this.moved(domain, state));
    this.breakers.set(domain, breaker);
    return breaker;
  }

  /** Forgets the breakers of parts the store routes nothing to any more; one that was not closed is said to be closed. */
  private retireParts(): void {
    const live = this.inner.failureDomains?.();
    if (!live) return;
    for (const [domain, breaker] of this.breakers) {
      if (live.includes(domain)) continue;
      this.breakers.delete(domain);
      if (breaker.current !== 'closed') this.onHealth('closed', undefined, domain, this.overall());
    }
  }

  private moved(domain: string, state: BreakerState): void {
    this.onHealth(state, state === 'open' ? this.lastError : undefined, domain === WHOLE ? undefined : domain, this.overall());
  }

  /** The store as a whole: closed when every part is, open when every part is. */
  private overall(): BreakerState {
    let closed = 0;
    let open = 0;
    for (const breaker of this.breakers.values()) {
      if (breaker.current === 'closed') closed++;
      else if (breaker.current === 'open') open++;
    }
    if (closed === this.breakers.size) return 'closed';
    return open === this.breakers.size ? 'open' : 'half-open';
  }

  /** A store call made through its promise, under a deadline. */
  private guard<T>(domain: string, call: () => Promise<T>): Promise<T> {
    const watched = this.watched<T>(domain);
    if (watched === undefined) return this.circuitOpen();
    let attempt: Promise<T>;
    try {
      attempt = call();
    } catch (error) {
      attempt = Promise.reject(error);
    }
    this.join(watched);
    attempt.then(
      (value) => watched.resolve(value),
      (error: unknown) => watched.reject(error),
    );
    return watched.promise;
  }

  /** A call to watch, or none if the breaker of its part refuses it. */
  private watched<T>(domain: string): WatchedCall<T> | undefined {
    const breaker = this.breakerOf(domain);
    return breaker.allow() ? new WatchedCall<T>(this, domain, breaker) : undefined;
  }

  private circuitOpen(): Promise<never> {
    return Promise.reject(new LimiterStoreError('LIMITER_STORE_CIRCUIT_OPEN', 'The store is failing; its circuit breaker is open.', { cause: this.lastError }));
  }

  /** Puts a call under the deadline of the open group, or of a new one. */
  private join(call: GuardedCall): void {
    let group = this.open;
    if (!group) {
      group = this.open = new DeadlineGroup(this.clock.now() + this.timeoutMs);
      process.nextTick(this.closeGroup);
      this.deadlines.watch(group);
    }
    call.group = group;
    group.calls.push(call);
    group.unanswered++;
  }

  /** Marks a call answered by the store (CallWatcher); true if the deadline answered it first. */
  answered(call: GuardedCall): boolean {
    if (call.settled) return true;
    call.settled = true;
    const group = call.group;
    if (group !== undefined && --group.unanswered === 0) {
      // Its calls are let go at once (the watch drops the group when it next wakes up), one by one:
      // cutting an array's length runs in V8's runtime (60 ns against 10 for a pop, hot), and at
      // low traffic every group holds one call.
      const { calls } = group;
      while (calls.length > 0) calls.pop();
      if (this.open === group) this.open = undefined;
    }
    return false;
  }

  /** The error a failed call rejects with (CallWatcher); a store failure counts once per group and part. */
  failure(call: GuardedCall, error: unknown): unknown {
    if (error instanceof LimiterConfigError) return error;
    this.countFailure(call.group, call.domain, error as Error);
    return error instanceof LimiterStoreError ? error : new LimiterStoreError('LIMITER_STORE_UNAVAILABLE', `The store failed: ${(error as Error)?.message}`, { cause: error });
  }

  /** The deadline: every call of the group still unanswered fails, counted as one failure. */
  private expire(group: DeadlineGroup): void {
    if (this.open === group) this.open = undefined;
    const error = new LimiterStoreError('LIMITER_STORE_TIMEOUT', `The store did not answer within ${this.timeoutMs} ms.`);
    for (const pending of group.calls) {
      if (pending.settled) continue;
      pending.timeOut(error);
      this.countFailure(group, pending.domain, error);
    }
    group.unanswered = 0;
  }

  /** Counts a failure of a part of the store: once per group (a call answered at once has none, and counts alone). */
  private countFailure(group: DeadlineGroup | undefined, domain: string, error: Error): void {
    this.lastError = error;
    if (group !== undefined) {
      group.failed ??= new Set();
      if (group.failed.has(domain)) return;
      group.failed.add(domain);
    }
    this.breakers.get(domain)?.failure();
  }
}

/** A store of the user's that has no fair lines: a programming error, not an outage. */
function withoutFairLines(store: LimiterStore): LimiterConfigError {
  return new LimiterConfigError(store.constructor.name, 'fairBy', 'a store with fair lines (enqueue, claim, leave: MemoryStore and RedisStore have them)', undefined);
}
