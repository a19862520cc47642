import type { Decision, StoreErrorPolicy } from '../core/decision';
import type { FairEntry, LimiterStore, StoreEntry } from '../stores/limiter-store';

// What the engine hands its callers: a decided request, a place in a fair line, how a wait ended,
// and who is deciding.

/** A decided request: what the caller sees, and what it takes to hold, give back or settle its slot. */
export interface Reservation {
  readonly decision: Decision;
  /** The entries as `store` holds them (for the local fallback, with each policy scaled to this instance's share). */
  readonly entries: readonly StoreEntry[];
  /** The state each entry was left in: a cancel gives the slot back only while this is still the last. */
  readonly tats: readonly number[];
  /** The time the store decided at, on its own clock (Redis server time for the Redis store). */
  readonly now: number;
  /** The local clock's time at which an admitted request's slot comes. */
  readonly departAt: number;
  /** The store that holds the reservation (the shared one, or the local fallback). */
  readonly store: LimiterStore;
}

/** A request in a fair bucket's line (`fairBy`), waiting for its turn. */
export interface FairTurn {
  /** Admitted to the line (`delayMs`: when its turn is expected), or refused a place. */
  readonly decision: Decision;
  readonly entry: FairEntry;
  /** When to claim the turn, in ms from the decision. */
  readonly estimateMs: number;
  /** The failure policy's reservation, when the store could not take the request into its line: what to hold instead. */
  readonly fallback?: Reservation;
  readonly context: DecideContext;
}

/** How a fair request's wait ended. */
export interface TurnOutcome {
  /** Admitted: its slot has come (`slot`), or (`laterMs`) its turn is further away than the caller waits. Refused: its tenant lost its place and has no share left, or the store is down and the failure policy refuses. */
  readonly decision: Decision;
  /** When its slot began, on the store's clock: set once it has come. */
  readonly slot?: number;
  /** The slot it held, once it has come: what a settle corrects. */
  readonly reservation?: Reservation;
  /** Set when its turn is expected further away than `holdMs`: the place is kept, the caller comes back for it. */
  readonly laterMs?: number;
}

/** Who is deciding and what to do if the store cannot: for events and the failure policy. */
export interface DecideContext {
  /** `Controller.method` or `LimiterService.<method>`. */
  readonly where: string;
  /** What to do when the store fails: the route's policy, resolved once (the module's when the route sets none). */
  readonly onStoreError: StoreErrorPolicy;
  /** A shadow decision: reported with `dryRun: true`, and the caller will not enforce it. */
  readonly dryRun?: boolean;
}
