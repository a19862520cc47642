import type { Clock } from '../core/clock';
import type { ClaimResult, EnqueueResult } from '../core/fair-queue';
import type { PolicyOutcome } from '../core/gcra';
import type { GcraPolicy } from '../core/policy';

/** One policy applied to one key at one cost: a request is decided over a list of these. */
export interface StoreEntry {
  readonly policy: GcraPolicy;
  readonly key: string;
  readonly cost: number;
  /**
   * The latest slot (tat) this process holds on the bucket, when it holds one the store may have
   * lost: the request is decided on `floored(tat, floor)`, or in a store other processes share on
   * `reseeded` (see lib/core/gcra). Set by the engine.
   */
  readonly floor?: number;
}

/** A store's answer: the per-policy outcomes, and the store's own `now` they were computed at. */
export interface StoreVerdict {
  /** The time the store decided at, on its own clock (the injected clock, or Redis server time). */
  readonly now: number;
  readonly outcomes: readonly PolicyOutcome[];
}

/**
 * A waiting request's place in the line of a fair bucket (`fairBy`): a ticket in its tenant's line,
 * which commits a slot of the bucket only when it is its turn (see lib/core/fair-queue).
 */
export interface FairEntry {
  /** The bucket: a policy in wait mode. Its `tat` is the bucket's, shared with requests that are not fair. */
  readonly policy: GcraPolicy;
  readonly key: string;
  /** Unique per request or job: enqueueing it again returns its place. */
  readonly ticket: string;
  readonly tenant: string;
  /** The tenant's share of slots and places, relative to the others' (positive, finite). */
  readonly weight: number;
  readonly cost: number;
  /** How long past its estimate the ticket waits for its holder to claim it before it can be dropped, in ms. */
  readonly graceMs: number;
  /** As `StoreEntry.floor`: the latest slot this process holds on the bucket, for a store that lost its state. */
  readonly floor?: number;
}

/** A fair bucket's answer, and the store's own `now` it was computed at. */
export interface FairVerdict<R> {
  readonly now: number;
  readonly result: R;
}

/** Where a store answers a call made through `decideInto`: one of the two, once. */
export interface StoreCall<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * Where the GCRA state lives. Every store keeps one number per (policy, key) and decides with
 * lib/core, so all stores agree; the contract suite in test/contract runs against each of them.
 * Also the DI token: inject `LimiterStore` to reach the store in use.
 */
export abstract class LimiterStore {
  /** Decides a request over all its entries atomically: charged to every entry, or to none. */
  abstract decide(entries: readonly StoreEntry[]): Promise<StoreVerdict>;

  /**
   * `decide` without a promise, defined by a store that decides in this process without I/O (the
   * memory store): the guard then answers synchronously, and the store is used without a deadline
   * or circuit breaker, which only a store that can fail or hang needs. Network stores leave it out.
   */
  decideNow?(entries: readonly StoreEntry[]): StoreVerdict;

  /**
   * `decideNow` of one entry without a floor, answering its outcome alone (decided at `localClock`'s
   * now): the guard's short path, which reads nothing else of a verdict, so none is made. Defined
   * with `decideNow` or not at all.
   */
  decideOneNow?(policy: GcraPolicy, key: string, cost: number): PolicyOutcome;

  /**
   * `decideOneNow` of a key the store holds, when it admits the request: charges it and answers
   * how far ahead of now its state then is (the outcome's `resetMs`, all an admitted request's
   * headers need). Otherwise (a new key, a refusal) does nothing and answers NaN: ask
   * `decideOneNow`. The guard's short path, which so makes no object for an admitted request.
   * Defined with `decideOneNow` or not at all.
   */
  chargeHeldNow?(policy: GcraPolicy, key: string, cost: number): number;

  /**
   * `decide` answered through `call` instead of a promise of the store's own (optional): the layer
   * that puts a deadline on store calls then makes the one promise its caller gets, rather than a
   * second one around the store's (RedisStore: a decision at one call in flight is its promises).
   */
  decideInto?(entries: readonly StoreEntry[], call: StoreCall<StoreVerdict>): void;

  /** The clock a store that decides in this process decides by: an engine on the same clock then reads none of its own. */
  get localClock(): Clock | undefined {
    return undefined;
  }

  /** The entries' state now, nothing charged: each outcome's `admits` says whether a request of that entry's cost would be admitted. */
  abstract peek(entries: readonly StoreEntry[]): Promise<StoreVerdict>;

  /**
   * Gives back a reservation that will not be used, entry by entry, where it is still the last
   * one (`reservedTats[i]` is the `tat` its decision returned).
   */
  abstract cancel(entries: readonly StoreEntry[], reservedTats: readonly number[]): Promise<void>;

  /**
   * Corrects the charge of an admitted request once it has run, entry by entry: `deltas[i]` is its
   * actual cost minus `entries[i].cost` (0: nothing happens). Charges are always taken; refunds only
   * where they cannot create a burst (see `settle` in lib/core/gcra). `reservedTats[i]` is the
   * `tat` its decision returned.
   */
  abstract settle(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): Promise<void>;

  /** Forgets the state of `key` under the policy with id `policyId`. */
  abstract reset(policyId: string, key: string): Promise<void>;

  /**
   * Resolves once the store can take calls (a network store: its connection is ready), so that
   * start-up can wait for it; a store that is always ready leaves it out.
   */
  ready?(): Promise<void>;

  /** Takes a place in a fair bucket's line (lib/core/fair-queue `enqueue`); a store without fair buckets leaves it out. */
  enqueue?(entry: FairEntry): Promise<FairVerdict<EnqueueResult>>;

  /** The holder of a ticket is back: commits its slot if it is its turn (lib/core/fair-queue `claim`). */
  claim?(entry: FairEntry, lookaheadMs: number): Promise<FairVerdict<ClaimResult>>;

  /** The holder gives its place up (lib/core/fair-queue `leave`): `result` says whether it held one. */
  leave?(entry: FairEntry): Promise<FairVerdict<boolean>>;

  /**
   * The part of the store that decides `key`, for a store whose parts fail apart (a Redis Cluster
   * master, by its address): each part gets its own circuit breaker, so one dead part does not send
   * the others' keys to the failure policy. A store that fails as a whole leaves it out.
   */
  failureDomain?(key: string): string | undefined;

  /** The parts `failureDomain` can name now (a part no longer among them has handed its keys on). */
  failureDomains?(): readonly string[];

  /** Releases what the store holds (connections it opened); called on application shutdown. */
  async close(): Promise<void> {}

  /**
   * Calls `listener` whenever the store becomes reachable again (a reconnect), so that a circuit
   * breaker can probe it at once instead of at its next scheduled probe. Stores that cannot tell
   * never call it.
   */
  onReachable(listener: () => void): void {
    void listener;
  }
}
