import type { Verdict } from '../engine/limiter-engine';
import type { RoutePlan } from '../limits/limiter.registry';
import type { DryRun } from '../limits/resolve-bucket';

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
const deferred = new WeakMap<object, RoutePlan>();

/** The guard's decision for the call with this marker, if it made one. */
export function decidedCall(marker: object): DecidedCall | undefined {
  return decided.get(marker);
}

/** Records the guard's decision for the call with this marker. */
export function recordDecision(marker: object, call: DecidedCall): void {
  decided.set(marker, call);
}

/** Leaves the call with this marker to be decided by the interceptor, after every guard (its user is not known yet). */
export function deferDecision(marker: object, plan: RoutePlan): void {
  deferred.set(marker, plan);
}

/** The plan of a call the guard left to the interceptor, unless it has been decided since. */
export function deferredPlan(marker: object): RoutePlan | undefined {
  return decided.has(marker) ? undefined : deferred.get(marker);
}

/** A route's limits grouped by dry-run, each group decided on its own; worked out once per route. */
export interface RouteGroups {
  /** Plan bucket indexes of the enforced limits, and of those in dry-run. */
  readonly enforcedBuckets: readonly number[];
  readonly shadowBuckets: readonly number[];
  readonly enforcedLabels: readonly string[];
  readonly shadowLabels: readonly string[];
  /** Whether a dry-run limit asks for the RateLimit headers. */
  readonly shadowHeaders: boolean;
}

/** Groups a route's limits by their dry-run setting (a limit without one takes the module's). */
export function groupsOf(plan: RoutePlan, moduleDryRun: DryRun): RouteGroups {
  const dryRuns = plan.buckets.map((b) => b.dryRun ?? moduleDryRun);
  const enforcedBuckets: number[] = [];
  const shadowBuckets: number[] = [];
  dryRuns.forEach((d, i) => (d.enabled ? shadowBuckets : enforcedBuckets).push(i));
  return {
    enforcedBuckets,
    shadowBuckets,
    enforcedLabels: enforcedBuckets.map((i) => plan.labels[i]),
    shadowLabels: shadowBuckets.map((i) => plan.labels[i]),
    shadowHeaders: dryRuns.some((d) => d.enabled && d.headers),
  };
}

/** The enforced verdict of the call with this marker (the HTTP request): when its slot is, for tests and diagnostics. */
export function verdictOf(marker: object): Verdict | undefined {
  return decided.get(marker)?.enforced;
}
