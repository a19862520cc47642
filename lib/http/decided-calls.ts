import type { Verdict } from '../limiter-engine';
import type { RoutePlan } from '../limiter.registry';
import type { StoreEntry } from '../stores/limiter-store';

/** What the guard decided for one call, kept for the interceptor (hold, settle). */
export interface DecidedCall {
  readonly plan: RoutePlan;
  /** The decision enforced on the call, over the buckets not in dry-run. */
  readonly enforced?: Verdict;
  /** The shadow decision, over the buckets in dry-run. */
  readonly shadow?: Verdict;
  /** Plan bucket index of each entry of `enforced`, then of `shadow`. */
  readonly enforcedBuckets: readonly number[];
  readonly shadowBuckets: readonly number[];
  /** Set once the interceptor has taken the call, so that a second interceptor does nothing. */
  intercepted: boolean;
}

// Keyed by LimitedCall.marker: held weakly, gone with the request.
const decided = new WeakMap<object, DecidedCall>();

/** The guard's decision for the call with this marker, if it made one. */
export function decidedCall(marker: object): DecidedCall | undefined {
  return decided.get(marker);
}

/** Records the guard's decision for the call with this marker. */
export function recordDecision(marker: object, call: DecidedCall): void {
  decided.set(marker, call);
}

/** The entries of a request split by dry-run: each group decided on its own. */
export function splitEntries(entries: readonly StoreEntry[], shadow: readonly boolean[]) {
  const enforcedBuckets: number[] = [];
  const shadowBuckets: number[] = [];
  shadow.forEach((dry, i) => (dry ? shadowBuckets : enforcedBuckets).push(i));
  return {
    enforcedBuckets,
    shadowBuckets,
    enforced: enforcedBuckets.map((i) => entries[i]),
    shadowed: shadowBuckets.map((i) => entries[i]),
  };
}

/** The enforced verdict of the call with this marker (the HTTP request): when its slot is, for tests and diagnostics. */
export function verdictOf(marker: object): Verdict | undefined {
  return decided.get(marker)?.enforced;
}
